"""The web dashboard: server-rendered Jinja2 pages, mounted at "/" on serve's app.

Sessions and CSRF live in :mod:`bounceback.web.session`; each module here adds one
group of pages. Every page but /login needs a logged-in user; every POST form a CSRF
token and the admin role.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from bounceback.web import session
from bounceback.web.context import WebContext
from bounceback.web.dashboard import (
    bounces,
    campaigns,
    contacts,
    corrections,
    erase,
    health,
    holds,
    login,
    overview,
    quarantine,
    rules,
    settings,
    suppression,
)
from bounceback.web.dashboard.common import HERE, Forbidden, LoginRequired, redirect, render
from bounceback.web.dashboard.common import query_url as _query_url

_PAGES = (
    login,
    overview,
    contacts,
    erase,
    holds,
    suppression,
    bounces,
    corrections,
    quarantine,
    campaigns,
    health,
    rules,
    settings,
)


def router(ctx: WebContext, app: FastAPI) -> None:
    """Add the dashboard's pages, login and static files to ``app``."""
    session.install(app, ctx)
    app.state.dashboard_ctx = ctx  # for the login check (require_user)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(Forbidden, _forbidden)
    for page in _PAGES:
        app.include_router(page.routes(ctx))


async def _to_login(request: Request, exc: Exception) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(_query_url("/login", {"next": wanted if wanted != "/" else ""}))


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, Forbidden) else "Refused."
    return render(
        request, "error.html", status_code=403, status=403, heading="Forbidden", message=message
    )
