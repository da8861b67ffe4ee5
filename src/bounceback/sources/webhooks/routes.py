"""The webhook endpoints on FastAPI: verify, convert, hand to the sink, answer.

``make_router(settings, sink)`` gives an APIRouter with ``POST /webhooks/<name>``
for each provider in ``PROVIDERS`` (an unconfigured one is 404). The sink receives
the events of one request; when it returns, the provider gets 200. When it raises,
the provider gets 503 and retries later, so nothing is lost; events carry
idempotency keys, so a retry that overlaps a success changes nothing. Requests
that are unsigned get 401, wrongly signed 403, and nothing reaches the sink.

A provider is one module of this package and nothing else: its ``Provider``
(``webhooks.provider`` says what it answers), its ``Options`` (the config table),
its ``Settings`` (what ``configure`` makes of the table) and a ``KIND`` naming
them. ``PROVIDERS`` finds every module with a ``KIND`` by import, so its endpoint
and its ``[webhooks.<name>]`` table need no other edit.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bounceback.model import SourceEvent
from bounceback.sources import webhooks
from bounceback.sources.webhooks import WebhookError
from bounceback.sources.webhooks.provider import AnyKind, WebhookKind, WebhookProvider
from bounceback.sources.webhooks.settings import WebhookSettings

__all__ = ["MAX_BODY", "PROVIDERS", "WebhookSettings", "make_router"]

Sink = Callable[[list[SourceEvent]], None]
log = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024  # SendGrid batches are the largest; far below this


def discover() -> tuple[AnyKind, ...]:
    """The ``KIND`` of every module in the webhooks package, by ``order`` then name."""
    found: dict[str, AnyKind] = {}
    for info in pkgutil.iter_modules(webhooks.__path__, webhooks.__name__ + "."):
        if info.name == __name__ or info.name.rpartition(".")[2].startswith("_"):
            continue
        kind = getattr(importlib.import_module(info.name), "KIND", None)
        if not isinstance(kind, WebhookKind):
            continue  # a helper module (sns, settings...), not a provider
        if kind.name in found:
            raise RuntimeError(f"two webhook providers named {kind.name!r}")
        found[kind.name] = kind
    return tuple(sorted(found.values(), key=lambda kind: (kind.order, kind.name)))


# Every provider: one endpoint and one [webhooks.<name>] table each.
PROVIDERS: tuple[AnyKind, ...] = discover()


def _answer(status: int, **body: object) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _too_large() -> JSONResponse:
    # Connection: close: the server stops reading the rest rather than draining it.
    return JSONResponse(
        {"error": "body too large"}, status_code=413, headers={"Connection": "close"}
    )


async def _body(request: Request) -> bytes:
    """The body, read no further than MAX_BODY: a chunked body (no Content-Length) is
    refused as soon as it passes the limit, not once it has all been held."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(Exception):
    pass


def make_router(settings: WebhookSettings, sink: Sink, *, prefix: str = "/webhooks") -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["webhooks"])
    unknown = sorted(set(settings.providers) - {kind.name for kind in PROVIDERS})
    if unknown:  # a misspelt name would otherwise leave its endpoint silently off
        raise ValueError(f"no webhook provider named {', '.join(unknown)}")
    for kind in PROVIDERS:
        provider = kind.provider(_configured(kind, settings), settings)
        router.add_api_route(
            f"/{provider.name}",
            _endpoint(provider, sink),
            methods=["POST"],
            name=f"{provider.name}_endpoint",
        )
    return router


def _configured(kind: AnyKind, settings: WebhookSettings) -> object:
    """The kind's own settings (None: off), refused if they are another kind's."""
    config = settings.providers.get(kind.name)
    if config is not None and not isinstance(config, kind.settings):
        want, got = kind.settings, type(config)
        raise TypeError(
            f"webhook {kind.name}: expected {want.__module__}.{want.__qualname__},"
            f" got {got.__module__}.{got.__qualname__}"
        )
    return config


def _endpoint(
    provider: WebhookProvider, sink: Sink
) -> Callable[[Request], Awaitable[JSONResponse]]:
    name = provider.name

    def refuse(exc: WebhookError) -> JSONResponse:
        answer = _answer(exc.status, error=str(exc))
        if exc.status == 401 and provider.challenge:
            answer.headers["WWW-Authenticate"] = provider.challenge
        return answer

    async def endpoint(request: Request) -> JSONResponse:
        if not provider.enabled:
            return _answer(404, error=f"{provider.title} webhook not configured")
        try:
            provider.authenticate(request.headers)
            body = await _body(request)
            received = await run_in_threadpool(provider.receive, request.headers, body)
        except _TooLarge:
            return _too_large()
        except WebhookError as exc:
            return refuse(exc)
        for err in received.skipped:
            log.warning("webhook %s: skipped %s: %s", name, err.ref, err.error)
        once = received.once
        if once is not None:
            try:  # claimed before the events go anywhere: one token, one body, ever
                await run_in_threadpool(once.claim)
            except WebhookError as exc:
                return refuse(exc)
            except Exception:  # the token table is out of reach: the provider retries
                log.exception("webhook %s: cannot record the token", name)
                return _answer(503, error="temporarily unable to store events")
        answer = await _deliver(sink, name, received.events)
        if once is not None and answer.status_code != 200:  # not stored: let a retry in
            await run_in_threadpool(once.release)
        return answer

    return endpoint


async def _deliver(sink: Sink, provider: str, events: list[SourceEvent]) -> JSONResponse:
    if events:
        try:
            await run_in_threadpool(sink, events)
        except Exception:  # the store failed: let the provider retry
            log.exception("webhook %s: sink failed for %d events", provider, len(events))
            return _answer(503, error="temporarily unable to store events")
    return _answer(200, accepted=len(events))
