"""``bounceback serve``: the HTTP app, the SMTP receiver and the pollers in one process.

Each mailbox source is polled in its own thread every ``poll_interval`` seconds;
each log is drained in its own thread; the SMTP receiver runs on its own event loop
(ReceiverThread); uvicorn serves the webhooks, ``/health`` and ``/metrics``. SIGTERM
or SIGINT sets one stop event: the HTTP server stops accepting, the pollers finish the
batch in hand (every message in it is committed and acted on) and the receiver
commits what it has accepted, then the process exits 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

from bounceback import is_compiled
from bounceback.config import ConfigError
from bounceback.ledger.retention import METRICS_HELP as RETENTION_HELP
from bounceback.ledger.retention import run_daily
from bounceback.ledger.service import Ledger, LedgerError
from bounceback.logfmt import kv
from bounceback.model import RawMessage, SourceEvent
from bounceback.serve_config import LogSpec, MailboxSpec, ServeConfig
from bounceback.sources.mailboxes import MailboxSource, PollResult
from bounceback.sources.registry import Log, Mailbox, lookup

log = logging.getLogger("bounceback.serve")

Part = Literal["smtp", "pollers", "http"]
PARTS: tuple[Part, ...] = ("smtp", "pollers", "http")


class Metrics:
    """Counters and per-source health, shared by all threads; Prometheus text out."""

    HELP: ClassVar[dict[str, str]] = {
        "bounceback_messages_total": "Messages and events stored, by source and outcome.",
        "bounceback_poll_errors_total": "Polls or log reads that failed, by source.",
        "bounceback_smtp_messages_total": "SMTP messages: accepted (250) or rejected (4xx).",
        "bounceback_smtp_rejections_total": "SMTP replies 4xx/5xx by code (550, 552, 451, ...).",
        **RETENTION_HELP,
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self.health: dict[str, dict[str, Any]] = {}

    def add(self, name: str, amount: int = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + amount

    def outcomes(self, source: str, outcomes: Iterable[str]) -> None:
        for outcome in outcomes:
            self.add("bounceback_messages_total", source=source, outcome=outcome)

    def polled(self, source: str, error: str | None = None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            entry = self.health.setdefault(source, {"last_poll": None, "last_error": None})
            entry["last_poll"] = now
            entry["ok"] = error is None
            if error is not None:
                entry["last_error"] = error
                entry["last_error_at"] = now
        if error is not None:
            self.add("bounceback_poll_errors_total", source=source)

    def health_json(self) -> dict[str, Any]:
        with self._lock:
            sources = {name: dict(entry) for name, entry in self.health.items()}
        return {"ok": all(e.get("ok", True) for e in sources.values()), "sources": sources}

    def text(self) -> str:
        with self._lock:
            counts = sorted(self._counts.items())
        lines: list[str] = []
        for name, help_text in self.HELP.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for (metric, labels), value in counts:
                if metric == name:
                    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                    lines.append(f"{name}{{{inner}}} {value}" if inner else f"{name} {value}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def open_mailbox(spec: MailboxSpec) -> MailboxSource:
    """The source object for a mailbox spec (a missing Maildir is created)."""
    source = lookup(spec.kind)
    if not isinstance(source, Mailbox):
        raise ConfigError(f"sources.{spec.kind}: not a mailbox")
    return source.open(spec.config)


@dataclass(slots=True)
class _Worker:
    name: str
    thread: threading.Thread


class Server:
    """The parts chosen by ``only`` (all by default); ``run`` blocks until stopped."""

    def __init__(self, settings: ServeConfig, ledger: Ledger, only: Part | None = None) -> None:
        self.settings, self.ledger = settings, ledger
        self.parts = {only} if only else set(PARTS)
        self.metrics = Metrics()
        self.stop_event = threading.Event()
        self._workers: list[_Worker] = []
        self._receiver: Any = None
        self._http: Any = None

    # --- mailbox and log pollers ------------------------------------------------------
    def _poll_mailbox(self, spec: MailboxSpec) -> None:
        source: MailboxSource | None = None
        while not self.stop_event.is_set():
            try:
                if source is None:
                    source = open_mailbox(spec)
                # The stop event is checked between batches: SIGTERM ends a long
                # poll after the batch in hand is committed and acted on.
                result = source.poll(self.ledger, stop=self.stop_event)
                self._count_poll(spec.name, result)
                if result.fetched:
                    log.info(
                        kv(
                            "poll",
                            source=spec.name,
                            fetched=result.fetched,
                            stopped=result.stopped,
                            busy=result.busy,
                            **result.summary.as_dict(),
                        )
                    )
                # IMAP with IDLE returns as soon as new mail arrives; the others sleep.
                source.wait(self.settings.poll_interval, stop=self.stop_event)
                continue
            except Exception as exc:  # one bad poll must not end the poller
                self.metrics.polled(spec.name, f"{type(exc).__name__}: {exc}")
                log.warning(
                    kv("poll_error", source=spec.name, error=f"{type(exc).__name__}: {exc}")
                )
                if source is not None:
                    _close_quietly(source)
                    source = None
            self.stop_event.wait(self.settings.poll_interval)
        if source is not None:
            _close_quietly(source)

    def _count_poll(self, name: str, result: PollResult) -> None:
        summary = result.summary.as_dict()
        named = {"duplicates": "duplicate", "errors": "error"}
        for key in ("matched", "unmatched", "ignored", "quarantined", "filed", *named):
            outcome = named.get(key, key)
            self.metrics.add(
                "bounceback_messages_total", summary[key], source=name, outcome=outcome
            )
        self.metrics.polled(name, None if not result.left else f"{result.left} left")

    def _tail_log(self, spec: LogSpec) -> None:
        from bounceback.sources.logs import drain

        source = lookup(spec.kind)
        if not isinstance(source, Log):
            raise ConfigError(f"sources.{spec.kind}: not a log")
        parser = source.parser(spec.config)
        tail = spec.config.reader()
        while not self.stop_event.is_set():
            try:
                # One batch at a time: the stop event is checked between batches.
                result = drain(tail, parser, self._counting_sink(spec.name), max_batches=1)
                self.metrics.polled(spec.name)
                if result.lines:
                    log.info(kv("tail", source=spec.name, lines=result.lines, events=result.events))
                for problem in result.errors[:5]:
                    log.warning(
                        kv("log_line_error", source=spec.name, ref=problem.ref, error=problem.error)
                    )
                if result.lines:
                    continue  # more may be waiting: read on before sleeping
            except Exception as exc:
                self.metrics.polled(spec.name, f"{type(exc).__name__}: {exc}")
                log.warning(
                    kv("tail_error", source=spec.name, error=f"{type(exc).__name__}: {exc}")
                )
            self.stop_event.wait(self.settings.poll_interval)

    def _counting_sink(self, source: str) -> Callable[[list[SourceEvent]], None]:
        """The ledger's sink (store all or raise), counting outcomes for /metrics."""

        def sink(events: list[SourceEvent]) -> None:
            outcomes = self.ledger.store_events(events)
            failed = [o for o in outcomes if o.outcome == "error"]
            if failed:
                raise LedgerError(f"{len(failed)} events not stored: {failed[0].error}")
            self.metrics.outcomes(source, (o.outcome for o in outcomes))

        return sink

    # --- SMTP -------------------------------------------------------------------------
    def _start_smtp(self) -> None:
        from bounceback.sources.smtpd import ReceiverThread, ledger_sink

        config = self.settings.smtpd
        assert config is not None
        inner = ledger_sink(self.ledger)

        def sink(raws: list[RawMessage]) -> list[str]:
            results = inner(raws)
            self.metrics.outcomes("smtp", results)
            for result in results:
                verdict = "rejected" if result == "error" else "accepted"
                self.metrics.add("bounceback_smtp_messages_total", result=verdict)
            return results

        def rejected(code: str) -> None:
            self.metrics.add("bounceback_smtp_rejections_total", code=code)

        config = dataclasses.replace(
            config, unsigned_domain=self.ledger.config.verp.unsigned_domain
        )
        receiver = ReceiverThread(
            config, sink, self.ledger.signer, on_reject=rejected, prepare=inner.prepare
        )
        try:
            receiver.start()
        except Exception:
            receiver.stop()  # ends its loop's tasks: a failed bind leaves nothing running
            raise
        self._receiver = receiver
        self.metrics.polled("smtp")
        log.info(kv("smtp_listening", host=config.host, port=self._receiver.port))

    # --- HTTP -------------------------------------------------------------------------
    def app(self) -> Any:
        from fastapi import FastAPI, Header
        from fastapi.responses import JSONResponse, PlainTextResponse

        app = FastAPI(title="bounceback", docs_url=None, redoc_url=None, openapi_url=None)
        if self.settings.webhooks is not None:
            from bounceback.ledger.webhook_tokens import LedgerTokens
            from bounceback.sources.webhooks.routes import make_router

            # Used tokens (Mailgun's) in the database: a restart must not forget them.
            engine = self.ledger.engine
            hooks = dataclasses.replace(
                self.settings.webhooks, tokens=lambda provider: LedgerTokens(engine, provider)
            )
            app.include_router(make_router(hooks, self._counting_sink("webhooks")))

        from bounceback.web import WebContext, mount

        ctx = WebContext(
            ledger=self.ledger,
            source_state=self.metrics.health_json,
            secure_cookies=self.settings.http_secure_cookies,
        )
        mount(app, ctx)

        @app.get("/health")
        def health() -> JSONResponse:
            return JSONResponse(self.metrics.health_json())

        @app.get("/metrics", response_model=None)
        def metrics(authorization: str = Header(default="")) -> PlainTextResponse | JSONResponse:
            # Counts per source tell who sends what: an API key (any scope) is needed.
            if not self._api_key_ok(authorization):
                return JSONResponse(
                    # The API's error body, so one client handles both.
                    {"error": "an API key is needed: Authorization: Bearer <key>", "status": 401},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="bounceback"'},
                )
            return PlainTextResponse(self.metrics.text(), media_type="text/plain; version=0.0.4")

        return app

    def _api_key_ok(self, authorization: str) -> bool:
        from bounceback.web.auth import verify_api_key

        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return verify_api_key(self.ledger, token.strip()) is not None

    def _start_http(self) -> None:
        import uvicorn

        assert self.settings.http_listen is not None
        host, port = self.settings.http_listen
        trusted = list(self.settings.http_trusted_proxies)
        # X-Forwarded-For is believed from the configured proxies only: uvicorn's own
        # default trusts loopback, where anyone on the host (or a proxy passing the
        # header through) could name any client and dodge the login throttle.
        config = uvicorn.Config(
            self.app(),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted or None,
        )
        self._http = uvicorn.Server(config)
        self._spawn("http", self._http.run)
        # uvicorn reports a failed bind by ending its thread: wait to know which it was.
        thread = self._workers[-1].thread
        while not self._http.started and thread.is_alive():
            thread.join(timeout=0.05)
        if not self._http.started:
            raise RuntimeError(f"http: cannot listen on {host}:{port}")
        log.info(kv("http_listening", host=host, port=port))

    # --- lifecycle --------------------------------------------------------------------
    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._workers.append(_Worker(name, thread))

    def start(self) -> None:
        s = self.settings
        only = next(iter(self.parts)) if len(self.parts) == 1 else None
        if nothing := nothing_to_run(s, only):
            raise RuntimeError(nothing)
        if "smtp" in self.parts and s.smtpd is not None:
            self._start_smtp()
        if "pollers" in self.parts:
            for mbox in s.mailboxes:
                self._spawn(mbox.name, partial(self._poll_mailbox, mbox))
            for logspec in s.logs:
                self._spawn(logspec.name, partial(self._tail_log, logspec))
            if self.ledger.config.retention.enabled:  # daily prune at a quiet hour
                rc = self.ledger.config.retention
                self._spawn(
                    "retention", partial(run_daily, self.ledger, rc, self.metrics, self.stop_event)
                )
        if "http" in self.parts and s.http_listen is not None:
            self._start_http()

    def stop(self) -> None:
        """Stop accepting, let the work in hand finish, then return."""
        self.stop_event.set()
        if self._http is not None:
            self._http.should_exit = True
        if self._receiver is not None:
            self._receiver.stop()
        for worker in self._workers:
            worker.thread.join(timeout=60)
            if worker.thread.is_alive():
                log.warning(kv("stop_timeout", part=worker.name))
        log.info(kv("stopped"))

    def run(self) -> None:
        """Start, wait for SIGTERM/SIGINT, stop cleanly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())
        try:
            self.start()
        except Exception:
            self.stop()
            raise
        # compiled=no: an editable install runs the parser as Python source (about 1.5x slower).
        compiled = "yes" if is_compiled() else "no"
        log.info(kv("started", parts=",".join(sorted(self.parts)), compiled=compiled))
        while not self.stop_event.wait(1.0):
            pass
        log.info(kv("stopping"))
        self.stop()


def nothing_to_run(settings: ServeConfig, only: Part | None = None) -> str:
    """Why the config gives ``serve`` (or its part ``only``) nothing to run; "" if it does."""
    configured = {
        "smtp": settings.smtpd is not None,
        "pollers": bool(settings.mailboxes or settings.logs),
        "http": settings.http_listen is not None,
    }
    wanted = [only] if only else list(PARTS)
    if any(configured[part] for part in wanted):
        return ""
    tables = {"smtp": "[smtpd]", "pollers": "[[sources.*]]", "http": "[http]"}
    return "nothing to run: the config sets up no " + " or ".join(
        f"{part} ({tables[part]})" for part in sorted(wanted)
    )


def _close_quietly(source: Any) -> None:
    try:
        source.close()
    except Exception as exc:
        log.debug(kv("close_error", error=exc))
