"""The dashboard over HTTP without a browser: every page needs a login, forms need the
token, text from mail and users is escaped, the API never gets a session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bounceback.ledger import Ledger, rules_store
from bounceback.ledger import tables as t
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_user, set_password
from bounceback.web.session import COOKIE

EMAILS = Path(__file__).resolve().parents[2] / "fixtures" / "emails"
PAGES = (
    "/",
    "/contacts",
    "/holds",
    "/suppression",
    "/suppression.csv",
    "/bounces",
    "/bounces/1",
    "/quarantine",
    "/campaigns",
    "/health-report",
    "/rules",
    "/settings",
)


@pytest.fixture
def web(sqlite_ledger: Ledger) -> Iterator[TestClient]:
    create_user(sqlite_ledger, "boss", "a long enough password", role="admin")
    app = FastAPI()
    mount(app, WebContext(ledger=sqlite_ledger, secret_key="test secret"))
    with TestClient(app) as client:
        yield client


def token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"{path} has a form token"
    return found.group(1)


def log_in(client: TestClient) -> None:
    answer = client.post(
        "/login",
        data={
            "csrf_token": token(client),
            "username": "boss",
            "password": "a long enough password",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(web: TestClient, path: str) -> None:
    answer = web.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_every_page_renders_on_an_empty_ledger(web: TestClient) -> None:
    log_in(web)
    for path in PAGES:
        answer = web.get(path)
        assert answer.status_code == (404 if path == "/bounces/1" else 200), path
        if path.endswith(".csv"):
            assert answer.text == "email,reason,source,since\n"
        else:
            assert "<title>" in answer.text


def test_posts_need_the_token(web: TestClient, sqlite_ledger: Ledger) -> None:
    sqlite_ledger.add_contact("held@example.org")
    log_in(web)
    for path in (
        "/contacts/held@example.org/unhold",
        "/holds/unhold",
        "/rules",
        "/settings",
        "/suppression",
        "/suppression/remove",
        "/suppression/import",
        "/quarantine/1/retry",
        "/quarantine/1/release",
        "/quarantine/1/delete",
        "/bounces/1/correct",
        "/bounces/1/correct/preview",
        "/bounces/1/correct/apply",
    ):
        answer = web.post(path, data={"email": "held@example.org"})
        assert answer.status_code == 403, path
        assert "security token is missing" in answer.text


def test_text_is_escaped(web: TestClient, sqlite_ledger: Ledger) -> None:
    sqlite_ledger.add_contact("x@example.org", name="<script>alert(1)</script>")
    log_in(web)
    page = web.get("/contacts?q=x@example.org").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_api_gets_no_session_cookie(web: TestClient) -> None:
    log_in(web)
    web.cookies.clear()
    answer = web.get("/api/v1/suppression/x@example.org")
    assert answer.status_code == 401  # a bearer key, never a cookie
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_a_session_from_another_secret_is_not_accepted(
    sqlite_ledger: Ledger, web: TestClient
) -> None:
    log_in(web)
    other = FastAPI()
    mount(other, WebContext(ledger=sqlite_ledger, secret_key="another secret"))
    with TestClient(other, cookies={COOKIE: web.cookies[COOKIE]}) as client:
        assert client.get("/", follow_redirects=False).status_code == 303


def test_a_new_address_through_the_form(web: TestClient, sqlite_ledger: Ledger) -> None:
    sqlite_ledger.add_contact("old@example.org", name="Jane")
    log_in(web)
    form = {"csrf_token": token(web, "/contacts/old@example.org"), "email": "Jane@Example.NET"}
    answer = web.post("/contacts/old@example.org/address", data=form)
    assert answer.status_code == 200
    assert "now Jane@Example.NET" in answer.text
    view = sqlite_ledger.contact_view("jane@example.net")
    assert view is not None and view["name"] == "Jane"
    # A taken or bad address is refused with the ledger's reason.
    sqlite_ledger.add_contact("taken@example.org")
    form["email"] = "taken@example.org"
    answer = web.post("/contacts/jane@example.net/address", data=form)
    assert "already belongs to another contact" in answer.text


def test_the_raw_message_is_text_not_markup(web: TestClient, sqlite_ledger: Ledger) -> None:
    """A bounce with an HTML part: its tags show as text in the <pre>, never as markup."""
    data = (EMAILS / "lhost-office365-09.eml").read_bytes()
    assert b"<html><head>" in data
    sqlite_ledger.add_contact("azumakuniyuki@example.ne.jp")
    sqlite_ledger.process_bytes(data)
    log_in(web)
    page = web.get("/bounces?matched=yes").text
    event = re.search(r'href="/bounces/(\d+)"', page)
    assert event
    detail = web.get(f"/bounces/{event.group(1)}").text
    raw = detail[detail.index('<pre class="raw">') :]
    raw = raw[: raw.index("</pre>")]
    assert "&lt;html&gt;&lt;head&gt;" in raw
    assert "<html>" not in raw and "<a " not in raw


def test_a_new_password_ends_the_old_sessions(web: TestClient, sqlite_ledger: Ledger) -> None:
    log_in(web)
    assert web.get("/", follow_redirects=False).status_code == 200
    set_password(sqlite_ledger, "boss", "another long password")
    answer = web.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_logging_out_ends_every_copy_of_the_session(web: TestClient, sqlite_ledger: Ledger) -> None:
    log_in(web)
    copied = web.cookies[COOKIE]  # a copy taken before logging out (a stolen cookie)
    other_session = TestClient(web.app, cookies={COOKIE: copied})
    assert other_session.get("/", follow_redirects=False).status_code == 200
    answer = web.post("/logout", data={"csrf_token": token(web, "/")}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    refused = other_session.get("/", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    # Another login of the same user is a new session, not touched by the logout.
    log_in(web)
    assert web.get("/", follow_redirects=False).status_code == 200
    with sqlite_ledger.engine.connect() as conn:
        rows = conn.execute(select(t.revoked_sessions.c.username)).scalars().all()
    assert rows == ["boss"]


def test_a_role_change_applies_at_once(web: TestClient, sqlite_ledger: Ledger) -> None:
    log_in(web)
    assert "Save settings" in web.get("/settings").text
    with sqlite_ledger.engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.username == "boss").values(role="read"))
    page = web.get("/settings").text
    assert "Save settings" not in page and "Read-only access" in page


def test_the_test_box_works_without_javascript(web: TestClient) -> None:
    """The form posts, the whole page comes back with the decision (nothing saved)."""
    log_in(web)
    message = (EMAILS / "lhost-exim-07.eml").read_text(encoding="utf-8")
    form = {
        "csrf_token": token(web, "/rules"),
        "message": message,
        "draft_form": "section",
        "draft_section": "body",
        "draft_type": "hard",
        "draft_text": "retry timeout exceeded",
    }
    page = web.post("/rules/test", files={"file": ("", b"")}, data=form).text
    assert "<h1>Rules</h1>" in page
    assert 'data-recipient="shiba@example.com"' in page
    draft = page[page.index('data-verdict="draft"') :]
    assert "badge hard" in draft[: draft.index("</tr>")]
    assert "No rules yet" in page  # the draft was not saved


def test_edit_a_rule_through_its_form(web: TestClient, sqlite_ledger: Ledger) -> None:
    made = rules_store.create(sqlite_ledger, {"pattern": "550 5.7.1 Unfortunately==>Hard"})
    log_in(web)
    form = {
        "csrf_token": token(web, "/rules"),
        "has_enabled": "1",  # the edit form's checkbox is there, and left unticked
        "form": "section",
        "section": "subject",
        "type": "soft",
        "text": "Delivery delayed",
        "bounce_type": "Quota",
        "note": "from the form",
    }
    page = web.post(f"/rules/{made['id']}", data=form).text
    assert f"Rule db-{made['id']} saved." in page
    rule = rules_store.get_rule(sqlite_ledger, made["id"])
    assert (rule["form"], rule["section"], rule["type"], rule["text"]) == (
        "section",
        "subject",
        "soft",
        "Delivery delayed",
    )
    assert rule["bounce_type"] == "Quota" and rule["note"] == "from the form"
    assert rule["enabled"] is False
    form["type"] = "sometimes"
    page = web.post(f"/rules/{made['id']}", data=form).text
    assert "Not saved: rule: type must be hard, soft or both" in page


def test_guessing_a_password_is_throttled(web: TestClient) -> None:
    def attempt(password: str) -> int:
        data = {"csrf_token": token(web), "username": "boss", "password": password}
        return web.post("/login", data=data, follow_redirects=False).status_code

    assert [attempt(f"guess {n}") for n in range(5)] == [401] * 5
    # Now even the right password waits: the guesser cannot tell it was right.
    data = {"csrf_token": token(web), "username": "boss", "password": "a long enough password"}
    refused = web.post("/login", data=data, follow_redirects=False)
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text
    assert web.get("/", follow_redirects=False).status_code in (302, 303, 307)  # not logged in


def test_a_read_only_user_changes_nothing(web: TestClient, sqlite_ledger: Ledger) -> None:
    create_user(sqlite_ledger, "looker", "another long enough password", role="read")
    sqlite_ledger.suppress("kept@example.org", "asked")
    data = {"username": "looker", "password": "another long enough password"}
    web.post("/login", data={"csrf_token": token(web), **data})
    form = {"csrf_token": token(web, "/suppression"), "email": "kept@example.org"}
    for path in ("/suppression", "/suppression/remove", "/quarantine/1/delete"):
        answer = web.post(path, data=form)
        assert answer.status_code == 403, path
        assert "read-only access" in answer.text
    assert sqlite_ledger.is_suppressed("kept@example.org")
    assert 'action="/suppression/remove"' not in web.get("/suppression").text


def test_suppression_import_formats(web: TestClient, sqlite_ledger: Ledger) -> None:
    """A CSV with a header (any column order, a BOM from a spreadsheet) and a plain list
    of addresses both import; the list is searched by address, @domain and reason."""
    log_in(web)
    with_header = "\ufeffreason,email\r\nbounced by hand,One@Example.org\r\n,two@example.org\r\n"
    plain = "three@example.net\nfour@example.net,from the old tool\n\n"
    for name, text, said in (
        ("sheet.csv", with_header, "Imported 2 addresses; 0 already listed; 0 not addresses."),
        ("list.txt", plain, "Imported 2 addresses; 0 already listed; 0 not addresses."),
    ):
        files = {"file": (name, text.encode("utf-8"), "text/csv")}
        page = web.post(
            "/suppression/import", data={"csrf_token": token(web, "/suppression")}, files=files
        )
        assert said in page.text, name
    listed = {r["email"]: r for r in sqlite_ledger.suppressions()}
    assert set(listed) == {
        "one@example.org",
        "two@example.org",
        "three@example.net",
        "four@example.net",
    }
    assert listed["one@example.org"]["reason"] == "bounced by hand"
    assert listed["four@example.net"]["reason"] == "from the old tool"
    assert all(r["source"] == "manual" for r in listed.values())
    page = web.get("/suppression", params={"q": "@example.net"}).text
    assert "three@example.net" in page and "one@example.org" not in page
    page = web.get("/suppression", params={"q": "OLD TOOL"}).text
    assert "four@example.net" in page and "three@example.net" not in page
    # No file chosen: said so, nothing changes.
    empty = {"file": ("", b"", "application/octet-stream")}
    page = web.post(
        "/suppression/import", data={"csrf_token": token(web, "/suppression")}, files=empty
    )
    assert "Choose a CSV file" in page.text


def test_quarantine_actions_on_a_missing_message(web: TestClient) -> None:
    log_in(web)
    for action in ("retry", "release", "delete"):
        page = web.post(f"/quarantine/999/{action}", data={"csrf_token": token(web, "/quarantine")})
        assert "no quarantined message 999" in page.text, action
    assert web.get("/quarantine/999").status_code == 404
    assert web.get("/quarantine/999/raw").status_code == 404
