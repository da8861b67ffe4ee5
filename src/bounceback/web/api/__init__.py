"""The HTTP API: one module per resource, each giving ``router(ctx) -> APIRouter``."""

from __future__ import annotations

from fastapi import FastAPI

from bounceback.web.api import (
    bounces,
    campaigns,
    contacts,
    deps,
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
)


def make_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="bounceback API",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    deps.install(api, ctx)
    for module in _RESOURCES:
        api.include_router(module.router(ctx))
    return api
