"""The dashboard in a real browser: the app under uvicorn on a free loopback port, a
SQLite ledger filled by processing corpus messages, Playwright driving Debian's Chromium.

The ledger, server and browser are made once per session (the tests change only what
they check: one contact's hold, one rule); each test gets a fresh browser context.
Screenshots go to docs/screenshots/<page>.png (kept in the repo).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.model import RawMessage
from bounceback.parse import parse
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_user

ROOT = Path(__file__).resolve().parents[3]
EMAILS = ROOT / "tests" / "fixtures" / "emails"
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")

ADMIN = ("admin", "correct horse battery staple")
VIEWER = ("viewer", "read only, look around")
CAMPAIGN = "spring-sale"  # active: its counters move
CLOSED = "winter-sale"  # closed before the bounces come: "not updated"
# Corpus messages processed into the ledger: hard, soft, complaints, sender-fault, delays.
MESSAGES = sorted(p.name for p in EMAILS.glob("lhost-*.eml")) + sorted(
    p.name for p in EMAILS.glob("arf-*.eml")
)


@dataclass(frozen=True)
class Site:
    url: str
    ledger: Ledger
    admin: tuple[str, str] = ADMIN
    viewer: tuple[str, str] = VIEWER
    campaign: str = CAMPAIGN
    closed_campaign: str = CLOSED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _recipients(data: bytes) -> list[str]:
    return [r.recipient for r in parse(data).records if "@" in r.recipient]


def fill(ledger: Ledger) -> None:
    """Contacts, a send log (each bounced message's send, and many that did not bounce),
    then the messages, spread over the last 12 days."""
    ledger.add_campaign(CAMPAIGN)
    ledger.add_campaign(CLOSED, status="closed")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    contacts: dict[str, str] = {}  # address: its campaign
    sends = ["email,campaign,sent_at"]
    pairs = []
    for n, name in enumerate(MESSAGES):
        data = (EMAILS / name).read_bytes()
        at = now - dt.timedelta(days=n % 12, hours=n % 5)
        for email in _recipients(data):
            if email.lower() not in contacts:
                contacts[email.lower()] = CLOSED if len(contacts) % 7 == 3 else CAMPAIGN
                try:
                    ledger.add_contact(email, name=email.split("@")[0].title())
                except ValueError:
                    continue  # an address the ledger refuses stays unmatched, as in life
            campaign = contacts[email.lower()]
            sends.append(f"{email},{campaign},{(at - dt.timedelta(hours=1)).isoformat()}")
        pairs.append((name, RawMessage(data=data, source="test", ref=name, received_at=at)))
    # The mail that was delivered: the rates have a denominator.
    for n in range(1200):
        sent = now - dt.timedelta(days=n % 12, hours=2)
        domain = ("gmail.com", "outlook.com", "example.com", "example.jp", "yahoo.co.jp")[n % 5]
        sends.append(f"reader{n}@{domain},{CAMPAIGN},{sent.isoformat()}")
    ledger.import_sends("\n".join(sends) + "\n")
    for _ in ledger.process(pairs):
        pass


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("dashboard") / "ledger.db"
    ledger = Ledger.open(Config(database_url=f"sqlite:///{path}", lock_timeout_ms=5000))
    fill(ledger)
    create_user(ledger, *ADMIN, role="admin")
    create_user(ledger, *VIEWER, role="read")
    app = FastAPI()
    # No secret_key: the session secret is generated and kept in the settings table.
    mount(app, WebContext(ledger=ledger, source_state=_sources))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    yield Site(f"http://127.0.0.1:{port}", ledger)
    server.should_exit = True
    thread.join(timeout=5)
    ledger.close()


def _sources() -> dict[str, Any]:
    """What serve's Metrics.health_json reports, for one healthy and one failing source."""
    return {
        "ok": False,
        "sources": {
            "imap:bounces": {"last_poll": "2026-11-23T10:00:00+00:00", "ok": True},
            "smtp": {
                "last_poll": "2026-11-23T10:01:00+00:00",
                "ok": False,
                "last_error": "connection refused",
                "last_error_at": "2026-11-23T10:01:00+00:00",
            },
        },
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "1":
            pytest.fail("/usr/bin/chromium is missing: CI must install it (.ci/apt-packages.txt)")
        pytest.skip("/usr/bin/chromium is not installed: the browser tests need Debian's Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # The Content-Security-Policy blocks inline script and style: a page that needs
    # them logs a violation, and that is a failure too.
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield tab
    context.close()
    assert not errors, f"JavaScript errors or policy violations on the page: {errors}"


_SESSIONS: dict[str, list[Any]] = {}  # username: its session cookies, reused by later tests


def log_in(page: Any, user: tuple[str, str] = ADMIN, own: bool = False) -> None:
    """Log in through the form once per user; later tests reuse that session's cookie.
    ``own``: a session of this test's alone (one it may log out: that ends it for all)."""
    if user[0] in _SESSIONS and not own:
        page.context.add_cookies(_SESSIONS[user[0]])
        return
    page.goto("/login")
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    if not own:
        _SESSIONS[user[0]] = page.context.cookies()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def login() -> Callable[..., None]:
    return log_in


@pytest.fixture
def screenshot() -> Callable[[Any, str], None]:
    return shot
