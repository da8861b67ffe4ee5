"""Sender health "/health-report" (/health is serve's JSON probe): bounce and complaint
rates per recipient domain and provider over time against the configured limits, and
the Sender-type bursts (bounces that are the sender's fault, never the contact's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bounceback.ledger import stats
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import User, days_arg, render, require_user


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/health-report")
    def health_report(
        request: Request, user: Annotated[User, Depends(require_user)], days: str = "30"
    ) -> Response:
        span = days_arg(days)
        report = stats.sender_health(ctx.ledger, span)
        series = report["days"]
        chart = {
            "labels": [d["day"] for d in series],
            "rates": {
                "bounce": [round((d["bounce_rate"] or 0) * 100, 3) for d in series],
                "complaint": [round((d["complaint_rate"] or 0) * 100, 3) for d in series],
            },
            "limits": {
                "bounce": report["limits"]["bounce_rate"] * 100,
                "complaint": report["limits"]["complaint_rate"] * 100,
            },
        }
        return render(
            request, "health.html", days=span, report=report, chart=chart, bursts=report["sender"]
        )

    return r
