"""/api/v1/rules: the user rules kept in the database, and "test on a message".

Reads need a read key, changes an admin key. A change applies to the next batch
the ledger processes, in this process and in any other on the same database.
``POST /rules/test`` saves nothing: it says what a rule set would decide.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from bounceback.classify import RuleError, RuleSet
from bounceback.ledger import rules_store as store
from bounceback.web.api.deps import (
    AdminAccess,
    ApiError,
    Cursor,
    Limit,
    ctx_of,
    cursor_int,
    cursor_key,
    page_of,
)
from bounceback.web.api.schemas import BuiltinRuleList, RuleList, RuleOut, TestResult
from bounceback.web.context import WebContext

MAX_TEST_BYTES = 10 * 1024 * 1024  # a message to try: larger is refused (413)
RuleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The rule's id.")]


class RuleIn(BaseModel):
    """A rule: a section rule (section + text + type), or a pattern line.

    ``{"section": "body", "text": "Mailbox has exceeded the limit", "type": "soft"}``,
    ``{"pattern": "550 5.7.1 Unfortunately, messages from==>Hard"}``, or
    ``{"form": "pattern", "text": "...", "type": "hard"}``.
    """

    model_config = ConfigDict(extra="forbid")

    form: str | None = Field(None, description="section | pattern (default: section)")
    section: str | None = Field(
        None,
        description="body | subject | from | to | rule (rule: text is a built-in rule's id)",
    )
    text: str | None = Field(
        None, description="Case-sensitive text; at most 100 characters for a section rule."
    )
    type: str | None = Field(
        None,
        description="hard | soft | both | ignore (ignore: not a bounce; patterns: hard | soft)",
    )
    bounce_type: str | None = Field(None, description="Optional hold category, e.g. Quota.")
    pattern: str | None = Field(None, description="A 'text==>Hard' or 'text==>Soft' line.")
    enabled: bool | None = None
    note: str | None = None


class RuleCreate(RuleIn):
    position: int | None = Field(
        None, ge=0, le=2**31 - 1, description="Where (0-based); default: last."
    )


class Reorder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(description="Every rule's id, in the new order.")


_TEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "The raw message (message/rfc822, or a multipart/form-data upload), tried on "
            "the rules in force; or JSON {message, rules?}: rules (a list of rule objects "
            "or the text of a rules file) replaces every user rule for this try."
        ),
        "content": {
            "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "rules": {
                            "oneOf": [
                                {"type": "array", "items": {"type": "object"}},
                                {"type": "string"},
                            ]
                        },
                    },
                    "required": ["message"],
                }
            },
        },
    }
}


def _rule_error(exc: RuleError) -> ApiError:
    return ApiError(422, f"invalid rule: {exc}")


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["rules"])

    @r.get("/rules", response_model=RuleList, summary="The user rules, in order")
    def list_rules(request: Request, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
        ledger = ctx_of(request).ledger
        version = store.current_version(ledger)  # first: a later edit shows a newer version
        # The order is the rules' meaning, so a page is a slice of it; the cursor is its end.
        start = cursor_key(cursor, cursor_int)
        offset = start[0] if start else 0
        rules = store.list_rules(ledger)
        end = offset + limit
        return {
            **page_of(rules[offset:end], [end] if end < len(rules) else None),
            "version": version,
        }

    @r.get(
        "/rules/builtin",
        response_model=BuiltinRuleList,
        summary="The built-in rule pack (read-only), in the order it is consulted",
    )
    def list_builtin(limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
        from bounceback.classify.pack import as_json

        start = cursor_key(cursor, cursor_int)
        offset = max(start[0], 0) if start else 0
        rules = as_json()
        end = offset + limit
        return {
            **page_of(rules[offset:end], [end] if end < len(rules) else None),
            "read_only": True,
        }

    @r.post(
        "/rules",
        response_model=RuleOut,
        status_code=201,
        dependencies=[AdminAccess],
        summary="Add a rule",
    )
    def create_rule(body: RuleCreate, request: Request) -> dict[str, Any]:
        data = body.model_dump(exclude_unset=True, exclude_none=True)
        position = data.pop("position", None)
        try:
            return store.create(ctx_of(request).ledger, data, position)
        except RuleError as exc:
            raise _rule_error(exc) from exc

    @r.post(
        "/rules/reorder",
        response_model=RuleList,
        dependencies=[AdminAccess],
        summary="Put the rules in a new order",
    )
    def reorder(body: Reorder, request: Request) -> dict[str, Any]:
        ledger = ctx_of(request).ledger
        try:
            items = store.reorder(ledger, body.ids)
        except RuleError as exc:
            raise ApiError(422, str(exc)) from exc
        return {"items": items, "version": store.current_version(ledger)}

    @r.post(
        "/rules/test",
        response_model=TestResult,
        summary="What a rule set would decide for a message (nothing is saved)",
        openapi_extra=_TEST_BODY,
    )
    async def test_rules(request: Request) -> dict[str, Any]:
        data, given = await _test_input(request)
        ledger = ctx_of(request).ledger
        rules = given if given is not None else await run_in_threadpool(store.current_rules, ledger)
        result = await run_in_threadpool(store.try_message, data, rules)
        return {**result, "rules": "given" if given is not None else "in force"}

    @r.get("/rules/{rule_id}", response_model=RuleOut, summary="One rule")
    def get_rule(rule_id: RuleId, request: Request) -> dict[str, Any]:
        try:
            return store.get_rule(ctx_of(request).ledger, rule_id)
        except store.RuleNotFound as exc:
            raise ApiError(404, str(exc)) from exc

    def _change(request: Request, rule_id: int, body: RuleIn, partial: bool) -> dict[str, Any]:
        data = body.model_dump(exclude_unset=True, exclude_none=True)
        try:
            return store.update_rule(ctx_of(request).ledger, rule_id, data, partial)
        except store.RuleNotFound as exc:
            raise ApiError(404, str(exc)) from exc
        except RuleError as exc:
            raise _rule_error(exc) from exc

    @r.put(
        "/rules/{rule_id}",
        response_model=RuleOut,
        dependencies=[AdminAccess],
        summary="Replace a rule (fields left out take their defaults)",
    )
    def replace_rule(rule_id: RuleId, body: RuleIn, request: Request) -> dict[str, Any]:
        return _change(request, rule_id, body, partial=False)

    @r.patch(
        "/rules/{rule_id}",
        response_model=RuleOut,
        dependencies=[AdminAccess],
        summary="Change some of a rule's fields (e.g. enabled)",
    )
    def patch_rule(rule_id: RuleId, body: RuleIn, request: Request) -> dict[str, Any]:
        return _change(request, rule_id, body, partial=True)

    @r.delete(
        "/rules/{rule_id}", status_code=204, dependencies=[AdminAccess], summary="Remove a rule"
    )
    def delete_rule(rule_id: RuleId, request: Request) -> None:
        try:
            store.delete_rule(ctx_of(request).ledger, rule_id)
        except store.RuleNotFound as exc:
            raise ApiError(404, str(exc)) from exc

    return r


async def _test_input(request: Request) -> tuple[bytes, RuleSet | None]:
    """The message to try and the rule set given with it (None: the rules in force)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_TEST_BYTES:
        raise _too_large()
    if kind == "multipart/form-data":
        form = await request.form()
        uploads = [v for v in form.values() if isinstance(v, UploadFile)]
        if len(uploads) != 1:
            raise ApiError(422, "upload exactly one file: the message to try")
        return _bounded(await uploads[0].read()), None
    body = await _read_body(request)
    if kind == "application/json":
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(422, f"the body is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("message"), str):
            raise ApiError(422, 'send {"message": "<the raw message as text>", "rules": [...]}')
        unknown = set(doc) - {"message", "rules"}
        if unknown:
            raise ApiError(422, f"unknown fields: {', '.join(sorted(unknown))}")
        given = None
        if doc.get("rules") is not None:
            try:
                given = store.rules_from_json(doc["rules"])
            except RuleError as exc:
                raise _rule_error(exc) from exc
        return doc["message"].encode("utf-8", "replace"), given
    if kind in ("message/rfc822", "application/octet-stream", "text/plain"):
        if not body:
            raise ApiError(422, "the body is empty: send the raw message")
        return body, None
    raise ApiError(415, "send the message as message/rfc822, a multipart/form-data upload, or JSON")


def _too_large() -> ApiError:
    # Connection: close: the server stops reading the rest rather than draining it.
    message = f"the message is larger than {MAX_TEST_BYTES} bytes"
    return ApiError(413, message, headers={"Connection": "close"})


async def _read_body(request: Request) -> bytes:
    """The body, read no further than the limit (a sender may omit Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_TEST_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _bounded(data: bytes) -> bytes:
    if len(data) > MAX_TEST_BYTES:
        raise _too_large()
    return data
