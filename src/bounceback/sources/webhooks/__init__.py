"""ESP webhooks: each provider module verifies a request and turns it into events.

Modules are pure (no web framework): ``verify_*`` raises ``Unauthorized`` (no or
incomplete credentials: HTTP 401) or ``Forbidden`` (wrong credentials or
signature, a replay: HTTP 403); ``events(...)`` turns a verified payload into
SourceEvents. ``routes.make_router`` puts them on FastAPI.
"""

from __future__ import annotations

import json
from typing import Any


class WebhookError(Exception):
    """A request that must be refused; ``status`` is the HTTP answer."""

    status = 400


class BadRequest(WebhookError):
    status = 400


class Unauthorized(WebhookError):
    status = 401


class Forbidden(WebhookError):
    status = 403


class Unavailable(WebhookError):
    """Cannot be checked right now (a certificate fetch failed): the provider retries."""

    status = 503


def load_json(body: bytes) -> Any:
    """The request body as JSON, or BadRequest (nesting too deep to decode included)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadRequest("body is not JSON: nested too deeply") from exc


def text(value: object) -> str:
    """A JSON scalar as text ('' for null and containers)."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
