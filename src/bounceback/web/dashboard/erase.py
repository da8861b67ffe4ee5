"""Erasing a person from the contact page (admin only): the form asks for the address
again, typed, as the confirmation step; ledger.erasure does the rest."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bounceback.ledger import erasure
from bounceback.ledger.addresses import normalise, valid_email
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import field, posted, redirect, require_user
from bounceback.web.dashboard.contacts import contact_url


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.post("/contacts/{email:path}/erase")
    async def erase(request: Request, email: str) -> Response:
        form = await posted(request)  # a read-only user is refused here (403)
        address = normalise(email)
        if not valid_email(address) or normalise(field(form, "confirm")) != address:
            sess.flash(request, "Not erased: type the address exactly to confirm.", "error")
            return redirect(contact_url(address))
        operator = f"dashboard user {require_user(request).name}"
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        report = await run_in_threadpool(erasure.erase, ctx.ledger.engine, address, operator, now)
        rows = sum(report.counts.values())
        sess.flash(
            request,
            f"Erased (record {report.id}): {rows} rows removed; "
            "the address stays suppressed as a one-way hash.",
        )
        return redirect("/contacts")

    return r
