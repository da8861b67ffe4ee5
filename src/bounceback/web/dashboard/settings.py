"""Settings: hold thresholds per type, the address and disable policy, closed campaign
statuses, sender-health limits (all through ``ledger.settings``), and the sources (read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.ledger import settings as ledger_settings
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import User, field, posted, redirect, render, require_user

# name: (label, kind, help); kinds: int, bool, percent (shown and typed as %), list
POLICY_FIELDS: dict[str, tuple[str, str, str]] = {
    "remove_address_on_hard_bounce": (
        "Remove the address on a hard bounce",
        "bool",
        "moved to the contact's bounced address field",
    ),
    "disable_after": ("Disable a contact after", "int", "consecutive bounces; 0: never"),
    "closed_campaign_statuses": (
        "Closed campaign statuses",
        "list",
        "comma separated; campaigns with these statuses are not updated",
    ),
    "bounce_rate_limit": ("Bounce rate limit", "percent", "warn above this share of sends"),
    "complaint_rate_limit": ("Complaint rate limit", "percent", "warn above this share of sends"),
    "health_min_volume": ("Minimum sends before a rate warns", "int", "per domain and period"),
    "sender_health_burst": ("Sender-fault burst", "int", "bounces from one domain in the window"),
    "sender_health_window_hours": ("Burst window", "int", "hours"),
}


class FormError(ValueError):
    pass


def _number(name: str, text: str, kind: str) -> Any:
    try:
        if kind == "percent":
            return float(text.rstrip("%").strip()) / 100
        return int(text)
    except ValueError as exc:
        raise FormError(f"{POLICY_FIELDS[name][0]}: {text!r} is not a number") from exc


def changes_from(form: FormData) -> dict[str, Any]:
    """The settings the form sets, typed as ledger.settings validates them."""
    changes: dict[str, Any] = {}
    for name, (_, kind, _) in POLICY_FIELDS.items():
        if kind == "bool":
            changes[name] = bool(form.get(name))
            continue
        text = field(form, name)
        if kind == "list":
            changes[name] = [s.strip() for s in text.split(",") if s.strip()]
        elif text:
            changes[name] = _number(name, text, kind)
    thresholds: dict[str, int | None] = {}
    for bounce_type in BOUNCE_TYPES:
        text = field(form, f"threshold.{bounce_type}")
        if f"threshold.{bounce_type}" not in form:
            continue
        try:
            thresholds[bounce_type] = int(text) if text else None
        except ValueError as exc:
            raise FormError(f"hold threshold for {bounce_type}: {text!r} is not a number") from exc
    if thresholds:
        changes["thresholds"] = thresholds
    return changes


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/settings")
    def settings(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
        return render(
            request,
            "settings.html",
            values=ledger_settings.get_settings(ctx.ledger),
            fields=POLICY_FIELDS,
            defaults=BOUNCE_TYPES,
            sources=ctx.source_state().get("sources", {}),
        )

    @r.post("/settings")
    async def save(request: Request) -> Response:
        form = await posted(request)
        try:
            changes = changes_from(form)
            await run_in_threadpool(ledger_settings.update_settings, ctx.ledger, changes)
        except (FormError, ledger_settings.SettingsError) as exc:
            sess.flash(request, f"Not saved: {exc}", "error")
        else:
            sess.flash(request, "Settings saved; they apply to bounces processed from now on.")
        return redirect("/settings")

    return r
