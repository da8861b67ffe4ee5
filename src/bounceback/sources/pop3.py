"""POP3 mailbox source: read every message, DELE only after the ledger committed it.

POP3 has no folders or flags: processed and quarantined messages (the ledger keeps
the quarantined bytes) are deleted; ignored/unmatched ones are kept or deleted as
configured. Deletions take effect at QUIT, which ends each batch: a connection lost
before it deletes nothing, and the next poll reads those messages again as
duplicates (the idempotency key), so nothing is lost or applied twice.

Kept messages are remembered by UIDL for the life of the source, so a poll does not
download them again.
"""

from __future__ import annotations

import base64
import contextlib
import poplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bounceback.model import Purpose, RawMessage
from bounceback.sources.mailboxes import (
    MailboxError,
    PollResult,
    Stop,
    first_outcomes,
    resolve,
    sleep,
    stopping,
    token_from_command,
)
from bounceback.sources.options import NOT_A_KEY

if TYPE_CHECKING:
    from bounceback.ledger.sink import Sink

__all__ = ["Pop3Config", "Pop3Source"]

DROPPED: tuple[type[BaseException], ...] = (OSError, EOFError, poplib.error_proto)
# poplib refuses lines over 2,048 bytes; mail in the wild has longer ones.
MAX_LINE = 1_000_000


class _LongLines(poplib.POP3):
    def auth_xoauth2(self, response: str) -> bytes:
        """SASL XOAUTH2 with an initial response (RFC 5034's AUTH)."""
        self.sock.sendall(f"AUTH XOAUTH2 {response}\r\n".encode("ascii"))
        line, _ = self._getline()
        if line == b"+" or line.startswith(b"+ "):  # an error challenge: answer empty
            self.sock.sendall(b"\r\n")
            line, _ = self._getline()
        if not line.startswith(b"+OK"):
            raise poplib.error_proto(line.decode("utf-8", "replace"))
        return line

    def _getline(self) -> tuple[bytes, int]:
        line = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise poplib.error_proto("line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets


class _Plain(_LongLines):
    pass


class _Ssl(_LongLines, poplib.POP3_SSL):
    pass


@dataclass(slots=True)
class Pop3Config:
    host: str
    user: str
    password: str = ""
    token_command: str | list[str] | None = None  # XOAUTH2 (AUTH XOAUTH2, RFC 5034 style)
    port: int | None = None  # 995 for ssl, 110 otherwise
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ssl_context: ssl.SSLContext | None = field(default=None, metadata=NOT_A_KEY)
    ignored: Literal["keep", "delete"] = "keep"
    batch_size: int = 100
    # bounces: apply bounces; activities: file human replies on contacts; both.
    purpose: Purpose = "bounces"
    timeout: float = 60.0
    max_reconnects: int = 3


class Pop3Source:
    def __init__(
        self, config: Pop3Config, connect: Callable[[Pop3Config], poplib.POP3] | None = None
    ) -> None:
        self.config = config
        self._connect_fn = connect or open_client
        self._kept: set[bytes] = set()  # UIDLs left on the server on purpose

    def close(self) -> None:
        """Nothing stays open between batches."""

    def wait(self, timeout: float, stop: Stop | None = None) -> bool:
        """POP3 cannot notify: sleep, then say "look again"."""
        return sleep(timeout, stop)

    def poll(self, ledger: Sink, stop: Stop | None = None) -> PollResult:
        """Sessions of up to batch_size messages until none is left or ``stop`` is set."""
        result = PollResult()
        failed: set[bytes] = set()
        attempts = 0
        while not stopping(stop, result):
            try:
                if not self._batch(ledger, result, failed):
                    return result
            except DROPPED as exc:
                attempts += 1
                result.reconnects += 1
                if attempts > self.config.max_reconnects:
                    raise MailboxError(f"POP3 {self.config.host}: {exc}") from exc
                time.sleep(min(0.2 * attempts, 2.0))
        return result

    def _batch(self, ledger: Sink, result: PollResult, failed: set[bytes]) -> bool:
        """One session: up to batch_size new messages, then QUIT. False when none left."""
        cfg = self.config
        server = self._connect_fn(cfg)
        try:
            wanted: list[tuple[int, bytes]] = []
            for line in server.uidl()[1]:
                text, uidl = line.split(b" ", 1)
                if uidl not in self._kept and uidl not in failed:
                    wanted.append((int(text), uidl))
                if len(wanted) >= cfg.batch_size:
                    break
            if not wanted:
                server.quit()
                return False
            pairs = []
            by_label: dict[str, tuple[int, bytes]] = {}
            for number, uidl in wanted:
                data = b"\r\n".join(server.retr(number)[1]) + b"\r\n"
                label = uidl.decode("ascii", "replace")
                ref = f"pop://{cfg.user}@{cfg.host}/;UIDL={label}"
                by_label[label] = (number, uidl)
                pairs.append((label, RawMessage(data=data, source="pop3", ref=ref)))
            result.fetched += len(pairs)
            outcomes = list(
                ledger.process(pairs, batch_size=len(pairs), purpose=self.config.purpose)
            )
            first = first_outcomes(ledger, outcomes)
            for outcome in outcomes:
                result.summary.add(outcome)
                number, uidl = by_label[outcome.label]
                where = resolve(outcome, first)
                if where is None:
                    failed.add(uidl)
                    result.left += 1
                elif where == "ignored" and cfg.ignored == "keep":
                    self._kept.add(uidl)
                    result.kept += 1
                else:
                    server.dele(number)
                    result.deleted += 1
            server.quit()  # the deletions happen here
            return True
        except BaseException:
            _close_quietly(server)
            raise


def _close_quietly(server: poplib.POP3) -> None:
    # Closing without QUIT: the server rolls back this session's DELEs.
    with contextlib.suppress(OSError):
        server.close()


def open_client(config: Pop3Config) -> poplib.POP3:
    use_ssl = config.security == "ssl"
    port = config.port or (995 if use_ssl else 110)
    context = config.ssl_context or ssl.create_default_context()
    try:
        server: _LongLines
        if use_ssl:
            server = _Ssl(config.host, port, timeout=config.timeout, context=context)
        else:
            server = _Plain(config.host, port, timeout=config.timeout)
            if config.security == "starttls":
                server.stls(context)
    except (OSError, poplib.error_proto) as exc:
        raise MailboxError(f"POP3 {config.host}:{port}: {exc}") from exc
    try:
        if config.token_command:
            token = token_from_command(config.token_command)
            server.auth_xoauth2(xoauth2(config.user, token))
        else:
            server.user(config.user)
            server.pass_(config.password)
    except poplib.error_proto as exc:
        _close_quietly(server)
        raise MailboxError(f"POP3 {config.host}: login failed: {exc}") from exc
    return server


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (Google's and Microsoft's documented format)."""
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return base64.b64encode(raw.encode()).decode("ascii")
