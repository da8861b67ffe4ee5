"""Bounces: a filtered list, one bounce's parsed fields, why it was judged so, its raw bytes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bounceback.ledger import bounce_source, bounces
from bounceback.ledger.policy import policy_steps
from bounceback.ledger.rules_store import RuleNotFound, current_rules, get_rule
from bounceback.rule_ref import RuleRef
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    date_arg,
    decode_cursor,
    encode_cursor,
    not_found,
    render,
    require_user,
)

FILTERS = (
    "since",
    "until",
    "campaign",
    "domain",
    "reason",
    "bounce_type",
    "kind",
    "hard",
    "matched",
)
KINDS = ("bounce", "complaint", "delay", "autoreply", "delivered")

# The parsed fields shown on a bounce's page, in this order.
FIELDS = (
    ("recipient (at the time)", "email"),
    ("original recipient", "original_recipient"),
    ("kind", "kind"),
    ("reason", "reason"),
    ("bounce type", "bounce_type"),
    ("status", "status"),
    ("status in the message", "status_found"),
    ("reply code", "reply_code"),
    ("action", "action"),
    ("diagnostic", "diagnostic"),
    ("diagnostic type", "diagnostic_type"),
    ("SMTP command", "smtp_command"),
    ("remote MTA", "remote_mta"),
    ("reporting MTA", "reporting_mta"),
    ("last attempt", "last_attempt"),
    ("feedback type", "feedback_type"),
    ("detector", "detector"),
    ("source", "source"),
    ("campaign", "campaign"),
    ("matched by", "match_method"),
    ("proves a send of ours", "verified"),
    ("original Message-ID", "original_message_id"),
    ("original subject", "original_subject"),
    ("original from", "original_from"),
    ("original to", "original_to"),
    ("original return path", "original_return_path"),
    ("X-Bounceback-ID", "bounceback_id"),
    ("occurred", "occurred_at"),
)


def _yes_no(value: str, yes: str, no: str) -> bool | None:
    return True if value == yes else False if value == no else None


def bounce_filters(args: dict[str, str]) -> bounces.BounceFilters:
    return bounces.BounceFilters(
        since=date_arg(args["since"]),
        until=date_arg(args["until"]),
        campaign=args["campaign"] or None,
        domain=args["domain"] or None,
        reason=args["reason"] or None,
        bounce_type=args["bounce_type"] or None,
        hard=_yes_no(args["hard"], "hard", "soft"),
        matched=_yes_no(args["matched"], "yes", "no"),
        kind=args["kind"] or None,
    )


def _event_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 18 else None


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def _user_rule(rule: str) -> dict[str, Any] | None:
        """The stored rule that decided (a person's correction says so in its note)."""
        number = RuleRef.parse(rule).stored_id
        if number is None:
            return None
        try:
            return get_rule(ctx.ledger, number)
        except RuleNotFound:
            return None  # deleted since

    @r.get("/bounces")
    def bounce_list(
        request: Request, user: Annotated[User, Depends(require_user)], cursor: str = ""
    ) -> Response:
        args = {k: request.query_params.get(k, "").strip() for k in FILTERS}
        rows, key = bounces.list_bounces(
            ctx.ledger, bounce_filters(args), PAGE_SIZE, decode_cursor(cursor)
        )
        return render(
            request,
            "bounces.html",
            rows=rows,
            filters=args,
            kinds=KINDS,
            cursor=cursor,
            next_cursor=encode_cursor(key),
            params=args,
        )

    @r.get("/bounces/{event_id}")
    def bounce_detail(
        request: Request, event_id: str, user: Annotated[User, Depends(require_user)]
    ) -> Response:
        number = _event_id(event_id)
        found = bounces.bounce_detail(ctx.ledger, number) if number else None
        if number is None or found is None:
            return not_found(request, f"No bounce has the id {event_id}.")
        why = bounce_source.explanation(ctx.ledger, number, current_rules(ctx.ledger))
        raw = bounce_source.raw_message(ctx.ledger, number)
        fields: list[tuple[str, str, Any]] = [
            (label, key, found.get(key))
            for label, key in FIELDS
            if found.get(key) not in (None, "")
        ]
        return render(
            request,
            "bounce.html",
            correction=_user_rule(found["rule"]),
            event=found,
            fields=fields,
            why=why,
            steps=policy_steps(found["kind"], found["bounce_type"], found["effects"]),
            raw=raw.decode("utf-8", "replace") if raw is not None else None,
            size=len(raw) if raw is not None else 0,
        )

    @r.get("/bounces/{event_id}/raw")
    def bounce_raw(event_id: str, user: Annotated[User, Depends(require_user)]) -> Response:
        number = _event_id(event_id)
        try:
            raw = bounce_source.raw_message(ctx.ledger, number) if number else None
        except bounce_source.EventNotFound:
            raw = None
        if raw is None:
            return Response(
                "No raw message is kept for this bounce.\n", 404, media_type="text/plain"
            )
        return Response(
            raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="bounce-{number}.eml"'},
        )

    return r
