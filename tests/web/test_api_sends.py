"""/api/v1/sends: register a send, get its bounceback id and VERP return path, and see
a bounce that quotes it matched to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_api_key
from support.samples import dsn


def test_register_and_read_a_send(
    client: TestClient, web_ledger: Ledger, admin_headers: dict[str, str]
) -> None:
    web_ledger.add_contact("kijitora@example.org", "Kijitora")
    body = {"email": "Kijitora@Example.org", "campaign": "autumn", "message_id": "<m1@example.org>"}
    response = client.post("/api/v1/sends", headers=admin_headers, json=body)
    assert response.status_code == 201, response.text
    stamp = response.json()
    send_id = stamp["send_id"]
    assert re.fullmatch(rf"bb\.{send_id}\.[a-z2-7]+", stamp["bounceback_id"])
    assert stamp["return_path"] is None  # no [verp] configured
    shown = client.get(f"/api/v1/sends/{send_id}", headers=admin_headers).json()
    assert shown["email"] == "kijitora@example.org" and shown["campaign"] == "autumn"
    assert shown["message_id"] == "<m1@example.org>"
    assert shown["bounceback_id"] == stamp["bounceback_id"] and shown["bounces"] == 0
    assert shown["contact_id"] is not None
    missing = client.get("/api/v1/sends/999999", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["status"] == 404


@pytest.fixture
def verp_client(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[TestClient, Ledger]]:
    target = tmp_path / "verp.db"
    target.write_bytes(sqlite_template.read_bytes())
    config = Config(database_url=f"sqlite:///{target}")
    config.verp.domain = "bounces.example.org"
    config.verp.active_key = "k1"
    config.verp.keys = {"k1": b"a long random secret for the test"}
    ledger = Ledger.open(config)
    app = FastAPI()
    mount(app, WebContext(ledger=ledger, secret_key="test"))
    with TestClient(app) as test_client:
        yield test_client, ledger
    ledger.close()


def test_return_path_is_verp_and_a_bounce_to_it_matches(
    verp_client: tuple[TestClient, Ledger],
) -> None:
    client, ledger = verp_client
    headers = {"Authorization": f"Bearer {create_api_key(ledger, 'sender', 'admin')}"}
    ledger.add_contact("kijitora@example.org")
    response = client.post("/api/v1/sends", headers=headers, json={"email": "kijitora@example.org"})
    stamp = response.json()
    assert stamp["return_path"].endswith("@bounces.example.org")
    assert stamp["return_path"].startswith("bounce+k1.")
    # The bounce comes back to the VERP address, naming another recipient: the
    # return path alone ties it to the send.
    message = dsn("someone.else@example.net", "5.1.1", return_path=stamp["return_path"])
    outcome = ledger.process_bytes(message)
    assert outcome.outcome == "matched"
    shown = client.get(f"/api/v1/sends/{stamp['send_id']}", headers=headers).json()
    assert shown["bounces"] == 1


def test_bad_send_bodies(sqlite_client: TestClient, sqlite_admin_headers: dict[str, str]) -> None:
    for body, words in (
        ({"email": "nope"}, "email"),
        ({}, "email"),
        ({"email": "a@example.org", "campaign": ""}, "campaign"),
        ({"email": "a@example.org", "sent": "now"}, "sent"),
        ({"email": "a@example.org", "message_id": "x" * 999}, "message_id"),
    ):
        response = sqlite_client.post("/api/v1/sends", headers=sqlite_admin_headers, json=body)
        assert response.status_code == 422, body
        assert words in response.json()["error"]
