"""/api/v1/bounces: bounce events, filtered and paged newest first, and one event's fields.

(The raw message and the explanation of one bounce are in ``explain``.)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from bounceback.ledger import bounces
from bounceback.web.api.deps import (
    ApiError,
    Cursor,
    Limit,
    Page,
    cursor_int,
    cursor_key,
    cursor_time,
    naive_utc,
    page_of,
)
from bounceback.web.context import WebContext


class BounceItem(BaseModel):
    """One bounce event in a list (the diagnostic cut to 300 characters)."""

    id: int
    occurred_at: str
    email: str = Field(description="The recipient address at the time.")
    domain: str
    kind: str = Field(description="bounce | delay | complaint | autoreply | ...")
    reason: str
    bounce_type: str
    hardbounce: bool
    status: str
    reply_code: str
    diagnostic: str
    rule: str = Field(description="The rule that decided the reason.")
    matched: bool = Field(description="Matched to a known address.")
    match_method: str
    verified: bool = Field(
        description="False: it proved no send of ours (signed VERP configured), so it"
        " was kept as evidence and changed nothing."
    )
    contact_id: int | None
    campaign: str | None
    source: str
    undone: bool


EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The bounce (event) id.")]


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["bounces"])

    @r.get(
        "/bounces",
        response_model=Page[BounceItem],
        summary="Bounce events, newest first, filtered",
    )
    def list_bounces(
        since: Annotated[dt.datetime | None, Query(description="ISO 8601, inclusive.")] = None,
        until: Annotated[dt.datetime | None, Query(description="ISO 8601, exclusive.")] = None,
        campaign: Annotated[str | None, Query(max_length=255)] = None,
        domain: Annotated[
            str | None, Query(max_length=255, description="Recipient domain.")
        ] = None,
        reason: Annotated[str | None, Query(max_length=32)] = None,
        bounce_type: Annotated[str | None, Query(max_length=32)] = None,
        hard: Annotated[bool | None, Query(description="Hard (true) or soft (false).")] = None,
        matched: Annotated[
            bool | None, Query(description="Matched to a known address, or not.")
        ] = None,
        kind: Annotated[str | None, Query(max_length=16)] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        filters = bounces.BounceFilters(
            since=naive_utc(since),
            until=naive_utc(until),
            campaign=campaign,
            domain=domain,
            reason=reason,
            bounce_type=bounce_type,
            hard=hard,
            matched=matched,
            kind=kind,
        )
        after = cursor_key(cursor, cursor_time, cursor_int)
        items, key = bounces.list_bounces(ctx.ledger, filters, limit, after)
        return page_of(items, key)

    @r.get(
        "/bounces/{event_id}",
        summary="One bounce event: every parsed field, its campaign, message and effects",
        responses={404: {"description": "No such bounce."}},
    )
    def get_bounce(event_id: EventId) -> dict[str, Any]:
        found = bounces.bounce_detail(ctx.ledger, event_id)
        if found is None:
            raise ApiError(404, f"no bounce with id {event_id}")
        return found

    return r
