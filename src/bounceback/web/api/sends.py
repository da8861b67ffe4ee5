"""/api/v1/sends: register a send and get its bounceback id and VERP return path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from bounceback.ledger import sends
from bounceback.ledger.stamping import register_send
from bounceback.web.api.deps import AdminAccess, ApiError, email_param
from bounceback.web.api.schemas import SendDetail, SendStamp
from bounceback.web.context import WebContext

SendId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The send id.")]


class NewSend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, description="The recipient.")
    campaign: str | None = Field(None, min_length=1, max_length=255, description="Created if new.")
    message_id: str | None = Field(None, max_length=998, description="The Message-ID header.")


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["sends"])

    @r.post(
        "/sends",
        response_model=SendStamp,
        dependencies=[AdminAccess],
        status_code=201,
        summary="Log a send; answers the X-Bounceback-ID to set and the return path to use",
    )
    def create(body: NewSend) -> SendStamp:
        ids, return_path = register_send(
            ctx.ledger, email_param(body.email), body.campaign, message_id=body.message_id
        )
        return SendStamp(
            send_id=ids.send_id, bounceback_id=ids.bounceback_id, return_path=return_path
        )

    @r.get(
        "/sends/{send_id}",
        response_model=SendDetail,
        summary="One send: recipient, campaign, ids and how many bounces it drew",
        responses={404: {"description": "No such send."}},
    )
    def show(send_id: SendId) -> dict[str, Any]:
        found = sends.send_detail(ctx.ledger, send_id)
        if found is None:
            raise ApiError(404, f"no send with id {send_id}")
        return found

    return r
