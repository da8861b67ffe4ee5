"""Contacts: search (bounced, kind, on hold), a contact's "Bounce Information", "why"
timeline and filed replies (activities); unhold, new address."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bounceback.ledger import contacts
from bounceback.ledger.addresses import normalise
from bounceback.ledger.store import LedgerError
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    decode_cursor,
    encode_cursor,
    field,
    not_found,
    posted,
    redirect,
    render,
    require_user,
)

KINDS = ("contact", "company", "lead")  # contacts.kind
ACTIVITIES_SHOWN = 20  # replies filed on the contact, a page at a time


def contact_url(email: str) -> str:
    return "/contacts/" + quote(email, safe="@")


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/contacts")
    def search(
        request: Request,
        user: Annotated[User, Depends(require_user)],
        q: str = "",
        on_hold: str = "",
        bounced: str = "",
        kind: str = "",
        cursor: str = "",
    ) -> Response:
        bounced = bounced if bounced in ("yes", "no") else ""
        kind = kind if kind in KINDS else ""
        filters = contacts.ContactFilters(
            on_hold=True if on_hold else None,
            bounced={"yes": True, "no": False}.get(bounced),
            kind=kind or None,
        )
        rows, key = contacts.search_contacts(
            ctx.ledger, q, filters, PAGE_SIZE, decode_cursor(cursor)
        )
        return render(
            request,
            "contacts.html",
            q=q,
            on_hold=bool(on_hold),
            bounced=bounced,
            kind=kind,
            kinds=KINDS,
            rows=rows,
            cursor=cursor,
            next_cursor=encode_cursor(key),
            params={"q": q, "on_hold": on_hold, "bounced": bounced, "kind": kind},
        )

    # {email:path}: an address may hold a "/" (the POST routes below differ by method).
    @r.get("/contacts/{email:path}")
    def contact(
        request: Request,
        email: str,
        user: Annotated[User, Depends(require_user)],
        cursor: str = "",
        activities_cursor: str = "",
    ) -> Response:
        view = ctx.ledger.contact_view(email)
        found = contacts.contact_timeline(ctx.ledger, email, PAGE_SIZE, decode_cursor(cursor))
        if view is None or found is None:
            return not_found(request, f"No contact has the address {email}.")
        timeline, key = found
        filed = contacts.contact_activities(
            ctx.ledger, email, ACTIVITIES_SHOWN, decode_cursor(activities_cursor)
        )
        activities, activities_key = filed if filed is not None else ({"activities": []}, None)
        return render(
            request,
            "contact.html",
            email=normalise(email),
            view=view,
            timeline=timeline["events"],
            cursor=cursor,
            next_cursor=encode_cursor(key),
            activities=activities["activities"],
            activities_cursor=activities_cursor,
            activities_next=encode_cursor(activities_key),
            url=contact_url(normalise(email)),
        )

    @r.post("/contacts/{email:path}/unhold")
    async def unhold(request: Request, email: str) -> Response:
        await posted(request)
        if await run_in_threadpool(ctx.ledger.unhold, email):
            sess.flash(request, f"{email} is off hold: counts cleared, bulk mail allowed again.")
        else:
            sess.flash(request, f"No contact has the address {email}.", "error")
        return redirect(contact_url(email))

    @r.post("/contacts/{email:path}/address")
    async def new_address(request: Request, email: str) -> Response:
        form = await posted(request)
        new = field(form, "email")
        try:
            await run_in_threadpool(ctx.ledger.set_email, email, new)
        except LedgerError as exc:
            sess.flash(request, str(exc), "error")
            return redirect(contact_url(email))
        sess.flash(request, f"The contact's address is now {new}; its counts start over.")
        return redirect(contact_url(normalise(new)))

    return r
