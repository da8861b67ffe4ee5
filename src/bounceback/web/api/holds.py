"""/api/v1/holds: addresses on hold (the CiviCRM "on hold" search) and bulk unhold."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bounceback.ledger import holds
from bounceback.web.api.deps import (
    AdminAccess,
    Cursor,
    Limit,
    Page,
    cursor_int,
    cursor_key,
    cursor_time,
    email_param,
    naive_utc,
    page_of,
)
from bounceback.web.api.schemas import HoldItem, Unheld
from bounceback.web.context import WebContext


class UnholdFilter(BaseModel):
    """Which held addresses to unhold: every given filter must match. An empty filter
    is refused unless ``all`` is true, so a typo cannot unhold everyone."""

    model_config = ConfigDict(extra="forbid")
    bounce_type: str | None = Field(None, max_length=32)
    domain: str | None = Field(None, max_length=255)
    since: dt.datetime | None = Field(None, description="Held at or after (ISO 8601).")
    emails: list[str] = Field(default_factory=list, max_length=10000)
    all: bool = Field(False, description="No filter: unhold every address on hold.")

    @model_validator(mode="after")
    def _something(self) -> UnholdFilter:
        given = self.bounce_type or self.domain or self.since or self.emails
        if not given and not self.all:
            raise ValueError('give a filter (bounce_type, domain, since, emails) or "all": true')
        return self


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["holds"])

    @r.get("/holds", response_model=Page[HoldItem], summary="Addresses on hold, newest hold first")
    def list_holds(
        bounce_type: Annotated[str | None, Query(max_length=32)] = None,
        domain: Annotated[str | None, Query(max_length=255)] = None,
        since: Annotated[dt.datetime | None, Query(description="Held at or after.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        after = cursor_key(cursor, cursor_time, cursor_int)
        filters = holds.HoldFilters(bounce_type=bounce_type, domain=domain, since=naive_utc(since))
        items, key = holds.list_holds(ctx.ledger, filters, limit, after)
        return page_of(items, key)

    @r.post(
        "/holds/unhold",
        dependencies=[AdminAccess],
        response_model=Unheld,
        summary="Unhold every held address matching the filter",
    )
    def unhold(body: UnholdFilter) -> dict[str, int]:
        filters = holds.HoldFilters(
            bounce_type=body.bounce_type,
            domain=body.domain,
            since=naive_utc(body.since),
            emails=[email_param(x) for x in body.emails],
        )
        return {"unheld": holds.unhold_matching(ctx.ledger, filters)}

    return r
