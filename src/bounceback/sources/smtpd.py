"""The SMTP receiver for the return-path domains (aiosmtpd).

Bounces are mailed to the envelope sender of the message that failed, so the MX of
the return-path domain sees every bounce first. This receiver accepts RCPT only for
signed VERP addresses that verify (or a configured catch-all), so forged or guessed
bounces are refused at the door with 550 and never reach the ledger.

Durability: the 250 after DATA is sent only once the ledger has committed the message.
Messages wait for the committer in a bounded queue; a full queue answers 451 4.3.2
(the sending MTA retries later) instead of holding work in memory that could be lost.
The committer gathers what is waiting into one ledger batch (one transaction), run in a
thread so the event loop keeps serving other clients.

Each message is parsed as soon as it arrives, in a thread of its own (``Prepare``: the
ledger's, under the parse deadline, in a child process), and joins the commit queue
only then: a message that is slow to parse holds up its own reply and no other (it is
quarantined as too slow once past the deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bounceback.logfmt import kv
from bounceback.match.verp import VerpError, VerpSigner, trusted_unsigned_send_id
from bounceback.model import RawMessage
from bounceback.sources.options import NOT_A_KEY

if TYPE_CHECKING:
    from bounceback.ledger.sink import BatchSink, PreparedMessage

log = logging.getLogger(__name__)
# aiosmtpd logs each command and "Connection lost" (also after a normal QUIT) at INFO on
# this logger; we log one line per message instead, and keep its warnings.
LIBRARY_LOGGER = "mail.log"

# Outcome names from the ledger; "error" means nothing was committed.
Sink = Callable[[list[RawMessage]], list[str]]
# Told the code of every 4xx/5xx reply sent (550 unknown address, 552 size, 451 busy...).
OnReject = Callable[[str], None]
# Parses one message ahead of its batch (the sink then uses what it found).
Prepare = Callable[[RawMessage], None]
PARSE_THREADS = 4


@dataclass(slots=True)
class SmtpdConfig:
    # Set through the file's ``listen = "HOST:PORT"``.
    host: str = field(default="127.0.0.1", metadata=NOT_A_KEY)
    port: int = field(default=2525, metadata=NOT_A_KEY)
    hostname: str = "bounceback"  # the name in the greeting
    domains: Sequence[str] = ()  # return-path domains; default: the VERP domain
    catch_all: Sequence[str] = ()  # addresses accepted without a token
    # From [verp] accept_unsigned: CiviCRM's unsigned id.<n>@ accepted on this domain.
    unsigned_domain: str = field(default="", metadata=NOT_A_KEY)
    max_message_bytes: int = 10_000_000
    tls_cert: Path | None = None
    tls_key: Path | None = None
    require_tls: bool = False
    max_connections_per_client: int = 20
    rate_per_client: float = 500.0  # messages per second, sustained
    rate_burst: int = 1000
    max_pending: int = 500  # messages waiting for the committer before 451 4.3.2
    batch_size: int = 200
    timeout: float = 300.0


# Per connection, for its lifetime: an MTA keeps a connection for many messages, so
# the transaction commands get room; the rest stop a client that loops.
CALL_LIMITS = {"MAIL": 100_000, "RCPT": 1_000_000, "DATA": 100_000, "RSET": 100_000, "*": 200}


class LedgerSink:
    """Commits a batch through the ledger (a Sink: one outcome name per message, in
    order); ``prepare`` parses a message ahead, in any thread, for the batch to use."""

    def __init__(self, ledger: BatchSink) -> None:
        self.ledger = ledger
        self._ready: dict[int, PreparedMessage] = {}  # id(raw): until its batch commits
        self._lock = threading.Lock()

    def prepare(self, raw: RawMessage) -> None:
        item = self.ledger.prepare(raw.ref or "-", raw)
        with self._lock:
            self._ready[id(raw)] = item

    def __call__(self, raws: list[RawMessage]) -> list[str]:
        with self._lock:
            ready = [self._ready.pop(id(raw), None) for raw in raws]
        try:
            items = []
            for i, (raw, item) in enumerate(zip(raws, ready, strict=True)):
                prepared = item or self.ledger.prepare(str(i), raw)
                prepared.label = str(i)
                items.append(prepared)
            found = {outcome.label: outcome.outcome for outcome in self.ledger.commit(items)}
        except Exception:  # the database is down: nothing is acknowledged
            log.exception("ledger batch of %d failed", len(raws))
            return ["error"] * len(raws)
        return [found.get(str(i), "error") for i in range(len(raws))]


def ledger_sink(ledger: BatchSink) -> LedgerSink:
    """Commit a batch through the ledger; one outcome name per message, in order."""
    return LedgerSink(ledger)


class _Bucket:
    """A token bucket per client address: ``rate`` per second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> bool:
        now = time.monotonic()
        tokens, last = self.tokens.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.tokens[client] = (tokens, now)
            return False
        self.tokens[client] = (tokens - 1.0, now)
        return True


