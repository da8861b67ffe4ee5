"""Erasing from the contact page over HTTP: admin only, the typed address confirms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback.ledger import Ledger
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_user

PERSON = "erase.me@example.org"
PASSWORD = "a long enough password"


@pytest.fixture
def web(sqlite_ledger: Ledger) -> Iterator[TestClient]:
    create_user(sqlite_ledger, "boss", PASSWORD, role="admin")
    create_user(sqlite_ledger, "viewer", PASSWORD, role="read")
    sqlite_ledger.add_contact(PERSON, "Erase Me")
    app = FastAPI()
    mount(app, WebContext(ledger=sqlite_ledger, secret_key="test secret"))
    with TestClient(app) as client:
        yield client


def token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"{path} has a form token"
    return found.group(1)


def log_in(client: TestClient, user: str) -> None:
    form = {"csrf_token": token(client, "/login"), "username": user, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_an_admin_confirms_by_typing_the_address(web: TestClient, sqlite_ledger: Ledger) -> None:
    log_in(web, "boss")
    page = web.get(f"/contacts/{PERSON}").text
    assert "Erase permanently" in page
    csrf = token(web, f"/contacts/{PERSON}")
    wrong = web.post(
        f"/contacts/{PERSON}/erase",
        data={"csrf_token": csrf, "confirm": "someone@example.org"},
        follow_redirects=False,
    )
    assert wrong.headers["location"] == f"/contacts/{PERSON}"
    assert "type the address exactly" in web.get(wrong.headers["location"]).text
    assert sqlite_ledger.contact_view(PERSON) is not None
    done = web.post(
        f"/contacts/{PERSON}/erase",
        data={"csrf_token": csrf, "confirm": f" {PERSON.upper()} "},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/contacts"
    assert sqlite_ledger.contact_view(PERSON) is None
    assert sqlite_ledger.is_suppressed(PERSON)
    assert "Erased (record 1)" in web.get("/contacts").text
    with sqlite_ledger.engine.connect() as conn:
        operator = conn.exec_driver_sql("SELECT operator FROM erasures").scalar()
    assert operator == "dashboard user boss"


def test_a_viewer_sees_no_button_and_gets_403(web: TestClient, sqlite_ledger: Ledger) -> None:
    log_in(web, "viewer")
    page = web.get(f"/contacts/{PERSON}").text
    assert "Erase permanently" not in page
    csrf = token(web, "/contacts")
    refused = web.post(f"/contacts/{PERSON}/erase", data={"csrf_token": csrf, "confirm": PERSON})
    assert refused.status_code == 403
    assert sqlite_ledger.contact_view(PERSON) is not None


def test_in_a_browser_the_admin_opens_the_step_types_and_erases(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    address = "browser.erase@example.org"  # its own contact: the site is shared
    site.ledger.add_contact(address, "Browser Erase")
    login(page)
    page.goto(f"/contacts/{address}")
    button = page.get_by_role("button", name="Erase permanently")
    assert not button.is_visible()  # behind the "Erase this person…" step
    page.locator("#erase summary").click()
    page.get_by_label("Type the address to confirm").fill(address)
    button.click()
    page.wait_for_url("**/contacts")
    assert "Erased (record" in page.locator(".flash").inner_text()
    assert site.ledger.contact_view(address) is None
    assert site.ledger.is_suppressed(address)
