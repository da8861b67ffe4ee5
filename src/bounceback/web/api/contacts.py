"""/api/v1/contacts: search, one contact's bounce information, "why" timeline and filed
replies (activities), and the two actions a person takes: unhold, set a new address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from bounceback.ledger import contacts
from bounceback.web.api.deps import (
    AdminAccess,
    ApiError,
    Cursor,
    Limit,
    Page,
    cursor_int,
    cursor_key,
    cursor_time,
    email_param,
    encode_cursor,
    page_of,
)
from bounceback.web.api.schemas import (
    ActivityItem,
    AddressChanged,
    ContactItem,
    ContactUnheld,
    ContactView,
    Timeline,
)
from bounceback.web.context import WebContext

EmailPath = Annotated[str, Path(max_length=320, description="The address (current or bounced).")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No contact has this address."}}


class NewAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, description="The contact's new address.")


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["contacts"])

    @r.get(
        "/contacts",
        response_model=Page[ContactItem],
        summary="Search addresses by email, name or @domain",
    )
    def search(
        q: Annotated[
            str, Query(max_length=320, description="Substring of email or name; @domain.")
        ] = "",
        on_hold: bool | None = None,
        bounced: bool | None = None,
        kind: Annotated[str | None, Query(max_length=16)] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        filters = contacts.ContactFilters(on_hold=on_hold, bounced=bounced, kind=kind)
        after = cursor_key(cursor, cursor_int)
        items, key = contacts.search_contacts(ctx.ledger, q, filters, limit, after)
        return page_of(items, key)

    # Before the contact itself: {email:path} would take "x@y/timeline" whole.
    @r.get(
        "/contacts/{email:path}/timeline",
        response_model=Timeline,
        summary="Why: each bounce, the rule that decided and the policy steps it triggered",
        responses=NOT_FOUND,
    )
    def timeline(email: EmailPath, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
        after = cursor_key(cursor, cursor_time, cursor_int)
        found = contacts.contact_timeline(ctx.ledger, email_param(email), limit, after)
        if found is None:
            raise ApiError(404, f"no contact has the address {email}")
        body, key = found
        return {**body, "next_cursor": encode_cursor(key) if key else None}

    @r.get(
        "/contacts/{email:path}/activities",
        response_model=Page[ActivityItem],
        summary="Human replies filed on the contact (email-to-activity), newest first",
        responses=NOT_FOUND,
    )
    def activities(email: EmailPath, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
        after = cursor_key(cursor, cursor_time, cursor_int)
        found = contacts.contact_activities(ctx.ledger, email_param(email), limit, after)
        if found is None:
            raise ApiError(404, f"no contact has the address {email}")
        body, key = found
        items = [{**item, "contact_id": body["contact_id"]} for item in body["activities"]]
        return page_of(items, key)

    @r.get(
        "/contacts/{email:path}",
        response_model=ContactView,
        summary="A contact's bounce information and history (address at the time)",
        responses=NOT_FOUND,
    )
    def show(email: EmailPath) -> dict[str, Any]:
        view = ctx.ledger.contact_view(email_param(email))
        if view is None:
            raise ApiError(404, f"no contact has the address {email}")
        return view

    @r.post(
        "/contacts/{email:path}/unhold",
        response_model=ContactUnheld,
        dependencies=[AdminAccess],
        summary="Take the address off hold (counts cleared, bounce suppression lifted)",
        responses=NOT_FOUND,
    )
    def unhold(email: EmailPath) -> dict[str, Any]:
        address = email_param(email)
        if not ctx.ledger.unhold(address):
            raise ApiError(404, f"no contact has the address {email}")
        return {"email": address, "unheld": True, "contact": ctx.ledger.contact_view(address)}

    @r.post(
        "/contacts/{email:path}/address",
        response_model=AddressChanged,
        dependencies=[AdminAccess],
        summary="Give the contact a new address (counts start over, history kept)",
        responses={**NOT_FOUND, 400: {"description": "The new address belongs to another."}},
    )
    def set_address(email: EmailPath, body: NewAddress) -> dict[str, Any]:
        old, new = email_param(email), email_param(body.email)
        if ctx.ledger.contact_view(old, history_limit=0) is None:
            raise ApiError(404, f"no contact has the address {email}")
        ctx.ledger.set_email(old, new)
        return {"email": new, "previous": old, "contact": ctx.ledger.contact_view(new)}

    return r