class Committer:
    """Bounded queue in front of the sink; batches are committed one at a time."""

    def __init__(
        self, sink: Sink, max_pending: int, batch_size: int, prepare: Prepare | None = None
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.queue: asyncio.Queue[tuple[RawMessage, asyncio.Future[str]]] = asyncio.Queue(
            maxsize=max_pending
        )
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bb-smtpd-commit")
        self.task: asyncio.Task[None] | None = None
        self.inflight = 0  # messages in the batch being committed
        self.prepare: Prepare | None = prepare or getattr(sink, "prepare", None)
        self.parser = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="bb-smtpd-parse")
        self.preparing: set[asyncio.Task[None]] = set()  # messages being parsed

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def offer(self, raw: RawMessage) -> asyncio.Future[str] | None:
        """A future for the outcome, or None when the queue is full (back-pressure)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        if self.prepare is None:
            try:
                self.queue.put_nowait((raw, future))
            except asyncio.QueueFull:
                return None
            return future
        if self.queue.qsize() + len(self.preparing) >= self.max_pending:
            return None  # the place in the queue is kept while the message is parsed
        task = loop.create_task(self._prepare(raw, future))
        self.preparing.add(task)
        task.add_done_callback(self.preparing.discard)
        return future

    async def _prepare(self, raw: RawMessage, future: asyncio.Future[str]) -> None:
        assert self.prepare is not None
        try:
            await asyncio.get_running_loop().run_in_executor(self.parser, self.prepare, raw)
        except Exception:  # the batch prepares it again; it may fail there for good
            log.exception("parsing %s ahead failed", raw.ref)
        self.queue.put_nowait((raw, future))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.inflight = len(batch)
            try:
                results = await loop.run_in_executor(
                    self.executor, self.sink, [raw for raw, _ in batch]
                )
            except Exception:
                log.exception("sink failed")
                results = ["error"] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # the client may have gone; the commit stands
                    future.set_result(result)
            self.inflight = 0

    async def stop(self) -> None:
        """Finish what is queued and being committed (its clients get their 250), then stop."""
        while not self.queue.empty() or self.inflight or self.preparing:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # let the handlers answer
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.executor.shutdown(wait=True)
        self.parser.shutdown(wait=True)


class Handler:
    """The aiosmtpd hooks: who may send, to whom, and where DATA goes."""

    def __init__(self, config: SmtpdConfig, signer: VerpSigner | None, committer: Committer):
        self.config = config
        self.signer = signer
        self.committer = committer
        domains = list(config.domains) or ([signer.domain] if signer is not None else [])
        self.domains = {d.lower().strip(".") for d in domains}
        self.catch_all = {a.lower() for a in config.catch_all}
        self.bucket = _Bucket(config.rate_per_client, config.rate_burst)
        self.counter = 0

    def accepts(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        if address in self.catch_all:
            return True
        domain = address.rpartition("@")[2]
        if trusted_unsigned_send_id(address, self.config.unsigned_domain) is not None:
            return True
        if domain not in self.domains or self.signer is None:
            return False
        try:
            self.signer.verify(address)
        except VerpError:
            return False
        return True

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.bucket.take(_client(session)):
            return "450 4.7.1 Too many messages from you, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.accepts(address):
            log.info(kv("smtp_rcpt_refused", client=_client(session), rcpt=address, reply=550))
            return "550 5.1.1 No such bounce address here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.counter += 1
        raw = RawMessage(
            data=bytes(data),
            source="smtp",
            ref=f"smtp:{_client(session)}:{self.counter}",
            received_at=dt.datetime.now(dt.UTC),
            envelope_to=[a.strip("<>") for a in envelope.rcpt_tos],
        )
        future = self.committer.offer(raw)
        outcome = "busy" if future is None else await future
        if outcome == "busy":
            reply = "451 4.3.2 Busy, try again later"
        elif outcome == "error":
            reply = "451 4.3.0 Not stored, try again later"
        else:
            reply = "250 2.0.0 OK stored"
        log.info(
            kv(
                "smtp_message",
                client=_client(session),
                mail_from=envelope.mail_from or "<>",
                rcpt=",".join(raw.envelope_to),
                outcome=outcome,
                reply=reply[:3],
                bytes=len(raw.data),
            )
        )
        return reply


def _client(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)


class Receiver(SMTP):
    """aiosmtpd's SMTP with a per-client connection limit and RFC 3463 codes for size."""

    connections: dict[str, int]
    limit: int
    on_reject: OnReject | None = None
    # RFC 5321 says 1000, but a bounce from a sloppy MTA is still worth keeping.
    line_length_limit = 8192

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            client = _client(self.session) if self.session is not None else "?"
            self.connections[client] = self.connections.get(client, 0) + 1

    def connection_lost(self, error: Exception | None) -> None:
        if self.session is not None:
            client = _client(self.session)
            left = self.connections.get(client, 1) - 1
            if left > 0:
                self.connections[client] = left
            else:
                self.connections.pop(client, None)
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        client = _client(self.session) if self.session is not None else "?"
        if self.connections.get(client, 0) > self.limit:
            await self.push("421 4.7.0 Too many connections from you, try again later")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    async def push(self, status: Any) -> None:
        # aiosmtpd's size replies lack the enhanced code senders look for.
        if isinstance(status, str) and status.startswith("552 Error"):
            status = "552 5.3.4 Message too big"
        if self.on_reject is not None and isinstance(status, str) and status[:1] in "45":
            code = status[:3]
            if code.isdigit():
                self.on_reject(code)
        await super().push(status)


