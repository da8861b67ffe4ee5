"""/api/v1/bounces: bounce events, filtered and paged newest first, and one event's fields.

(The raw message and the explanation of one bounce are in ``explain``.)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

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
from bounceback.web.api.schemas import BounceDetail, BounceItem
from bounceback.web.context import WebContext

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
        response_model=BounceDetail,
        summary="One bounce event: every parsed field, its campaign, message and effects",
        responses={404: {"description": "No such bounce."}},
    )
    def get_bounce(event_id: EventId) -> dict[str, Any]:
        found = bounces.bounce_detail(ctx.ledger, event_id)
        if found is None:
            raise ApiError(404, f"no bounce with id {event_id}")
        return found

    return r
