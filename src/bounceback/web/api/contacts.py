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
from bounceback.web.context import WebContext

EmailPath = Annotated[str, Path(max_length=320, description="The address (current or bounced).")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No contact has this address."}}


class NewAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, description="The contact's new address.")


class ContactItem(BaseModel):
    address_id: int
    contact_id: int
    name: str
    kind: str = Field(description="contact | company | lead")
    email: str | None = Field(description="The current address; null once removed.")
    bounced_address: str | None
    bounced: bool
    on_hold: bool
    hold_type: str | None
    hold_since: str | None
    last_bounce_at: str | None
    bounce_counts: dict[str, int]
    bulk_mail: str = Field(description="allowed | do_not_allow")
    disabled: bool


class TimelineEvent(BaseModel):
    id: int
    at: str
    address_at_the_time: str
    kind: str
    reason: str
    rule: str = Field(description="The rule that decided the reason.")
    bounce_type: str
    hardbounce: bool
    status: str
    diagnostic: str
    detector: str
    campaign: str | None
    effects: dict[str, Any] = Field(description="What the policy did (for undo).")
    steps: list[str] = Field(description="The same, in words, or why it did nothing.")
    undone: bool


class Timeline(BaseModel):
    contact_id: int
    email: str | None
    bounced_address: str | None
    last_reset_at: str | None = Field(description="Last unhold or new address.")
    events: list[TimelineEvent]
    next_cursor: str | None


class ActivityItem(BaseModel):
    id: int
    contact_id: int
    message_id: int = Field(description="The inbound message row (its raw bytes are kept).")
    header_message_id: str = Field(description="The reply's Message-ID header.")
    date: str = Field(description="The reply's Date (UTC; when it was filed if it had none).")
    sender: str
    sender_name: str
    subject: str
    body: str = Field(description="The decoded text (capped at 100,000 characters).")


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
