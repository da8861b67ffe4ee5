"""Every JSON answer of the API has a response model (``web/api/schemas.py``) that the
schema document names, and a key a model does not declare fails loudly instead of
being dropped from the answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from bounceback.ledger import Ledger, bounces
from bounceback.web import WebContext
from bounceback.web.api import make_api
from bounceback.web.api.schemas import SuppressionStatus

# Answers that are not JSON: the raw message, the CSV export, a 204.
NOT_JSON = {
    ("GET", "/bounces/{event_id}/raw"),
    ("GET", "/suppression.csv"),
    ("DELETE", "/rules/{rule_id}"),
}
# JSON written by hand for speed: its model is documented in ``responses``.
HAND_WRITTEN = {("GET", "/suppression/{email}")}


def _operations(api: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path as the schema spells it, route) of every documented operation."""
    found = []
    for context in iter_route_contexts(api.routes):  # the included routers' routes too
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = context.path_format or route.path_format
        if path.startswith("/webhooks/"):  # their senders' shapes, not ours
            continue
        found += [(method, path, route) for method in sorted(route.methods or ())]
    return found


def _strict(model: Any) -> bool:
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.model_config.get("extra") == "forbid"
    )


@pytest.fixture
def api(sqlite_ledger: Ledger) -> FastAPI:
    return make_api(WebContext(ledger=sqlite_ledger, secret_key="test"))


def test_every_json_route_has_a_strict_response_model(api: FastAPI) -> None:
    operations = _operations(api)
    assert len(operations) >= 40
    seen = {(method, path) for method, path, _ in operations}
    # The exception lists name real operations (a renamed route must not slip through).
    assert seen >= NOT_JSON | HAND_WRITTEN
    missing = []
    for method, path, route in operations:
        if (method, path) in NOT_JSON:
            continue
        if (method, path) in HAND_WRITTEN:
            model = route.responses.get(200, {}).get("model")
        else:
            model = route.response_model
        if not _strict(model):
            missing.append(f"{method} {path}: {model!r}")
    assert not missing, "JSON routes without a strict response model:\n" + "\n".join(missing)


def test_the_schema_names_a_model_for_every_json_answer(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    response = sqlite_client.get("/api/v1/openapi.json", headers=sqlite_read_headers)
    assert response.status_code == 200
    schema = response.json()
    components = schema["components"]["schemas"]
    unnamed = []
    count = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in NOT_JSON:
                continue
            count += 1
            answers = {code: a for code, a in operation["responses"].items() if code[0] == "2"}
            assert answers, f"{method} {path} documents no success"
            for code, answer in answers.items():
                body = answer.get("content", {}).get("application/json", {}).get("schema", {})
                ref = body.get("$ref", "")
                name = ref.removeprefix("#/components/schemas/")
                if not ref or name not in components:
                    unnamed.append(f"{method.upper()} {path} {code}: {body}")
                elif components[name].get("additionalProperties") is not False:
                    unnamed.append(f"{method.upper()} {path} {code}: {name} allows extra keys")
    assert count >= 35
    assert not unnamed, "\n".join(unnamed)
    # The rich explanation of one bounce is spelt out, not an open object.
    detail = schema["paths"]["/bounces/{event_id}"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/BounceDetail")
    assert {"found", "evidence", "rule_words", "builtin"} <= set(
        components["ExplainedRecipient"]["properties"]
    )


def test_an_undeclared_key_fails_instead_of_vanishing(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_read_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "/api/v1/bounces/1"
    real = bounces.bounce_detail
    body = sqlite_client.get(url, headers=sqlite_read_headers).json()
    assert body["id"] == 1 and body["message"]["outcome"] == "matched"

    def with_a_new_key(ledger: Ledger, event_id: int) -> dict[str, Any] | None:
        found = real(ledger, event_id)
        assert found is not None
        return {**found, "new_column": "x"}

    monkeypatch.setattr(bounces, "bounce_detail", with_a_new_key)
    with pytest.raises(ResponseValidationError, match="new_column"):
        sqlite_client.get(url, headers=sqlite_read_headers)


@pytest.mark.parametrize("address", ["userunknown@example.co.jp", "nobody@example.org"])
def test_the_hand_written_check_is_its_documented_model(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_read_headers: dict[str, str],
    address: str,
) -> None:
    # Twice: the route on the first call, the fast path once the key is cached.
    for _ in range(2):
        response = sqlite_client.get(f"/api/v1/suppression/{address}", headers=sqlite_read_headers)
        assert response.status_code == 200
        status = SuppressionStatus.model_validate_json(response.content)  # no extra key
        assert status.suppressed is (address != "nobody@example.org")
        assert list(json.loads(response.content)) == list(SuppressionStatus.model_fields)
