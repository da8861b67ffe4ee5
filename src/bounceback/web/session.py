"""Dashboard sessions: a signed cookie (Starlette's SessionMiddleware) and a CSRF token.

The cookie is signed with ``ctx.secret_key``, or with a secret generated once and kept
in the settings table, so every process serving one database accepts the same cookie.
Each session carries one CSRF token; every POST form must send it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from bounceback.ledger import users
from bounceback.ledger.models import utcnow
from bounceback.web.context import WebContext

COOKIE = "bounceback_session"
MAX_AGE = 12 * 3600  # a working day; log in again after
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def session_secret(ctx: WebContext) -> str:
    """The configured key, else the stored one; the first process to ask stores it."""
    if ctx.secret_key:
        return ctx.secret_key
    return users.session_secret(ctx.ledger)


class DashboardSessions(SessionMiddleware):
    """Sessions for the dashboard's paths only: the API (bearer keys), the probes and
    the webhooks never read a cookie, so their hot paths skip the signature check."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path in PROBES or path.startswith(API_PREFIXES)):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


API_PREFIXES = ("/api/", "/webhooks/")
PROBES = frozenset({"/health", "/metrics"})  # not /health-report: a dashboard page


def install(app: FastAPI, ctx: WebContext) -> None:
    """Sessions on ``app``: HttpOnly (Starlette always sets it), SameSite=Lax, and
    Secure when ``ctx.secure_cookies`` (``[http] secure_cookies``) says so."""
    app.add_middleware(
        DashboardSessions,
        secret_key=session_secret(ctx),
        session_cookie=COOKIE,
        max_age=MAX_AGE,
        same_site="lax",
        https_only=ctx.secure_cookies,  # off by default: serve may run on plain http
    )


def session(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = request.session
    return data


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (the login form needs one too)."""
    data = session(request)
    token = data.get("csrf")
    if not isinstance(token, str) or not token:
        token = data["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = session(request).get("csrf")
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def _stamp(password_hash: str) -> str:
    """Changes when the password does: a new password ends the sessions made before."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def user_state(ctx: WebContext, username: str, sid: str = "") -> tuple[str, str] | None:
    """(role, password stamp) of an enabled user, from the database; None otherwise,
    and None when ``sid`` names a session that logged out."""
    found = users.session_user(ctx.ledger, username, sid)
    if found is None:
        return None
    return found.role, _stamp(found.password_hash)


def log_in(request: Request, ctx: WebContext, username: str) -> bool:
    """A fresh session (no fixation: the old one, token included, is dropped)."""
    state = user_state(ctx, username)
    if state is None:
        return False
    data = session(request)
    data.clear()
    data.update(
        user=username,
        role=state[0],
        stamp=state[1],
        sid=secrets.token_urlsafe(24),  # names the session, so logging out can end it
        csrf=secrets.token_urlsafe(32),
    )
    return True


def logged_in_user(request: Request, ctx: WebContext) -> tuple[str, str] | None:
    """(username, role) when the session's user still exists, is enabled and has the
    password it logged in with, and the session did not log out; the role is read
    again (a change applies at once). A signed cookie cannot be revoked otherwise:
    this one indexed read per page can."""
    found = current_user(request)
    sid = session(request).get("sid")
    if found is None or not isinstance(sid, str) or not sid:
        session(request).clear()  # also a session from before sessions had ids
        return None
    state = user_state(ctx, found[0], sid)
    if state is None or state[1] != session(request).get("stamp"):
        session(request).clear()
        return None
    if state[0] != found[1]:
        session(request)["role"] = state[0]
    return found[0], state[0]


def log_out(request: Request, ctx: WebContext) -> None:
    """End the session for good: this cookie, and any copy of it, is refused from now
    on (until it would have expired anyway, when its row is dropped)."""
    data = session(request)
    sid, user = data.get("sid"), data.get("user")
    data.clear()
    if not isinstance(sid, str) or not sid or not isinstance(user, str):
        return
    users.revoke_session(ctx.ledger, sid, user, utcnow() + dt.timedelta(seconds=MAX_AGE))


def current_user(request: Request) -> tuple[str, str] | None:
    """(username, role) of the logged-in user, or None."""
    data = session(request)
    user, role = data.get("user"), data.get("role")
    if isinstance(user, str) and isinstance(role, str):
        return user, role
    return None


def flash(request: Request, text: str, level: str = "ok") -> None:
    """A message for the next page shown (after a POST's redirect)."""
    session(request).setdefault("flash", []).append([level, text])


def take_flashes(request: Request) -> list[tuple[str, str]]:
    items = session(request).pop("flash", None) or []
    return [(str(level), str(text)) for level, text in items]
