"""/api/v1/bounces/{id}/raw and /bounces/{id}/explanation: a bounce's source and its why.

The raw message is the one kept when the bounce was processed (events from logs and
webhooks have none: 404). The explanation reads it again with the rules in force
now, says what was found where and which rule decided, and beside it the verdict
stored at the time (``changed_since``: whether today's rules would decide otherwise).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from bounceback.ledger import bounce_source
from bounceback.ledger.rules_store import current_rules
from bounceback.web.api.bounces import EventId
from bounceback.web.api.deps import ApiError, ctx_of
from bounceback.web.api.schemas import Explanation
from bounceback.web.context import WebContext


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["bounces"])

    @r.get(
        "/bounces/{event_id}/raw",
        response_class=Response,
        summary="The raw message a bounce came from",
        responses={
            200: {"content": {"message/rfc822": {"schema": {"type": "string"}}}},
            404: {"description": "No such bounce, or no raw message was kept for it."},
        },
    )
    def raw(event_id: EventId, request: Request) -> Response:
        ledger = ctx_of(request).ledger
        try:
            data = bounce_source.raw_message(ledger, event_id)
        except bounce_source.EventNotFound as exc:
            raise ApiError(404, str(exc)) from exc
        if data is None:
            raise ApiError(404, f"no raw message was kept for bounce {event_id}")
        return Response(
            data,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="bounce-{event_id}.eml"'},
        )

    @r.get(
        "/bounces/{event_id}/explanation",
        response_model=Explanation,
        summary="What was found where in a bounce, and which rule decided why",
        responses={404: {"description": "No such bounce."}},
    )
    async def explanation(event_id: EventId, request: Request) -> dict[str, Any]:
        ledger = ctx_of(request).ledger

        def build() -> dict[str, Any]:
            return bounce_source.explanation(ledger, event_id, current_rules(ledger))

        try:
            return await run_in_threadpool(build)
        except bounce_source.EventNotFound as exc:
            raise ApiError(404, str(exc)) from exc

    return r
