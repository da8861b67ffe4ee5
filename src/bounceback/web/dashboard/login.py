"""Log in (username and password of a dashboard user) and log out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from bounceback.web import auth
from bounceback.web import session as sess
from bounceback.web.context import WebContext
from bounceback.web.dashboard.common import Forbidden, field, redirect, render
from bounceback.web.throttle import LoginThrottle


def safe_next(target: str) -> str:
    """Only a path on this site: no open redirect to another host."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _form(request: Request, what: str) -> FormData:
    """The POSTed form; refused when its CSRF token is not this session's (no login
    needed: common.posted is for logged-in users)."""
    form = await request.form()
    sent = form.get(sess.CSRF_FIELD)
    if not sess.csrf_ok(request, sent if isinstance(sent, str) else None):
        raise Forbidden(f"The {what} form is out of date: reload the page and try again.")
    return form


# Failures of one username from all clients together: high enough that an attacker
# cannot lock its owner out for long by failing on purpose from many addresses, low
# enough that guessing from many addresses stays slow.
PER_USER_FAILURES = 20


def routes(
    ctx: WebContext,
    throttle: LoginThrottle | None = None,
    user_throttle: LoginThrottle | None = None,
) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    guard = throttle or LoginThrottle()
    user_guard = user_throttle or LoginThrottle(max_failures=PER_USER_FAILURES)

    @r.get("/login")
    def login_page(request: Request, next: str = "") -> Response:
        if sess.current_user(request) is not None:
            return redirect(safe_next(next or "/"))
        return render(request, "login.html", next=next, username="", error="")

    @r.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request, "login")
        username, password = field(form, "username"), form.get("password")
        # One username from one client: a proxy in front does not lock everyone out.
        # The client is the peer, or what a trusted proxy (``[http] trusted_proxies``)
        # says it is; the username alone is counted too, whichever client claims it.
        client = request.client.host if request.client else ""
        name = username.lower()
        key = f"{name}\n{client}"
        wait = max(guard.wait_s(key), user_guard.wait_s(name))
        if wait:
            return render(
                request,
                "login.html",
                status_code=429,
                next=field(form, "next"),
                username=username,
                error=f"Too many failed logins: try again in {(wait + 59) // 60} minutes.",
            )
        ok = False
        if username and isinstance(password, str) and password:
            role = await run_in_threadpool(auth.verify_user, ctx.ledger, username, password)
            ok = role is not None and await run_in_threadpool(sess.log_in, request, ctx, username)
        if not ok:
            guard.failed(key)
            user_guard.failed(name)
            return render(
                request,
                "login.html",
                status_code=401,
                next=field(form, "next"),
                username=username,
                error="Wrong username or password.",
            )
        guard.succeeded(key)
        user_guard.succeeded(name)
        return redirect(safe_next(field(form, "next") or "/"))

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        await _form(request, "logout")
        await run_in_threadpool(sess.log_out, request, ctx)
        return redirect("/login")

    return r
