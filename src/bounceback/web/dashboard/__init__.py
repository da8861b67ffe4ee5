"""The web dashboard: server-rendered Jinja2 pages (to be written)."""

from __future__ import annotations

from fastapi import FastAPI

from bounceback.web.context import WebContext


def router(ctx: WebContext, app: FastAPI) -> None:
    """Add the dashboard's pages, login and static files to ``app``."""
