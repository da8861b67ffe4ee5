"""The HTTP API (under /api/v1) and the web dashboard, mounted on ``serve``'s app."""

from __future__ import annotations

from fastapi import FastAPI

from bounceback.web.context import WebContext

__all__ = ["WebContext", "mount"]


def mount(app: FastAPI, ctx: WebContext) -> None:
    """Add the API (a sub-application: its schema is /api/v1/openapi.json) and the dashboard."""
    from bounceback.web import api_docs
    from bounceback.web.api import make_api
    from bounceback.web.dashboard import router as dashboard_router

    api = make_api(ctx)
    api_docs.install(app, api)  # the open index and docs, before the keyed API
    app.mount("/api/v1", api)
    dashboard_router(ctx, app)
