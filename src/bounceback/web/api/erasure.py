"""/api/v1/contacts/{email}/erase (admin): erase a person (ledger.erasure); and
/api/v1/erasures: the record of erasures (when, by whom, how many rows; never whose)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from bounceback.ledger import erasure, users
from bounceback.ledger.service import Ledger
from bounceback.web.api.deps import AdminAccess, Limit, Page, email_param
from bounceback.web.api.schemas import Erased
from bounceback.web.context import WebContext

EmailPath = Annotated[str, Path(max_length=320, description="An address of the person.")]


def key_operator(ledger: Ledger, request: Request) -> str:
    """The calling API key's name (its token reads bb_<prefix>_<secret>)."""
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    parts = token.split("_")
    if len(parts) < 3:
        return "api"
    name = users.api_key_name(ledger, parts[1])
    return f"api key {name}" if name else "api"


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["erasure"])

    @r.post(
        "/contacts/{email:path}/erase",
        dependencies=[AdminAccess],
        response_model=Erased,
        # A path no route takes (a control character in the address) is a 404.
        responses={404: {"description": "Not an address this route can take."}},
        summary="Erase a person (cannot be undone); a one-way hash keeps the address suppressed",
    )
    async def erase(email: EmailPath, request: Request) -> dict[str, Any]:
        address = email_param(email)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        operator = await run_in_threadpool(key_operator, ctx.ledger, request)
        report = await run_in_threadpool(erasure.erase, ctx.ledger.engine, address, operator, now)
        return report.as_dict()

    @r.get(
        "/erasures",
        response_model=Page[Erased],
        summary="The erasure record, newest first (never whose)",
    )
    def erasures(limit: Limit = 50) -> dict[str, Any]:
        # The newest ``limit`` records; the record is short, so there is no next page.
        return {"items": erasure.erasures(ctx.ledger.engine, limit), "next_cursor": None}

    return r
