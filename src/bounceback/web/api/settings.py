"""/api/v1/settings: the settings a person edits (closed campaign statuses, address
removal on hard bounces, disable_after, health limits) and the hold thresholds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, ConfigDict

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.ledger import settings as ledger_settings
from bounceback.web.api.deps import AdminAccess, ApiError
from bounceback.web.api.schemas import Settings, ThresholdOut
from bounceback.web.context import WebContext

BounceType = Annotated[str, Path(max_length=32, description="A bounce type, e.g. Quota.")]


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Bounces of the type before an address is held; null or 0: never held.
    threshold: int | None


def _invalid(exc: ledger_settings.SettingsError) -> ApiError:
    return ApiError(422, f"invalid request: {exc}")


def router(ctx: WebContext) -> APIRouter:
    r = APIRouter(tags=["settings"])

    @r.get(
        "/settings",
        response_model=Settings,
        summary="Every editable setting in force, with the hold thresholds",
    )
    def get_settings() -> dict[str, Any]:
        return ledger_settings.get_settings(ctx.ledger)

    @r.patch(
        "/settings",
        response_model=Settings,
        dependencies=[AdminAccess],
        summary="Change settings (admin); all are checked before any is stored",
    )
    def patch_settings(
        changes: Annotated[
            dict[str, Any],
            Body(
                examples=[{"disable_after": 5, "closed_campaign_statuses": ["closed"]}],
                description=f"Any of: {', '.join(ledger_settings.KEYS)}, thresholds.",
            ),
        ],
    ) -> dict[str, Any]:
        try:
            return ledger_settings.update_settings(ctx.ledger, changes)
        except ledger_settings.SettingsError as exc:
            raise _invalid(exc) from exc

    @r.get(
        "/settings/thresholds/{bounce_type}",
        response_model=ThresholdOut,
        summary="One bounce type's hold threshold",
        responses={404: {"description": "No such bounce type."}},
    )
    def get_threshold(bounce_type: BounceType) -> dict[str, Any]:
        if bounce_type not in BOUNCE_TYPES:
            raise ApiError(404, f"no bounce type named {bounce_type!r}")
        return {"bounce_type": bounce_type, "threshold": ctx.ledger.thresholds()[bounce_type]}

    @r.put(
        "/settings/thresholds/{bounce_type}",
        response_model=ThresholdOut,
        dependencies=[AdminAccess],
        summary="Set one bounce type's hold threshold (admin); null or 0: never held",
        responses={404: {"description": "No such bounce type."}},
    )
    def put_threshold(bounce_type: BounceType, body: Threshold) -> dict[str, Any]:
        if bounce_type not in BOUNCE_TYPES:
            raise ApiError(404, f"no bounce type named {bounce_type!r}")
        try:
            return ledger_settings.set_threshold(ctx.ledger, bounce_type, body.threshold)
        except ledger_settings.SettingsError as exc:
            raise _invalid(exc) from exc

    return r
