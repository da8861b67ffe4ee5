"""The HTTP API: one module per resource, each giving ``router(ctx) -> APIRouter``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from bounceback.web.api import (
    bounces,
    campaigns,
    contacts,
    deps,
    erasure,
    explain,
    holds,
    rules,
    sends,
    settings,
    stats,
    suppression,
)
from bounceback.web.context import WebContext

_RESOURCES = (
    bounces,
    explain,
    contacts,
    holds,
    suppression,
    campaigns,
    stats,
    settings,
    rules,
    sends,
    erasure,
)


def make_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="bounceback API",
        version="1",
        # Served below behind a key: nothing but /health and the webhooks is open.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    deps.install(api, ctx)
    suppression.install_fast_path(api, ctx)
    for module in _RESOURCES:
        api.include_router(module.router(ctx))

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_schema() -> dict[str, Any]:
        return api.openapi()

    return api
