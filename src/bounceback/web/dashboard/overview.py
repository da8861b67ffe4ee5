"""The overview "/": bounces per day, rates per campaign, top domains and reasons, sources.

Everything comes from ``stats.overview`` (the rollups), so the page stays fast with
millions of bounces.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bounceback.ledger import stats
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import User, daily_chart, days_arg, render, require_user

DAY_CHOICES = (7, 30, 90)


def chart_data(view: dict[str, Any]) -> dict[str, Any]:
    """What charts.js draws: the daily stack and the campaigns' bounce rates."""
    named = [c for c in view["campaigns"] if c.get("campaign_id")]
    return {
        **daily_chart(view["series"]),
        "campaigns": {
            "labels": [c["name"] for c in named],
            "rates": [round((c["bounce_rate"] or 0) * 100, 2) for c in named],
        },
    }


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def overview(
        request: Request, user: Annotated[User, Depends(require_user)], days: str = "30"
    ) -> Response:
        span = days_arg(days)
        # Only the rollups: Ledger.health() (the Sender bursts) reads the events and
        # has its own page.
        view = stats.overview(ctx.ledger, span)
        return render(
            request,
            "overview.html",
            days=span,
            day_choices=DAY_CHOICES,
            view=view,
            chart=chart_data(view),
            sources=ctx.source_state().get("sources", {}),
        )

    return r
