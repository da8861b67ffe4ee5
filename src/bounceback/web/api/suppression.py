"""/api/v1/suppression: check one address fast, list, add, remove, export as CSV.

``GET /suppression/{email}`` is the hot path (senders ask it before every message):
one prepared query on a held connection (``ledger.fastcheck``: inline on SQLite,
awaited on PostgreSQL), JSON written by hand; no ORM, no thread hop. ``FastCheck``
answers it before the API's routing and dependency machinery (half the cost of a
request) when the caller's key is already in the auth cache and the address is
valid; anything else (first use of a key, no key, a bad address, an error) goes on
to the route, which answers the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from bounceback.ledger import suppression
from bounceback.ledger.addresses import normalise, valid_email
from bounceback.ledger.fastcheck import SuppressionLookup
from bounceback.web.api.deps import (
    AdminAccess,
    ApiError,
    Cursor,
    Limit,
    Page,
    cursor_int,
    cursor_key,
    email_param,
    page_of,
)
from bounceback.web.api.schemas import Added, Removed, SuppressionItem, SuppressionStatus
from bounceback.web.auth import cached_scope
from bounceback.web.context import WebContext

EmailPath = Annotated[str, Path(max_length=320, description="The address to check.")]


class NewSuppression(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    reason: str = Field("", max_length=255)


async def status_json(lookup: SuppressionLookup, address: str) -> bytes:
    """The check's answer for a normalised, valid address."""
    found = await lookup.acheck(address)
    if found is None:
        body: dict[str, Any] = {
            "email": address,
            "suppressed": False,
            "reason": None,
            "source": None,
            "since": None,
        }
    else:
        reason, source, since = found
        body = {"email": address, "suppressed": True, "reason": reason, "source": source}
        body["since"] = since
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def install_fast_path(api: FastAPI, ctx: WebContext) -> None:
    """One lookup (and its held connections) per API app, shared by route and fast path."""
    lookup = SuppressionLookup(ctx.ledger.engine)
    api.state.suppression_lookup = lookup
    api.add_middleware(FastCheck, ctx=ctx, lookup=lookup)


_PREFIX = "/suppression/"
_HEADERS = [(b"content-type", b"application/json")]


class FastCheck:
    """ASGI middleware of the API app: the suppression check without routing or
    dependency solving, for callers whose key the auth cache already vouches for."""

    def __init__(self, app: ASGIApp, ctx: WebContext, lookup: SuppressionLookup) -> None:
        self.app = app
        self.ctx = ctx
        self.lookup = lookup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope) -> bytes | None:
        """The body to send, or None: let the route deal with it."""
        if scope["method"] != "GET" or scope.get("query_string"):
            return None  # a query string is the route's to judge (unknown: 422)
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if not path.startswith(_PREFIX) or "/" in path[len(_PREFIX) :]:
            return None
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, rest = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    token = rest.strip().decode("latin-1")
                break
        if not token or cached_scope(self.ctx.ledger, token) is None:
            return None
        address = normalise(path[len(_PREFIX) :])
        if len(address) > 320 or not valid_email(address):
            return None
        try:
            return await status_json(self.lookup, address)
        except Exception:  # the route reports it as a JSON error
            return None


def csv_rows(ledger: Any) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "reason", "source", "since"])
    for n, row in enumerate(suppression.iter_suppressions(ledger), 1):
        writer.writerow(row)
        if n % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["suppression"])

    @r.get(
        "/suppression.csv",
        response_class=StreamingResponse,
        summary="The whole suppression list as CSV (streamed)",
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    def export() -> StreamingResponse:
        return StreamingResponse(
            csv_rows(ctx.ledger),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="suppression.csv"'},
        )

    @r.get(
        "/suppression/{email:path}",
        summary="Is this address suppressed? (fast: one indexed lookup)",
        response_class=Response,
        responses={
            200: {"model": SuppressionStatus},
            # Routing's: a path no address can be (a line break in it) is no resource.
            404: {"description": "Not an address this path can hold."},
        },
    )
    async def check(email: EmailPath, request: Request) -> Response:
        body = await status_json(request.app.state.suppression_lookup, email_param(email))
        return Response(body, media_type="application/json")

    @r.get(
        "/suppression",
        response_model=Page[SuppressionItem],
        summary="The suppression list, newest first",
    )
    def list_all(
        source: Annotated[
            Literal["bounce", "complaint", "manual", "erasure"] | None, Query()
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        after = cursor_key(cursor, cursor_int)
        items, key = suppression.list_suppressions(ctx.ledger, source, limit, after)
        return page_of(items, key)

    @r.post(
        "/suppression",
        dependencies=[AdminAccess],
        status_code=201,
        response_model=Added,
        responses={200: {"model": Added, "description": "Already suppressed."}},
        summary="Suppress an address (source: manual)",
    )
    def add(body: NewSuppression, response: Response) -> dict[str, Any]:
        address = email_param(body.email)
        added = ctx.ledger.suppress(address, body.reason.strip())
        if not added:
            response.status_code = 200  # already there: nothing changed
        return {"email": address, "suppressed": True, "added": added}

    @r.delete(
        "/suppression/{email:path}",
        dependencies=[AdminAccess],
        response_model=Removed,
        summary="Lift a suppression (the address may be mailed again)",
        responses={404: {"description": "The address is not suppressed."}},
    )
    def remove(email: EmailPath) -> dict[str, Any]:
        address = email_param(email)
        if not ctx.ledger.unsuppress(address):
            raise ApiError(404, f"{address} is not suppressed")
        return {"email": address, "suppressed": False, "removed": True}

    return r
