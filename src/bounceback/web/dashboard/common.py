"""What every dashboard page shares: templates, the login and CSRF checks, paging."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import FormData

from bounceback.web import session as sess
from bounceback.web.context import WebContext

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
PAGE_SIZE = 50
MAX_FORM_PART = 6_000_000

NAV = (
    ("/", "Overview"),
    ("/contacts", "Contacts"),
    ("/holds", "Holds"),
    ("/suppression", "Suppression"),
    ("/bounces", "Bounces"),
    ("/quarantine", "Quarantine"),
    ("/campaigns", "Campaigns"),
    ("/health-report", "Sender health"),
    ("/rules", "Rules"),
    ("/settings", "Settings"),
)


class LoginRequired(Exception):
    """Not logged in: the handler redirects to the login page."""


class Forbidden(Exception):
    """A refused request (bad CSRF token, read-only user): a 403 page says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def require_user(request: Request) -> User:
    ctx: WebContext = request.app.state.dashboard_ctx
    found = sess.logged_in_user(request, ctx)
    if found is None:
        raise LoginRequired()
    return User(*found)


async def posted(request: Request, admin: bool = True) -> FormData:
    """A POSTed form from a logged-in user (an admin unless ``admin`` is False) with this
    session's CSRF token, or refused."""
    user = require_user(request)
    # A pasted message is one form field: allow a big bounce (Starlette's default is 1 MB).
    form = await request.form(max_files=2, max_fields=2000, max_part_size=MAX_FORM_PART)
    sent = form.get(sess.CSRF_FIELD) or request.headers.get(sess.CSRF_HEADER)
    if not sess.csrf_ok(request, sent if isinstance(sent, str) else None):
        raise Forbidden(
            "The form's security token is missing or out of date. "
            "Go back, reload the page and send it again."
        )
    if admin and not user.admin:
        raise Forbidden(f"User {user.name!r} has read-only access: changes need an admin.")
    return form


def field(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    found = sess.current_user(request)
    values.update(
        request=request,
        user=User(*found) if found else None,
        csrf=sess.csrf_token(request),
        flashes=sess.take_flashes(request),
        nav=NAV,
        path=request.url.path,
    )
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(
        request, "error.html", status_code=404, status=404, heading="Not found", message=message
    )


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)  # after a POST: GET the page


def query_url(path: str, params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def int_arg(value: str | None, default: int, low: int = 0, high: int = 10**9) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def days_arg(value: str | None) -> int:
    """A chart page's span (?days=): 1 to 366 days, 30 when missing or nonsense."""
    return int_arg(value, 30, 1, 366)


def daily_chart(days: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What charts.js stacks per day: the labels and the hard, soft and complaint counts."""
    return {
        "labels": [d["day"] for d in days],
        "series": {name: [d[name] for d in days] for name in ("hard", "soft", "complaint")},
    }


def date_arg(value: str | None) -> dt.datetime | None:
    """A day or time from a filter box; nonsense is ignored (the box shows it back)."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None


_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def encode_cursor(values: Sequence[Any] | None) -> str:
    """A page's "read on from here" key as URL-safe text (datetimes as ISO text)."""
    if values is None:
        return ""
    plain = [v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None, times: bool = True) -> list[Any] | None:
    """The key back (``times``: ISO times as datetimes); a garbled one: the first page."""
    if not text:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    if not isinstance(values, list):
        return None
    return [
        dt.datetime.fromisoformat(v) if times and isinstance(v, str) and _ISO_TIME.match(v) else v
        for v in values
    ]


def short_time(value: Any) -> Markup:
    """'2026-11-23T10:04:05.123' → <time datetime="…">2026-11-23 10:04</time> (UTC)."""
    if value in (None, ""):
        return Markup("")
    text = value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
    return Markup('<time datetime="{}">{}</time>').format(text, text.replace("T", " ")[:16])


def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.2f}%"
    except (TypeError, ValueError):
        return ""


TEMPLATES.env.filters["short_time"] = short_time
TEMPLATES.env.filters["percent"] = percent
TEMPLATES.env.globals["query_url"] = query_url
