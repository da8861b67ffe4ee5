"""Auth dependencies, JSON errors and cursor pagination shared by every resource (to be written)."""

from __future__ import annotations

from fastapi import FastAPI

from bounceback.web.context import WebContext


def install(api: FastAPI, ctx: WebContext) -> None:
    """Exception handlers (JSON errors) and the context the dependencies read."""
    api.state.ctx = ctx
