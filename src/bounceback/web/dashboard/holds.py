"""Holds: the "on hold" search (type, domain, since), unhold the selected or all matching."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.ledger import holds as ledger_holds
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    date_arg,
    decode_cursor,
    encode_cursor,
    field,
    posted,
    query_url,
    redirect,
    render,
    require_user,
)


def hold_filters(bounce_type: str, domain: str, since: str) -> ledger_holds.HoldFilters:
    return ledger_holds.HoldFilters(
        bounce_type=bounce_type or None, domain=domain.strip() or None, since=date_arg(since)
    )


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/holds")
    def holds(
        request: Request,
        user: Annotated[User, Depends(require_user)],
        bounce_type: str = "",
        domain: str = "",
        since: str = "",
        cursor: str = "",
    ) -> Response:
        filters = hold_filters(bounce_type, domain, since)
        rows, key = ledger_holds.list_holds(ctx.ledger, filters, PAGE_SIZE, decode_cursor(cursor))
        return render(
            request,
            "holds.html",
            rows=rows,
            cursor=cursor,
            next_cursor=encode_cursor(key),
            types=[name for name, n in BOUNCE_TYPES.items() if n is not None],
            bounce_type=bounce_type,
            domain=domain,
            since=since,
            bad_since=bool(since) and filters.since is None,
            params={"bounce_type": bounce_type, "domain": domain, "since": since},
        )

    @r.post("/holds/unhold")
    async def unhold(request: Request) -> Response:
        form = await posted(request)
        shown = {k: field(form, k) for k in ("bounce_type", "domain", "since")}
        filters = hold_filters(**shown)
        if field(form, "scope") != "all":
            # The ticked rows, still within the filters they were shown under.
            filters.emails = [e for e in form.getlist("email") if isinstance(e, str) and e]
            if not filters.emails:
                sess.flash(request, "Nothing selected: tick the addresses to unhold.", "error")
                return redirect(query_url("/holds", shown))
        n = await run_in_threadpool(ledger_holds.unhold_matching, ctx.ledger, filters)
        sess.flash(request, f"{n} address{'es' if n != 1 else ''} taken off hold.")
        return redirect(query_url("/holds", shown))

    return r
