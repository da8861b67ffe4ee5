"""/api/v1: stats (to be written)."""

from __future__ import annotations

from fastapi import APIRouter

from bounceback.web.context import WebContext


def router(ctx: WebContext) -> APIRouter:
    return APIRouter()
