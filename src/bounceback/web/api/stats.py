"""/api/v1/stats: bounces and rates by day, campaign, recipient domain and reason, the
overview and sender health, all read from the daily rollups.

A window is ``days`` back from today (UTC), or ``since``/``until`` (dates, inclusive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from bounceback.ledger import stats
from bounceback.ledger.service import Ledger
from bounceback.web.api.deps import (
    BAD_CURSOR,
    ApiError,
    Cursor,
    Limit,
    cursor_int,
    cursor_key,
    encode_cursor,
)
from bounceback.web.api.schemas import (
    CampaignStatsPage,
    DailyPage,
    DomainStatsPage,
    Overview,
    ReasonStatsPage,
    ResponseModel,
    SenderHealth,
)
from bounceback.web.context import WebContext

Days = Annotated[
    int | None, Query(ge=1, le=stats.MAX_DAYS, description="Days back from today (UTC).")
]
Since = Annotated[dt.date | None, Query(description="First day (inclusive), YYYY-MM-DD.")]
Until = Annotated[dt.date | None, Query(description="Last day (inclusive), YYYY-MM-DD.")]
Ranked = Callable[[Ledger, stats.Window, int | None, int], list[dict[str, Any]]]


def _window(days: int | None, since: dt.date | None, until: dt.date | None) -> stats.Window:
    try:
        return stats.window(days, since, until)
    except stats.StatsError as exc:
        raise ApiError(422, f"invalid request: {exc}") from exc
    except OverflowError as exc:  # a window reaching before year 1 or after 9999
        raise ApiError(422, "invalid request: the window runs outside the calendar") from exc


def _offset(cursor: str | None) -> int:
    key = cursor_key(cursor, cursor_int)
    if key is None:
        return 0
    if key[0] < 0:
        raise ApiError(400, BAD_CURSOR)
    return int(key[0])


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["stats"])

    def page(query: Ranked, w: stats.Window, limit: int, cursor: str | None) -> dict[str, Any]:
        start = _offset(cursor)
        items = query(ctx.ledger, w, limit + 1, start)
        more = len(items) > limit
        return {
            **w.as_dict(),
            "items": items[:limit],
            "next_cursor": encode_cursor([start + limit]) if more else None,
        }

    @r.get(
        "/stats/daily",
        response_model=DailyPage,
        summary="Bounces per day by category, sends and rates",
    )
    def daily(
        days: Days = None,
        since: Since = None,
        until: Until = None,
        campaign: Annotated[str | None, Query(max_length=255)] = None,
        domain: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        w = _window(days, since, until)
        try:
            items = stats.by_day(ctx.ledger, w, campaign, domain or "")
        except stats.StatsError as exc:
            raise ApiError(404, str(exc)) from exc
        return {**w.as_dict(), "items": items, "next_cursor": None}

    def ranked(query: Ranked) -> Callable[..., dict[str, Any]]:
        def ranked_list(
            days: Days = None,
            since: Since = None,
            until: Until = None,
            limit: Limit = 50,
            cursor: Cursor = None,
        ) -> dict[str, Any]:
            return page(query, _window(days, since, until), limit, cursor)

        return ranked_list

    # One handler for the three ranked lists; ``name`` keeps their operation ids.
    ranked_lists: tuple[tuple[str, str, Ranked, type[ResponseModel]], ...] = (
        (
            "campaigns",
            "Bounces, sends and rate per campaign, most first",
            stats.by_campaign,
            CampaignStatsPage,
        ),
        (
            "domains",
            "Bounces, sends and rates per recipient domain",
            stats.by_domain,
            DomainStatsPage,
        ),
        ("reasons", "Bounces per reason, most first", stats.by_reason, ReasonStatsPage),
    )
    for name, summary, query, model in ranked_lists:
        r.get(f"/stats/{name}", name=name, response_model=model, summary=summary)(ranked(query))

    @r.get(
        "/stats/overview",
        response_model=Overview,
        summary="The dashboard's overview: series and top lists",
    )
    def overview(
        days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = 30,
        top: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        return stats.overview(ctx.ledger, days, top)

    @r.get(
        "/stats/sender-health",
        response_model=SenderHealth,
        summary="Bounce and complaint rates per domain and provider against the limits",
    )
    def sender_health(
        days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = 30,
        top: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        return stats.sender_health(ctx.ledger, days, top=top)

    return r
