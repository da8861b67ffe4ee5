"""The web app on a fresh ledger: an httpx client for the API, keys of each scope.

``web_ledger`` runs on SQLite and on a real PostgreSQL (``db_url``); tests that need
only one kind use ``sqlite_ledger``. Never import from conftest: use the fixtures.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.model import RawMessage
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_api_key

EMAILS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"


def email_bytes(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def _open(url: str) -> Ledger:
    return Ledger.open(Config(database_url=url, lock_timeout_ms=2000))


@pytest.fixture
def web_ledger(db_url: str) -> Iterator[Ledger]:
    ledger = _open(db_url)
    yield ledger
    ledger.close()


@pytest.fixture
def sqlite_ledger(tmp_path: Path, sqlite_template: Path) -> Iterator[Ledger]:
    target = tmp_path / "web.db"
    shutil.copy(sqlite_template, target)
    ledger = _open(f"sqlite:///{target}")
    yield ledger
    ledger.close()


def make_app(ledger: Ledger) -> FastAPI:
    app = FastAPI()
    mount(app, WebContext(ledger=ledger, secret_key="test secret"))
    return app


@pytest.fixture
def client(web_ledger: Ledger) -> Iterator[TestClient]:
    """The app on ``web_ledger`` (both database kinds), no credentials set."""
    with TestClient(make_app(web_ledger)) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(sqlite_ledger: Ledger) -> Iterator[TestClient]:
    with TestClient(make_app(sqlite_ledger)) as test_client:
        yield test_client


def _key_headers(ledger: Ledger, scope: str) -> dict[str, str]:
    """The header of a new API key of ``scope`` (named test-<scope>)."""
    return {"Authorization": f"Bearer {create_api_key(ledger, f'test-{scope}', scope)}"}


@pytest.fixture
def admin_headers(web_ledger: Ledger) -> dict[str, str]:
    return _key_headers(web_ledger, "admin")


@pytest.fixture
def read_headers(web_ledger: Ledger) -> dict[str, str]:
    return _key_headers(web_ledger, "read")


@pytest.fixture
def sqlite_admin_headers(sqlite_ledger: Ledger) -> dict[str, str]:
    return _key_headers(sqlite_ledger, "admin")


@pytest.fixture
def sqlite_read_headers(sqlite_ledger: Ledger) -> dict[str, str]:
    return _key_headers(sqlite_ledger, "read")


# Real corpus bounces, each processed at its own time (oldest first): the hard ones
# put their (known) addresses on hold and suppress them; gmail-01's and arf-01's
# recipients are nobody's (unmatched). The "spring" campaign mailed two contacts.
SEED_CONTACTS = (
    ("filtered@example.co.jp", "Filtered"),
    ("userunknown@example.co.jp", "Unknown"),
    ("kijitora@example.jp", "Kijitora"),
    ("sabatora@example.jp", "Sabatora"),
    ("shiba@example.com", "Shiba Inu"),
    ("kijitora@example.net", "Kijitora Net"),
)
SEED_MESSAGES = (
    "lhost-postfix-02.eml",  # filtered@, userunknown@example.co.jp: userunknown, hard
    "lhost-exim-02.eml",  # kijitora@, sabatora@example.jp: userunknown, hard
    "lhost-exim-07.eml",  # shiba@example.com: mailboxfull, soft (Quota)
    "written-postfix-filtered-01.eml",  # kijitora@example.net: filtered, soft (Spam)
    "lhost-gmail-01.eml",  # userunknown@example.jp: hard, unmatched
    "arf-01.eml",  # a complaint, unmatched
)
SEED_START = dt.datetime(2026, 1, 10, 12, 0)


def seed(ledger: Ledger) -> None:
    for address, name in SEED_CONTACTS:
        ledger.add_contact(address, name)
    ledger.record_send("shiba@example.com", "spring", sent_at=SEED_START - dt.timedelta(days=1))
    ledger.record_send("kijitora@example.jp", "spring", sent_at=SEED_START - dt.timedelta(days=1))
    for day, name in enumerate(SEED_MESSAGES):
        raw = RawMessage(
            data=email_bytes(name), source="test", received_at=SEED_START + dt.timedelta(days=day)
        )
        for outcome in ledger.process([(name, raw)]):
            assert outcome.outcome in ("matched", "unmatched"), outcome


@pytest.fixture
def seeded_ledger(web_ledger: Ledger) -> Ledger:
    """``web_ledger`` (both kinds) after ``seed``: 8 events, 5 addresses on hold."""
    seed(web_ledger)
    return web_ledger


@pytest.fixture
def seeded_sqlite(sqlite_ledger: Ledger) -> Ledger:
    seed(sqlite_ledger)
    return sqlite_ledger
