"""The scripted remote (aiosmtpd), the odd-behaviour ports, and the DSN sink."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from .scenarios import BY_LOCAL_PART, BY_TAG, SINK_DOMAIN, Route, Stage


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].lower()


def _render(reply: str, rcpt: str = "", sender: str = "") -> str:
    return reply.replace("{rcpt}", f"<{rcpt}>").replace("{sender}", sender)


class ScriptedRemote:
    """Answers every recipient as its scenario says; accepts (and drops) the rest."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # Like real servers that put enhanced codes in replies, say so: Sendmail
        # ignores the codes in the text unless ENHANCEDSTATUSCODES was advertised.
        session.host_name = hostname
        return [*responses[:-1], "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        sc = BY_TAG.get(_local_part(address).removeprefix("sender-"))
        self.log.append(f"MAIL {address}")
        if sc is not None and sc.stage is Stage.MAIL:
            return _render(sc.reply, sender=address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        sc = BY_LOCAL_PART.get(_local_part(address))
        self.log.append(f"RCPT {address}")
        if sc is not None and sc.stage is Stage.RCPT:
            return _render(sc.reply, rcpt=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            sc = BY_LOCAL_PART.get(_local_part(rcpt))
            if sc is not None and sc.stage is Stage.DATA:
                self.log.append(f"DATA refused for {rcpt}")
                return _render(sc.reply, rcpt=rcpt)
        return "250 2.0.0 Ok: queued as SCRIPTED"


@dataclass
class Received:
    rcpt: str
    data: bytes
    at: float


class Sink:
    """Keeps every message delivered to the sender domain (the DSNs)."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not address.lower().endswith("@" + SINK_DOMAIN):
            return "550 5.1.1 not a sink address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append(Received(rcpt.lower(), data, time.time()))
        return "250 2.0.0 Ok: kept"

    def take(self) -> list[Received]:
        with self.lock:
            out, self.messages = self.messages, []
        return out


class _RawServer(threading.Thread):
    """A TCP port that sends a fixed banner (or nothing) and then waits or hangs up."""

    def __init__(self, host: str, port: int, banner: bytes, hang_up: bool) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(50)
        self.banner = banner
        self.hang_up = hang_up
        self.open: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.banner:
                with contextlib.suppress(OSError):
                    conn.sendall(self.banner)
            if self.hang_up:
                time.sleep(0.2)
                conn.close()
            else:
                self.open.append(conn)  # never answered; the MTA times out

    def close(self) -> None:
        self.sock.close()
        for c in self.open:
            c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Each failing destination gets its own loopback address: MTAs keep per-host state
# (Exim's connection reuse, OpenSMTPD's route errors), which must not mix a dead
# destination with the sink that takes the DSNs.
HOSTS = {
    Route.REMOTE: "127.0.0.1",
    Route.SEPARATE: "127.0.0.5",
    Route.GREETING: "127.0.0.2",
    Route.REFUSED: "127.0.0.3",
    Route.SILENT: "127.0.0.4",
}
SINK_HOST = "127.0.0.1"


@dataclass
class Ports:
    remote: int
    separate: int
    greeting: int
    refused: int
    silent: int
    sink: int

    def for_route(self, route: Route) -> int:
        return {
            Route.REMOTE: self.remote,
            Route.SEPARATE: self.separate,
            Route.GREETING: self.greeting,
            Route.REFUSED: self.refused,
            Route.SILENT: self.silent,
        }[route]

    def destinations(self) -> dict[str, tuple[str, int]]:
        """Domain -> (address, port) for every domain the MTAs relay to."""
        out = {r.value: (HOSTS[r], self.for_route(r)) for r in Route}
        out[SINK_DOMAIN] = (SINK_HOST, self.sink)
        return out


class World:
    """Everything on loopback the MTAs talk to."""

    def __init__(self) -> None:
        from .scenarios import SCENARIOS

        greet = next(s for s in SCENARIOS if s.stage is Stage.GREETING).reply
        # Hold every socket until all ports are chosen (a port closed at once can come
        # back from the next bind), and keep the refused one bound but never
        # listening: connections to it are refused and nothing else can take it.
        held: dict[Route | None, socket.socket] = {}
        for route, host in [*HOSTS.items(), (None, SINK_HOST)]:
            held[route] = socket.socket()
            held[route].bind((host, 0))
        number = {route: int(s.getsockname()[1]) for route, s in held.items()}
        self.ports = Ports(
            remote=number[Route.REMOTE],
            separate=number[Route.SEPARATE],
            greeting=number[Route.GREETING],
            refused=number[Route.REFUSED],
            silent=number[Route.SILENT],
            sink=number[None],
        )
        self._refused_holder = held.pop(Route.REFUSED)
        for s in held.values():
            s.close()
        self.remote = ScriptedRemote()
        self.sink = Sink()
        self._controllers: list[Any] = [
            Controller(
                self.remote,
                hostname=HOSTS[Route.REMOTE],
                port=self.ports.remote,
                server_hostname="mx.remote.example.net",
                ident="ScriptedRemote",
            ),
            Controller(
                self.remote,
                hostname=HOSTS[Route.SEPARATE],
                port=self.ports.separate,
                server_hostname="mx.delta.example.net",
                ident="ScriptedRemote",
            ),
            Controller(
                self.sink,
                hostname=SINK_HOST,
                port=self.ports.sink,
                server_hostname="mx.sink.example.org",
                ident="Sink",
            ),
        ]
        self._raw = [
            _RawServer(
                HOSTS[Route.GREETING], self.ports.greeting, (greet + "\r\n").encode(), hang_up=True
            ),
            _RawServer(HOSTS[Route.SILENT], self.ports.silent, b"", hang_up=False),
        ]

    def start(self) -> None:
        for c in self._controllers:
            c.start()
        for r in self._raw:
            r.start()

    def stop(self) -> None:
        for c in self._controllers:
            c.stop()
        for r in self._raw:
            r.close()
        self._refused_holder.close()
