"""Auth dependencies, JSON errors and cursor pagination shared by every resource.

Every route of the API needs a key: ``install`` puts ``ReadAccess`` on the API's
router before the resources are included, and write routes add ``AdminAccess``::

    @r.post("/things", dependencies=[AdminAccess])

Errors are JSON everywhere: ``{"error": "<message>", "status": <code>}``, plus
``"details"`` for a 422. Raise ``ApiError(status, message)`` in a handler.
Lists take ``limit: Limit = 50, cursor: Cursor = None`` and answer a ``Page``:
``cursor_key`` reads the cursor back, ``page_of`` builds the answer.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from bounceback.ledger.addresses import normalise, valid_email
from bounceback.ledger.db import LedgerUnavailable
from bounceback.ledger.store import LedgerError
from bounceback.web.auth import cached_scope, verify_api_key
from bounceback.web.context import WebContext

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LIMIT = 500
BAD_CURSOR = "bad cursor: pass back a next_cursor unchanged"


class ApiError(HTTPException):
    """An error answered as JSON with ``status``; ``message`` is shown to the caller."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


# --- auth -------------------------------------------------------------------------------
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`bounceback apikeys create NAME --scope read|admin`).",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bounceback"'}


async def _scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's scope (cached per request: read and admin checks share it)."""
    if credentials is None:
        raise ApiError(401, "an API key is needed: Authorization: Bearer <key>", _CHALLENGE)
    ledger = ctx_of(request).ledger
    token = credentials.credentials
    # A cached key costs no database query: answer it on the event loop.
    scope = cached_scope(ledger, token)
    if scope is None:
        scope = await run_in_threadpool(verify_api_key, ledger, token)
    if scope is None:
        raise ApiError(401, "unknown or revoked API key", _CHALLENGE)
    return scope


async def _read(scope: Annotated[str, Depends(_scope)]) -> str:
    return scope


async def _admin(scope: Annotated[str, Depends(_scope)]) -> str:
    if scope != "admin":
        raise ApiError(403, "this needs an admin API key (this key is read-only)")
    return scope


ReadAccess: Any = Depends(_read)
AdminAccess: Any = Depends(_admin)


# --- strict query strings ------------------------------------------------------------------
async def _known_query(request: Request) -> None:
    """A query parameter the operation does not take is refused (422), not ignored: a
    misspelt filter must not quietly return everything."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    # path_format: the template as the schema spells it ({email}, not {email:path}).
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template is None:
        return
    known = _query_names(request.app).get((template, request.method.lower()))
    if known is None:
        return
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        details = [
            {"loc": ["query", name], "msg": "unknown query parameter", "type": "extra_forbidden"}
            for name in unknown
        ]
        raise RequestValidationError(details)


def _query_names(api: FastAPI) -> dict[tuple[str, str], set[str]]:
    """(path template, method) -> the query parameters its schema documents."""
    found: dict[tuple[str, str], set[str]] | None = getattr(api.state, "query_names", None)
    if found is None:
        found = {}
        for template, operations in api.openapi().get("paths", {}).items():
            for method, operation in operations.items():
                params = operation.get("parameters", []) if isinstance(operation, dict) else []
                found[(template, method)] = {p["name"] for p in params if p.get("in") == "query"}
        api.state.query_names = found
    return found


# --- pagination --------------------------------------------------------------------------
class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid")  # as the response models (schemas.py)

    items: list[T]
    next_cursor: str | None = None


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1..500).")]
Cursor = Annotated[
    str | None,
    Query(max_length=1000, description="The previous page's next_cursor, to read on."),
]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the last item's sort key (datetimes become ISO text)."""
    raw = json.dumps(list(values), default=_plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> list[Any]:
    """The values ``encode_cursor`` was given (datetimes as ISO text); 400 when garbled."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise ApiError(400, BAD_CURSOR) from exc
    if not isinstance(values, list):
        raise ApiError(400, BAD_CURSOR)
    return values


def cursor_time(value: Any) -> dt.datetime:
    """A datetime taken from a decoded cursor; 400 when it is not one."""
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ApiError(400, BAD_CURSOR) from exc


def cursor_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, BAD_CURSOR)
    return value


def cursor_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(400, BAD_CURSOR)
    return value


def cursor_key(cursor: str | None, *parts: Callable[[Any], Any]) -> list[Any] | None:
    """The sort key a list's cursor carries, one value per part (``cursor_time``,
    ``cursor_int``); None for the first page, 400 when the cursor does not fit."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    if len(values) != len(parts):
        raise ApiError(400, BAD_CURSOR)
    return [part(value) for part, value in zip(parts, values, strict=True)]


def page_of(items: list[Any], key: Sequence[Any] | None) -> dict[str, Any]:
    """A ``Page`` body: the items and the cursor of the next page (None after the last)."""
    return {"items": items, "next_cursor": encode_cursor(key) if key else None}


def naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A query's time as the ledger stores it: naive UTC (a naive input is UTC)."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ApiError(
            422, f"invalid request: {value.isoformat()} is outside the calendar"
        ) from exc


def email_param(value: str) -> str:
    """An address from a path or body, normalised; 422 when it is not one."""
    email = normalise(value)
    if not valid_email(email):
        raise ApiError(422, f"invalid request: email: not an email address: {value!r}")
    return email


# --- errors ------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error the API answers."""

    error: str
    status: int
    details: list[ErrorDetail] | None = Field(None, description="Only on a 422.")


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


_MESSAGES = {
    404: "not found",
    405: "method not allowed",
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else _MESSAGES.get(status, "error")
    if status == 404 and message == "Not Found":
        message = "not found: no such resource"
    if status == 405 and message == "Method Not Allowed":
        message = "method not allowed on this resource"
    response = error_response(status, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
    message = (
        f"invalid request: {where}: {first['msg']}" if where else f"invalid request: {first['msg']}"
    )
    return error_response(422, message, details=details)


async def _ledger_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, str(exc))


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    response = error_response(503, str(exc))
    response.headers["Retry-After"] = "5"
    return response


async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("api error: %r", exc, exc_info=exc)
    return error_response(500, "internal error: the request could not be completed")


def _document_errors(api: FastAPI) -> None:
    """The schema shows the errors as they are: ``ErrorBody`` for the 422s FastAPI lists
    (as its own ``HTTPValidationError``), the 401 (and, on writes, 403) every operation
    may answer, and the 400 of a garbled cursor."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        schemas["HTTPValidationError"] = body
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                answers = operation.setdefault("responses", {})
                names = {p.get("name") for p in operation.get("parameters", [])}
                if "cursor" in names:
                    answers.setdefault("400", {"description": "A garbled cursor", "content": ref})
                answers.setdefault(
                    "401",
                    {"description": "No API key, or an unknown or revoked one", "content": ref},
                )
                if method != "get":
                    answers.setdefault(
                        "403", {"description": "The key is read-only", "content": ref}
                    )
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def install(api: FastAPI, ctx: WebContext) -> None:
    """JSON error handlers, the context the dependencies read, a key on every route.

    Call before the resources' routers are included: the API's own router
    dependencies are copied onto each route as it is added. (The suppression check's
    fast path is installed by ``make_api``, after this: it uses this module.)
    """
    api.state.ctx = ctx
    api.router.dependencies.extend([ReadAccess, Depends(_known_query)])
    _document_errors(api)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(LedgerError, _ledger_error)
    api.add_exception_handler(LedgerUnavailable, _unavailable)
    api.add_exception_handler(Exception, _server_error)
