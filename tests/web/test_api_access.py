"""Who may do what: every API route needs a key; every write needs an admin key.
Missing, unknown, malformed, revoked and read-only keys are refused with JSON and
change nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bounceback.ledger import Ledger
from bounceback.web.auth import create_api_key, revoke_api_key

# Each write endpoint of the core resources with a body that would succeed with an admin key.
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/contacts/kijitora@example.jp/unhold", None),
    ("POST", "/api/v1/contacts/kijitora@example.jp/address", {"email": "new@example.org"}),
    ("POST", "/api/v1/holds/unhold", {"all": True}),
    ("POST", "/api/v1/suppression", {"email": "someone@example.org"}),
    ("DELETE", "/api/v1/suppression/kijitora@example.jp", None),
    ("POST", "/api/v1/sends", {"email": "someone@example.org"}),
]
WRITE_IDS = [f"{m} {p.removeprefix('/api/v1')}" for m, p, _ in WRITES]


def _state(ledger: Ledger) -> tuple[Any, ...]:
    view = ledger.contact_view("kijitora@example.jp")
    return (
        view,
        len(ledger.holds()),
        ledger.is_suppressed("someone@example.org"),
        ledger.is_suppressed("kijitora@example.jp"),
    )


def _bad_credentials(ledger: Ledger) -> dict[str, dict[str, str]]:
    revoked = create_api_key(ledger, "revoked", "admin")
    revoke_api_key(ledger, "revoked")
    good = create_api_key(ledger, "good", "admin")
    unknown = good[: len("bb_12345678_")] + "A" * 43
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "unknown key": {"Authorization": f"Bearer {unknown}"},
        "garbage": {"Authorization": "Bearer not-a-key"},
        "basic auth": {"Authorization": f"Basic {good}"},
        "key without scheme": {"Authorization": good},
        "revoked key": {"Authorization": f"Bearer {revoked}"},
    }


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_writes_refuse_bad_credentials(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_read_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    before = _state(seeded_sqlite)
    for why, headers in _bad_credentials(seeded_sqlite).items():
        response = sqlite_client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, why
        assert response.json()["status"] == 401 and response.json()["error"], why
        assert response.headers["www-authenticate"].startswith("Bearer"), why
    read = sqlite_client.request(method, path, headers=sqlite_read_headers, json=body)
    assert read.status_code == 403 and "admin" in read.json()["error"]
    assert _state(seeded_sqlite) == before  # nothing changed


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=WRITE_IDS)
def test_writes_work_with_an_admin_key(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_admin_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    before = _state(seeded_sqlite)
    response = sqlite_client.request(method, path, headers=sqlite_admin_headers, json=body)
    assert response.status_code in (200, 201), response.text
    if not path.endswith("/sends"):
        assert _state(seeded_sqlite) != before  # the control: this request does act


def _routes(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    """Every operation the API documents, its path filled in."""
    schema = client.get("/api/v1/openapi.json", headers=headers).json()
    found = []
    for template, operations in schema["paths"].items():
        path = re.sub(
            r"\{(\w+)\}", lambda m: "kijitora@example.jp" if "email" in m[1] else "1", template
        )
        found += [(method.upper(), "/api/v1" + path) for method in sorted(operations)]
    return found


def test_every_route_needs_a_key_and_every_write_an_admin_key(
    sqlite_client: TestClient, sqlite_ledger: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    routes = _routes(sqlite_client, sqlite_read_headers)
    assert len(routes) >= 15
    for method, path in routes:
        response = sqlite_client.request(method, path)
        assert response.status_code == 401, (method, path, response.status_code)
        # Trying a message on rules is a POST that writes nothing: a reader may.
        dry_run = path.rsplit("/", 1)[-1] in ("test", "try")
        if method in ("POST", "PUT", "PATCH", "DELETE") and not dry_run:
            denied = sqlite_client.request(method, path, headers=sqlite_read_headers)
            assert denied.status_code == 403, (method, path, denied.status_code)


def test_schema_lists_the_bearer_scheme(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    assert sqlite_client.get("/api/v1/openapi.json").status_code == 401
    assert sqlite_client.get("/api/v1/docs").status_code == 200  # a page, the schema not in it
    schema = sqlite_client.get("/api/v1/openapi.json", headers=sqlite_read_headers).json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    check = schema["paths"]["/suppression/{email}"]["get"]
    assert {"ApiKey": []} in check["security"]