def tls_context(config: SmtpdConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(config.tls_cert), str(config.tls_key or config.tls_cert))
    return context


async def start_server(
    config: SmtpdConfig,
    sink: Sink,
    signer: VerpSigner | None,
    on_reject: OnReject | None = None,
    prepare: Prepare | None = None,
) -> tuple[asyncio.Server, Committer]:
    """Listen on config.host:port (0 picks a free port); returns the server and committer.

    ``prepare``: parses each message as it arrives (default: the sink's own ``prepare``)."""
    library = logging.getLogger(LIBRARY_LOGGER)
    if library.level == logging.NOTSET:  # a level set on purpose is kept
        library.setLevel(logging.WARNING)
    committer = Committer(sink, config.max_pending, config.batch_size, prepare)
    committer.start()
    handler = Handler(config, signer, committer)
    context = tls_context(config)
    connections: dict[str, int] = {}

    def factory() -> Receiver:
        smtp = Receiver(
            handler,
            data_size_limit=config.max_message_bytes,
            hostname=config.hostname,
            ident="bounceback",
            tls_context=context,
            require_starttls=config.require_tls and context is not None,
            timeout=config.timeout,
            command_call_limit=CALL_LIMITS,
        )
        smtp.connections = connections
        smtp.limit = config.max_connections_per_client
        smtp.on_reject = on_reject
        return smtp

    server = await asyncio.get_running_loop().create_server(factory, config.host, config.port)
    return server, committer


def run_smtpd(config: SmtpdConfig, ledger: BatchSink) -> None:
    """Serve until SIGTERM/SIGINT; the messages being committed finish first."""

    async def main() -> None:
        server, committer = await start_server(config, ledger_sink(ledger), ledger.signer)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        port = server.sockets[0].getsockname()[1]
        log.info("bounceback smtpd listening on %s:%s", config.host, port)
        await stop.wait()
        server.close()
        await server.wait_closed()
        await committer.stop()

    asyncio.run(main())


class ReceiverThread:
    """The receiver on its own event loop in a thread (tests, benchmarks, embedding)."""

    def __init__(
        self,
        config: SmtpdConfig,
        sink: Sink,
        signer: VerpSigner | None,
        on_reject: OnReject | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self.config, self.sink, self.signer = config, sink, signer
        self.on_reject, self.prepare = on_reject, prepare
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._committer: Committer | None = None

    def start(self) -> ReceiverThread:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            start_server(self.config, self.sink, self.signer, self.on_reject, self.prepare),
            self.loop,
        )
        self._server, self._committer = future.result(timeout=10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            if self._committer is not None:
                await self._committer.stop()
            # Sessions still open end here, not as "Task was destroyed" warnings.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def __enter__(self) -> ReceiverThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
