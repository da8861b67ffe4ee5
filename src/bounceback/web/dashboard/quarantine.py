"""Quarantine: the messages kept because they could not be applied (unparseable, no
recipient, too large, an engine or matching error), why, when and from where; retry one
(re-process its kept bytes), release it (ignored, bytes kept) or delete it; read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bounceback.ledger import messages, quarantine
from bounceback.ledger.outcomes import MessageOutcome
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    decode_cursor,
    encode_cursor,
    not_found,
    posted,
    redirect,
    render,
    require_user,
)

RAW_SHOWN = 200_000  # characters of a message shown on its page; the download has all


def _message_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 18 else None


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/quarantine")
    def quarantine_list(
        request: Request, user: Annotated[User, Depends(require_user)], cursor: str = ""
    ) -> Response:
        rows, key = messages.list_messages(
            ctx.ledger, MessageOutcome.QUARANTINED, PAGE_SIZE, decode_cursor(cursor, times=False)
        )
        return render(
            request,
            "quarantine.html",
            rows=rows,
            total=messages.count_messages(ctx.ledger, MessageOutcome.QUARANTINED),
            cursor=cursor,
            next_cursor=encode_cursor(key),
            params={},
        )

    @r.get("/quarantine/{message_id}")
    def quarantined_message(
        request: Request, message_id: str, user: Annotated[User, Depends(require_user)]
    ) -> Response:
        number = _message_id(message_id)
        raw = quarantine.raw_bytes(ctx.ledger, number) if number else None
        if number is None or raw is None:
            return not_found(request, f"No message {message_id} is kept.")
        text = raw.decode("utf-8", "replace")
        return render(
            request,
            "quarantined.html",
            message_id=number,
            raw=text[:RAW_SHOWN],
            cut=len(text) > RAW_SHOWN,
            size=len(raw),
        )

    @r.get("/quarantine/{message_id}/raw")
    def raw_download(message_id: str, user: Annotated[User, Depends(require_user)]) -> Response:
        number = _message_id(message_id)
        raw = quarantine.raw_bytes(ctx.ledger, number) if number else None
        if raw is None:
            return Response("No raw message is kept.\n", 404, media_type="text/plain")
        return Response(
            raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="message-{number}.eml"'},
        )

    @r.post("/quarantine/{message_id}/retry")
    async def retry(request: Request, message_id: int) -> Response:
        await posted(request)
        try:
            outcome = await run_in_threadpool(quarantine.retry, ctx.ledger, message_id)
        except quarantine.NotQuarantined as exc:
            sess.flash(request, str(exc), "error")
            return redirect("/quarantine")
        if outcome.outcome == MessageOutcome.QUARANTINED:
            sess.flash(request, f"Still quarantined: {outcome.error}", "error")
        elif outcome.outcome == MessageOutcome.ERROR:
            sess.flash(request, f"Not processed (kept as it was): {outcome.error}", "error")
        else:
            found = f" ({outcome.records} bounce{'s' if outcome.records != 1 else ''})"
            sess.flash(
                request,
                f"Message {message_id} processed again: {outcome.outcome}"
                + (found if outcome.records else "")
                + ".",
            )
        return redirect("/quarantine")

    @r.post("/quarantine/{message_id}/release")
    async def release(request: Request, message_id: int) -> Response:
        await posted(request)
        user = require_user(request)
        try:
            await run_in_threadpool(quarantine.release, ctx.ledger, message_id, user.name)
        except quarantine.NotQuarantined as exc:
            sess.flash(request, str(exc), "error")
        else:
            sess.flash(request, f"Message {message_id} released: marked ignored, its bytes kept.")
        return redirect("/quarantine")

    @r.post("/quarantine/{message_id}/delete")
    async def delete(request: Request, message_id: int) -> Response:
        await posted(request)
        try:
            await run_in_threadpool(quarantine.delete_message, ctx.ledger, message_id)
        except quarantine.NotQuarantined as exc:
            sess.flash(request, str(exc), "error")
        else:
            sess.flash(request, f"Message {message_id} deleted.")
        return redirect("/quarantine")

    return r
