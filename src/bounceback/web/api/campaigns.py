"""/api/v1/campaigns: campaigns with their hard and soft counts; create, change status.

A campaign whose status is one of the closed statuses (settings) is marked
``closed``: its counters stop being updated by new bounces.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from bounceback.ledger import stats
from bounceback.web.api.deps import (
    AdminAccess,
    ApiError,
    Cursor,
    Limit,
    Page,
    cursor_key,
    cursor_text,
    page_of,
)
from bounceback.web.api.schemas import CampaignDetail, CampaignItem
from bounceback.web.context import WebContext

Name = Annotated[str, Path(min_length=1, max_length=255, description="The campaign's name.")]
Status = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_ .-]+$")]


class NewCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=255)]
    status: Status = "active"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


def _after(cursor: str | None) -> str | None:
    key = cursor_key(cursor, cursor_text)
    return key[0] if key else None


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["campaigns"])

    def detail(name: str, days: int = 90) -> dict[str, Any]:
        try:
            return stats.campaign_detail(ctx.ledger, name, days)
        except (stats.StatsError, ValueError) as exc:
            raise ApiError(404, f"no campaign named {name!r}") from exc

    @r.get(
        "/campaigns",
        response_model=Page[CampaignItem],
        summary="Campaigns by name: hard and soft counts, sends, rate",
    )
    def list_campaigns(
        status: Annotated[str | None, Query(max_length=32)] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        items, last = stats.campaign_list(ctx.ledger, limit, _after(cursor), status)
        return page_of(items, [last] if last else None)

    @r.get(
        "/campaigns/{name}",
        response_model=CampaignDetail,
        summary="One campaign: counters, reasons, bounce types, bounces per day",
        responses={404: {"description": "No such campaign."}},
    )
    def get_campaign(
        name: Name,
        days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS, description="Daily series.")] = 90,
    ) -> dict[str, Any]:
        return detail(name, days)

    @r.post(
        "/campaigns",
        response_model=CampaignDetail,
        status_code=201,
        dependencies=[AdminAccess],
        summary="Create a campaign (admin)",
        responses={409: {"description": "A campaign of that name exists."}},
    )
    def create_campaign(body: NewCampaign) -> dict[str, Any]:
        name = body.name.strip()
        if not name:
            raise ApiError(422, "invalid request: name: must not be blank")
        try:
            ctx.ledger.add_campaign(name, body.status.strip())
        except ValueError as exc:
            raise ApiError(409, str(exc)) from exc
        return detail(name)

    @r.patch(
        "/campaigns/{name}",
        response_model=CampaignDetail,
        dependencies=[AdminAccess],
        summary="Change a campaign's status (admin); a closed status stops its counters",
        responses={404: {"description": "No such campaign."}},
    )
    def change_campaign(name: Name, body: StatusChange) -> dict[str, Any]:
        try:
            ctx.ledger.set_campaign_status(name, body.status.strip())
        except ValueError as exc:
            raise ApiError(404, f"no campaign named {name!r}") from exc
        return detail(name)

    return r
