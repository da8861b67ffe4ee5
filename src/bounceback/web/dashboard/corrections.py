"""Correct a bounce from its page (admin): mark it hard, soft or not a bounce; the page
shows the user rule drafted from its evidence (editable), which stored bounces that rule
would change (a replay dry run), and on confirmation saves the rule and replays."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.classify.rules import RuleError
from bounceback.ledger import bounces, corrections, rules_store
from bounceback.ledger.corrections import Verdict
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    field,
    not_found,
    posted,
    redirect,
    render,
    require_user,
)

DRAFT_FIELDS = ("section", "text", "type", "bounce_type", "note")


def _verdict(text: str) -> Verdict | None:
    try:
        return Verdict(text)
    except ValueError:
        return None


def _draft_values(form: FormData) -> dict[str, Any]:
    """The draft as the person left it (the text unstripped: spaces are theirs)."""
    values: dict[str, Any] = {k: field(form, k) for k in DRAFT_FIELDS}
    values["text"] = str(form.get("text") or "")
    values["form"] = "section"
    values["enabled"] = True
    return values


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def page(
        request: Request,
        event: dict[str, Any],
        verdict: Verdict,
        values: dict[str, Any],
        evidence: str,
        problems: list[str],
    ) -> Response:
        preview: corrections.Preview | None = None
        if values["text"].strip():
            try:
                preview = corrections.preview(ctx.ledger, event["id"], values)
            except RuleError as exc:
                problems = [*problems, f"The rule cannot be used: {exc}"]
        if preview is not None and preview.matches_this is False:
            problems = [
                *problems,
                "This rule does not match this bounce's message: change the text to a phrase"
                f" it contains (in its {values['section']}).",
            ]
        return render(
            request,
            "correct.html",
            status_code=422 if problems else 200,
            event=event,
            verdict=verdict,
            values=values,
            evidence=evidence,
            problems=problems,
            preview=preview,
            sections=rules_store.SECTIONS,
            bounce_types=list(BOUNCE_TYPES),
        )

    def found(event_id: int) -> dict[str, Any] | None:
        return bounces.bounce_detail(ctx.ledger, event_id)

    @r.post("/bounces/{event_id}/correct")
    async def mark(request: Request, event_id: int) -> Response:
        form = await posted(request)
        name = require_user(request).name
        verdict = _verdict(field(form, "verdict"))
        event = await run_in_threadpool(found, event_id)
        if event is None:
            return not_found(request, f"No bounce has the id {event_id}.")
        if verdict is None:
            sess.flash(request, "Choose hard, soft or not a bounce.", "error")
            return redirect(f"/bounces/{event_id}")
        draft = await run_in_threadpool(corrections.draft, ctx.ledger, event_id, verdict, name)
        assert draft is not None  # the event exists
        return await run_in_threadpool(
            page, request, event, verdict, draft.values, draft.evidence, draft.problems
        )

    @r.post("/bounces/{event_id}/correct/preview")
    async def preview(request: Request, event_id: int) -> Response:
        form = await posted(request)
        verdict = _verdict(field(form, "verdict"))
        event = await run_in_threadpool(found, event_id)
        if event is None or verdict is None:
            return not_found(request, f"No bounce has the id {event_id}.")
        values = _draft_values(form)
        return await run_in_threadpool(
            page, request, event, verdict, values, field(form, "evidence"), []
        )

    @r.post("/bounces/{event_id}/correct/apply")
    async def apply(request: Request, event_id: int) -> Response:
        form = await posted(request)
        if await run_in_threadpool(found, event_id) is None:
            return not_found(request, f"No bounce has the id {event_id}.")
        values = _draft_values(form)
        try:
            rule, report = await run_in_threadpool(corrections.apply, ctx.ledger, values)
        except RuleError as exc:
            sess.flash(request, f"Not saved: {exc}", "error")
            return redirect(f"/bounces/{event_id}")
        sess.flash(
            request,
            f"Rule {rule['rule_id']} saved (first among your rules). Replay run"
            f" {report.run_id or '—'}: {report.events_changed} stored bounce"
            f"{'s' if report.events_changed != 1 else ''} re-judged,"
            f" {len(report.addresses)} address{'es' if len(report.addresses) != 1 else ''}"
            " changed.",
        )
        return redirect(f"/bounces/{event_id}")

    return r
