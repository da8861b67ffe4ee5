"""The suppression list: search, add, remove, import and export CSV (admin for changes)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from bounceback.ledger import suppression
from bounceback.ledger.service import LedgerError
from bounceback.web import session as sess
from bounceback.web.api.suppression import csv_rows  # the API's own export
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import (
    PAGE_SIZE,
    User,
    decode_cursor,
    encode_cursor,
    field,
    posted,
    query_url,
    redirect,
    render,
    require_user,
)

SOURCES = ("bounce", "complaint", "manual", "erasure")  # erasure: ledger.erasure
MAX_IMPORT = 50_000_000  # bytes of CSV: a million addresses and their reasons


def csv_lines(text: Iterator[str]) -> Iterator[tuple[int, str, str]]:
    """(line number, email, reason) from a CSV with an ``email`` column (and optionally
    ``reason``), or from plain lines whose first field is the address (no header)."""
    reader = csv.reader(text)
    first = next(reader, None)
    if first is None:
        return
    names = [c.strip().lower() for c in first]
    if "email" in names:
        at, why = names.index("email"), names.index("reason") if "reason" in names else -1
    else:  # no header: address, then perhaps a reason, on every line
        at, why = 0, 1
        if any(cell.strip() for cell in first):
            yield 1, first[0], first[1] if len(first) > 1 else ""
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue
        email = row[at] if at < len(row) else ""
        reason = row[why] if 0 <= why < len(row) else ""
        yield reader.line_num, email, reason


def _decoded(upload: UploadFile) -> Iterator[str]:
    """The upload's lines as text (UTF-8, a BOM dropped), read a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    read = 0
    while block := upload.file.read(1 << 16):
        read += len(block)
        if read > MAX_IMPORT:
            raise LedgerError(f"the file is over {MAX_IMPORT // 1_000_000} MB: split it")
        pending += decoder.decode(block)
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def routes(ctx: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/suppression")
    def suppression_list(
        request: Request,
        user: Annotated[User, Depends(require_user)],
        q: str = "",
        source: str = "",
        cursor: str = "",
    ) -> Response:
        wanted = source if source in SOURCES else ""
        rows, key = suppression.list_suppressions(
            ctx.ledger, wanted or None, PAGE_SIZE, decode_cursor(cursor, times=False), q
        )
        return render(
            request,
            "suppression.html",
            rows=rows,
            q=q,
            source=wanted,
            sources=SOURCES,
            cursor=cursor,
            next_cursor=encode_cursor(key),
            params={"q": q, "source": wanted},
        )

    @r.get("/suppression.csv")
    def export(user: Annotated[User, Depends(require_user)]) -> Response:
        return StreamingResponse(
            csv_rows(ctx.ledger),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="suppression.csv"'},
        )

    @r.post("/suppression")
    async def add(request: Request) -> Response:
        form = await posted(request)
        email, reason = field(form, "email"), field(form, "reason")
        try:
            added = await run_in_threadpool(ctx.ledger.suppress, email, reason)
        except LedgerError as exc:
            sess.flash(request, str(exc), "error")
        else:
            if added:
                sess.flash(request, f"{email} is suppressed: it will not be mailed.")
            else:
                sess.flash(request, f"{email} was already suppressed: its entry is unchanged.")
        return redirect(query_url("/suppression", {"q": email}))

    @r.post("/suppression/remove")
    async def remove(request: Request) -> Response:
        form = await posted(request)
        email = field(form, "email")
        back = query_url("/suppression", {"q": field(form, "q"), "source": field(form, "source")})
        if await run_in_threadpool(ctx.ledger.unsuppress, email):
            sess.flash(request, f"{email} is no longer suppressed: it may be mailed again.")
        else:
            sess.flash(request, f"{email} was not suppressed.", "error")
        return redirect(back)

    @r.post("/suppression/import")
    async def import_csv(request: Request) -> Response:
        form = await posted(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            sess.flash(request, "Choose a CSV file to import.", "error")
            return redirect("/suppression")
        try:
            result = await run_in_threadpool(
                suppression.import_suppressions, ctx.ledger, csv_lines(_decoded(upload))
            )
        except (LedgerError, csv.Error) as exc:
            sess.flash(request, f"Nothing more imported: {exc}", "error")
            return redirect("/suppression")
        sess.flash(
            request,
            f"Imported {result.added} address{'es' if result.added != 1 else ''};"
            f" {result.already} already listed; {result.invalid} not addresses.",
        )
        for problem in result.problems[:5]:  # the session is a cookie: a few, not all
            sess.flash(request, problem, "error")
        return redirect("/suppression")

    return r
