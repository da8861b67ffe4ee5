"""The webhook endpoints on FastAPI: verify, convert, hand to the sink, answer.

``make_router(settings, sink)`` gives an APIRouter with ``POST /webhooks/<provider>``
for each configured provider (an unconfigured one is 404). The sink receives the
events of one request; when it returns, the provider gets 200. When it raises,
the provider gets 503 and retries later, so nothing is lost; events carry
idempotency keys, so a retry that overlaps a success changes nothing. Requests
that are unsigned get 401, wrongly signed 403, and nothing reaches the sink.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bounceback.sources import SourceEvent
from bounceback.sources.webhooks import WebhookError, mailgun, postmark, sendgrid, ses
from bounceback.sources.webhooks.sns import SnsVerifier

Sink = Callable[[list[SourceEvent]], None]
log = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024  # SendGrid batches are the largest; far below this


@dataclass(slots=True)
class WebhookSettings:
    """Which providers are on, with their credentials. None: the endpoint is off."""

    ses_verifier: SnsVerifier | None = None
    ses_confirm: ses.Confirmer = ses.default_confirmer
    sendgrid_public_key: str | None = None
    sendgrid_max_age: float | None = None
    mailgun_signing_key: str | None = None
    mailgun_max_age: float = mailgun.DEFAULT_MAX_AGE
    # Tokens used: in memory unless ``serve`` gives the database's (tokens.LedgerTokens).
    mailgun_tokens: mailgun.TokenStore = field(default_factory=mailgun.ReplayGuard)
    postmark_user: str | None = None
    postmark_password: str | None = None


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
    sendgrid_key = (
        sendgrid.load_public_key(settings.sendgrid_public_key)
        if settings.sendgrid_public_key
        else None
    )

    async def deliver(provider: str, events: list[SourceEvent]) -> JSONResponse:
        if events:
            try:
                await run_in_threadpool(sink, events)
            except Exception:  # the store failed: let the provider retry
                log.exception("webhook %s: sink failed for %d events", provider, len(events))
                return _answer(503, error="temporarily unable to store events")
        return _answer(200, accepted=len(events))

    @router.post("/ses")
    async def ses_endpoint(request: Request) -> JSONResponse:
        verifier = settings.ses_verifier
        if verifier is None:
            return _answer(404, error="SES webhook not configured")
        try:
            body = await _body(request)
            events = await run_in_threadpool(ses.handle, body, verifier, settings.ses_confirm)
        except _TooLarge:
            return _too_large()
        except WebhookError as exc:
            return _answer(exc.status, error=str(exc))
        return await deliver("ses", events)

    @router.post("/sendgrid")
    async def sendgrid_endpoint(request: Request) -> JSONResponse:
        if sendgrid_key is None:
            return _answer(404, error="SendGrid webhook not configured")
        try:
            body = await _body(request)
            sendgrid.verify(
                sendgrid_key,
                body,
                request.headers.get(sendgrid.SIGNATURE_HEADER),
                request.headers.get(sendgrid.TIMESTAMP_HEADER),
                max_age=settings.sendgrid_max_age,
            )
            events, errors = sendgrid.parse(body)
        except _TooLarge:
            return _too_large()
        except WebhookError as exc:
            return _answer(exc.status, error=str(exc))
        for err in errors:
            log.warning("webhook sendgrid: skipped %s: %s", err.ref, err.error)
        return await deliver("sendgrid", events)

    @router.post("/mailgun")
    async def mailgun_endpoint(request: Request) -> JSONResponse:
        key = settings.mailgun_signing_key
        if not key:
            return _answer(404, error="Mailgun webhook not configured")
        tokens = settings.mailgun_tokens
        try:
            payload = mailgun.parse(await _body(request))
            token, expires_at = mailgun.verify(payload, key, max_age=settings.mailgun_max_age)
            events = mailgun.events(payload)
        except _TooLarge:
            return _too_large()
        except WebhookError as exc:
            return _answer(exc.status, error=str(exc))
        try:  # claimed before the events go anywhere: one token, one body, ever
            await run_in_threadpool(mailgun.claim, tokens, token, expires_at)
        except WebhookError as exc:
            return _answer(exc.status, error=str(exc))
        except Exception:  # the token table is out of reach: Mailgun retries later
            log.exception("webhook mailgun: cannot record the token")
            return _answer(503, error="temporarily unable to store events")
        answer = await deliver("mailgun", events)
        if answer.status_code != 200:  # not stored: Mailgun's retry must get through
            await run_in_threadpool(tokens.release, token)
        return answer

    @router.post("/postmark")
    async def postmark_endpoint(request: Request) -> JSONResponse:
        if settings.postmark_user is None or settings.postmark_password is None:
            return _answer(404, error="Postmark webhook not configured")
        try:
            postmark.verify_basic(
                request.headers.get("authorization"),
                settings.postmark_user,
                settings.postmark_password,
            )
            events = postmark.events(postmark.parse(await _body(request)))
        except _TooLarge:
            return _too_large()
        except WebhookError as exc:
            answer = _answer(exc.status, error=str(exc))
            if exc.status == 401:
                answer.headers["WWW-Authenticate"] = 'Basic realm="bounceback"'
            return answer
        return await deliver("postmark", events)

    return router
