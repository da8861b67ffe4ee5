"""Rules: the user rules of both forms (create, edit, delete, move), the config file's rules,
and a "test on a message" box that shows the decision, with a draft rule, before saving."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from bounceback.classify import RuleSet
from bounceback.classify.pack import ids as pack_ids
from bounceback.classify.pack import pack
from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.classify.rules import RuleError, combine
from bounceback.ledger import rules_store as store
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    User,
    field,
    posted,
    redirect,
    render,
    require_user,
)

MAX_MESSAGE = 5_000_000  # a pasted or uploaded message; bounces are far smaller
RULE_FIELDS = ("form", "section", "text", "type", "bounce_type", "note")


def rule_values(form: FormData, prefix: str = "") -> dict[str, Any]:
    """A rule's fields from a form (``prefix``: the test box's draft_ fields)."""
    values: dict[str, Any] = {k: field(form, prefix + k) for k in RULE_FIELDS}
    values["text"] = str(form.get(prefix + "text") or "")  # spaces matter to the user
    if values["form"] == "pattern":
        values.pop("section")
    values["enabled"] = bool(form.get(prefix + "enabled")) or not form.get("has_enabled")
    return values


async def message_bytes(form: FormData) -> bytes:
    """The uploaded .eml, else the pasted text (line ends as mail has them)."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_MESSAGE + 1)
        if data:
            return data[:MAX_MESSAGE]
    text = str(form.get("message") or "")
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")[:MAX_MESSAGE]


def decide(ctx: WebContext, data: bytes, draft: dict[str, Any] | None) -> dict[str, Any]:
    """What the saved rules decide, and (with a draft rule) what they would decide."""
    saved = store.current_rules(ctx.ledger)
    result: dict[str, Any] = {"saved": store.try_message(data, saved), "draft": None, "error": ""}
    if draft is not None:
        try:
            rules: RuleSet = store.rules_from_json([draft])
        except RuleError as exc:
            result["error"] = f"The draft rule cannot be used: {exc}"
            return result
        with_draft = combine([rules, saved]) if saved else rules
        result["draft"] = store.try_message(data, with_draft)
    return result


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def page(request: Request, status_code: int = 200, **extra: Any) -> Response:
        file_rules = ctx.ledger.rules.rules if ctx.ledger.rules else ()
        values: dict[str, Any] = {
            "rules": store.list_rules(ctx.ledger),
            "file_rules": file_rules,
            "bounce_types": list(BOUNCE_TYPES),
            "sections": store.SECTIONS,
            "draft": {},
            "builtin": pack(),
            "override": "",
            "test": None,
            "message": "",
        }
        values.update(extra)
        return render(request, "rules.html", status_code=status_code, **values)

    @r.get("/rules")
    def rules_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
        # ?override=<id>: the new-rule form filled in to override that built-in rule.
        wanted = request.query_params.get("override", "")
        if wanted in pack_ids():
            draft = {"section": "rule", "text": wanted, "type": "hard"}
            return page(request, draft=draft, override=wanted)
        return page(request)

    @r.post("/rules")
    async def create(request: Request) -> Response:
        form = await posted(request)
        values = rule_values(form)
        try:
            made = await run_in_threadpool(store.create, ctx.ledger, values)
        except RuleError as exc:
            sess.flash(request, f"Not saved: {exc}", "error")
            return page(request, 422, draft=values)
        sess.flash(request, f"Rule {made['rule_id']} saved; new bounces are judged with it.")
        return redirect("/rules")

    @r.post("/rules/test")
    async def test(request: Request) -> Response:
        form = await posted(request, admin=False)  # trying a message changes nothing
        data = await message_bytes(form)
        draft = rule_values(form, "draft_") if field(form, "draft_text") else None
        result = await run_in_threadpool(decide, ctx, data, draft)
        if request.headers.get("x-requested-with") == "fetch":
            return render(request, "rules_test.html", test=result)
        return page(request, test=result, message=str(form.get("message") or ""))

    @r.post("/rules/{rule_id}")
    async def edit(request: Request, rule_id: int) -> Response:
        form = await posted(request)
        values = rule_values(form)
        try:
            await run_in_threadpool(store.update_rule, ctx.ledger, rule_id, values)
        except (RuleError, store.RuleNotFound) as exc:
            sess.flash(request, f"Not saved: {exc}", "error")
        else:
            sess.flash(request, f"Rule {store.ID_PREFIX}{rule_id} saved.")
        return redirect(f"/rules#rule-{rule_id}")

    @r.post("/rules/{rule_id}/delete")
    async def delete(request: Request, rule_id: int) -> Response:
        await posted(request)
        try:
            await run_in_threadpool(store.delete_rule, ctx.ledger, rule_id)
        except store.RuleNotFound as exc:
            sess.flash(request, str(exc), "error")
        else:
            sess.flash(request, f"Rule {store.ID_PREFIX}{rule_id} deleted.")
        return redirect("/rules")

    @r.post("/rules/{rule_id}/move")
    async def move(request: Request, rule_id: int) -> Response:
        form = await posted(request)
        order = [row["id"] for row in await run_in_threadpool(store.list_rules, ctx.ledger)]
        if rule_id in order:
            step = -1 if field(form, "direction") == "up" else 1
            target = max(0, order.index(rule_id) + step)
            await run_in_threadpool(store.move, ctx.ledger, rule_id, target)
        return redirect(f"/rules#rule-{rule_id}")

    return r
