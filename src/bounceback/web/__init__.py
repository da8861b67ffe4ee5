"""The HTTP API (under /api/v1) and the web dashboard, mounted on ``serve``'s app."""

from __future__ import annotations

from fastapi import FastAPI

from bounceback.web.body_limit import DEFAULT_MAX_BODY, BodyLimit
from bounceback.web.context import WebContext
from bounceback.web.security_headers import SecurityHeaders

__all__ = ["WebContext", "mount"]


def mount(app: FastAPI, ctx: WebContext, *, max_body: int = DEFAULT_MAX_BODY) -> None:
    """Add the API (a sub-application: its schema is /api/v1/openapi.json) and the dashboard,
    with the body cap and the browser security headers on every path of ``app`` (the
    webhooks included)."""
    from bounceback.web import api_docs
    from bounceback.web.api import make_api
    from bounceback.web.dashboard import router as dashboard_router

    api = make_api(ctx)
    api_docs.install(app, api)  # the open index and docs, before the keyed API
    app.mount("/api/v1", api)
    dashboard_router(ctx, app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=max_body)
