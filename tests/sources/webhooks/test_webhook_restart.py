"""Mailgun tokens outlive the process: ``serve``'s app keeps them in the database, so
a token seen before a restart is refused after it, whatever body comes with it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webhook_payloads import mailgun_failed

from bounceback import config as config_mod
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.serve import Server
from bounceback.serve_config import serve_config

KEY = "key-restart-test"
TOKEN = "f" * 50


def signed_body(event: dict[str, Any], token: str = TOKEN) -> bytes:
    ts = str(int(time.time()))
    sig = hmac.new(KEY.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    payload = {"signature": {"timestamp": ts, "token": token, "signature": sig}}
    return json.dumps({**payload, "event-data": event}).encode()


def start(config: Path) -> tuple[TestClient, Ledger]:
    """A fresh process's worth of state: config read again, ledger opened again."""
    cfg = config_mod.load(config, env={})
    ledger = Ledger.open(cfg)
    return TestClient(Server(serve_config(cfg), ledger, only="http").app()), ledger


def events_for(ledger: Ledger, email: str) -> int:
    e = t.events.c
    with ledger.engine.connect() as conn:
        query = select(func.count()).select_from(t.events).where(e.email == email)
        return int(conn.execute(query).scalar_one())


def test_a_token_is_refused_after_a_restart(tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "bounceback.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n[webhooks.mailgun]\nsigning_key = "{KEY}"\n',
        encoding="utf-8",
    )
    first, ledger = start(config)
    answer = first.post("/webhooks/mailgun", content=signed_body(mailgun_failed()))
    assert answer.status_code == 200, answer.text
    assert events_for(ledger, "jane@example.com") == 1
    ledger.close()

    # Mailgun's HMAC covers timestamp + token only: the same signature with another
    # event (another id, another recipient) must not reach the ledger.
    forged = {**mailgun_failed(), "id": "forged-1", "recipient": "ceo@example.com"}
    second, ledger = start(config)
    answer = second.post("/webhooks/mailgun", content=signed_body(forged))
    assert answer.status_code == 403, answer.text
    assert "replayed" in answer.json()["error"]
    assert events_for(ledger, "ceo@example.com") == 0
    # A new token is still welcome.
    fresh = signed_body({**mailgun_failed(), "id": "next-1"}, token="e" * 50)
    assert second.post("/webhooks/mailgun", content=fresh).status_code == 200
    ledger.close()


def test_a_token_whose_events_were_not_stored_may_come_again(tmp_path: Path) -> None:
    """The token goes back when storing fails, so Mailgun's retry is accepted."""
    config = tmp_path / "bounceback.toml"
    db = tmp_path / "ledger.db"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n\n[webhooks.mailgun]\nsigning_key = "{KEY}"\n',
        encoding="utf-8",
    )
    cfg = config_mod.load(config, env={})
    ledger = Ledger.open(cfg)
    server = Server(serve_config(cfg), ledger, only="http")
    broken = {"fail": True}
    store = ledger.store_events

    def flaky(events: Any) -> Any:
        if broken["fail"]:
            raise RuntimeError("database down")
        return store(events)

    ledger.store_events = flaky  # type: ignore[method-assign]
    client = TestClient(server.app())
    body = signed_body(mailgun_failed())
    assert client.post("/webhooks/mailgun", content=body).status_code == 503
    broken["fail"] = False
    assert client.post("/webhooks/mailgun", content=body).status_code == 200
    assert client.post("/webhooks/mailgun", content=body).status_code == 403
    ledger.close()
