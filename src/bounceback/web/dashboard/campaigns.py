"""Campaigns: hard and soft counts per campaign; closed ones are marked as not updated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bounceback.ledger import stats
from bounceback.ledger.service import LedgerError
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    daily_chart,
    decode_cursor,
    encode_cursor,
    field,
    not_found,
    posted,
    redirect,
    render,
    require_user,
)

DETAIL_DAYS = 90
STATUSES = ("active", "scheduled", "sending", "completed", "closed", "cancelled")


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/campaigns")
    def campaigns(
        request: Request, user: Annotated[User, Depends(require_user)], cursor: str = ""
    ) -> Response:
        after = decode_cursor(cursor, times=False)
        rows, last = stats.campaign_list(ctx.ledger, PAGE_SIZE, str(after[0]) if after else None)
        closed = sorted(ctx.ledger.config.policy.closed_campaign_statuses)
        return render(
            request,
            "campaigns.html",
            rows=rows,
            cursor=cursor,
            next_cursor=encode_cursor([last] if last else None),
            params={},
            closed_statuses=closed,
            statuses=sorted(set(STATUSES) | set(closed)),
        )

    @r.get("/campaigns/{name:path}")
    def campaign(
        request: Request, name: str, user: Annotated[User, Depends(require_user)]
    ) -> Response:
        try:
            detail = stats.campaign_detail(ctx.ledger, name, DETAIL_DAYS)
        except LedgerError:
            return not_found(request, f"No campaign is named {name!r}.")
        return render(
            request,
            "campaign.html",
            c=detail,
            chart=daily_chart(detail["daily"]),
            days=DETAIL_DAYS,
            statuses=sorted(set(STATUSES) | set(ctx.ledger.config.policy.closed_campaign_statuses)),
        )

    @r.post("/campaigns/status")
    async def set_status(request: Request) -> Response:
        form = await posted(request)
        name, status = field(form, "name"), field(form, "status")
        if not status:
            sess.flash(request, "Choose a status.", "error")
            return redirect("/campaigns")
        try:
            await run_in_threadpool(ctx.ledger.set_campaign_status, name, status)
        except LedgerError as exc:
            sess.flash(request, str(exc), "error")
        else:
            sess.flash(request, f"Campaign {name!r} is now {status}.")
        back = field(form, "back")
        return redirect(back if back.startswith("/campaigns/") else "/campaigns")

    return r
