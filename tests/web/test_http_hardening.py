"""serve's HTTP app against hostile requests: bodies capped while they are read,
nesting and dates that used to answer 500, addresses with a "/", browser headers,
the Secure cookie setting. The app is the one ``serve`` builds from its config."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback import config as config_mod
from bounceback.ledger import Ledger
from bounceback.serve import Server
from bounceback.serve_config import serve_config
from bounceback.sources.webhooks.routes import MAX_BODY as WEBHOOK_MAX_BODY
from bounceback.web.auth import create_api_key, create_user
from bounceback.web.body_limit import DEFAULT_MAX_BODY
from bounceback.web.session import COOKIE

CHUNK = 64 * 1024
PASSWORD = "a long enough password"


def serve_app(root: Path, http: str = "", db: str = "") -> tuple[FastAPI, Ledger]:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "bounceback.toml"
    url = db or f"sqlite:///{root / 'ledger.db'}"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[http]\nlisten = "127.0.0.1:0"\n{http}\n'
        '[webhooks.ses]\n\n[webhooks.mailgun]\nsigning_key = "key-x"\n',
        encoding="utf-8",
    )
    cfg = config_mod.load(config, env={})
    ledger = Ledger.open(cfg)
    return Server(serve_config(cfg), ledger, only="http").app(), ledger


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[FastAPI, Ledger]]:
    made = serve_app(tmp_path)
    yield made
    made[1].close()


class Counted:
    """A chunked request body of ``total`` bytes that counts what the server pulled."""

    def __init__(self, total: int, fill: bytes = b" ") -> None:
        self.total, self.fill, self.pulled = total, fill, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield self.fill * CHUNK


def post_counted(app: FastAPI, path: str, body: Counted, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, content=body, headers=headers)

    # A thread of its own: the browser tests' Playwright keeps a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go).result()


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/webhooks/ses", WEBHOOK_MAX_BODY),
        ("/webhooks/mailgun", WEBHOOK_MAX_BODY),
        ("/api/v1/suppression", DEFAULT_MAX_BODY),
        ("/api/v1/rules/test", DEFAULT_MAX_BODY),
        ("/login", DEFAULT_MAX_BODY),
    ],
)
def test_a_chunked_body_is_refused_at_the_limit(
    app: tuple[FastAPI, Ledger], path: str, limit: int
) -> None:
    body = Counted(4 * DEFAULT_MAX_BODY)  # no Content-Length: sent chunked
    form = path == "/login"
    headers = {"content-type": "application/x-www-form-urlencoded" if form else "application/json"}
    if path.startswith("/api/"):  # a key: the handler goes on to read the body
        headers["authorization"] = f"Bearer {create_api_key(app[1], 'writer', 'admin')}"
    answer = post_counted(app[0], path, body, **headers)
    # A form field stops at Starlette's own 1 MB field limit first (400): also early.
    assert answer.status_code in ((400, 413) if form else (413,)), answer.text
    assert body.pulled <= limit + CHUNK, f"read {body.pulled} bytes of a {limit}-byte limit"
    if answer.status_code == 413:  # and the server will not drain the rest either
        assert answer.headers.get("connection") == "close"


def test_a_declared_length_over_the_limit_is_refused_unread(app: tuple[FastAPI, Ledger]) -> None:
    body = Counted(DEFAULT_MAX_BODY + CHUNK)
    length = str(body.total)
    answer = post_counted(app[0], "/webhooks/ses", body, **{"content-length": length})
    assert answer.status_code == 413
    assert body.pulled == 0


def test_bodies_under_the_limit_still_arrive(app: tuple[FastAPI, Ledger]) -> None:
    ledger = app[1]
    key = create_api_key(ledger, "writer", "admin")
    with TestClient(app[0]) as client:
        answer = client.post(
            "/api/v1/suppression",
            json={"email": "x@example.org", "reason": "asked"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code in (200, 201), answer.text
        check = client.get("/api/v1/suppression/x@example.org", headers=answer.request.headers)
        assert check.json()["suppressed"] is True


def test_deep_nesting_is_a_bad_request(app: tuple[FastAPI, Ledger]) -> None:
    deep = b"[" * 100_000
    key = create_api_key(app[1], "writer", "admin")
    auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    with TestClient(app[0], raise_server_exceptions=False) as client:
        for path in ("/webhooks/ses", "/webhooks/mailgun"):
            answer = client.post(path, content=deep)
            assert answer.status_code == 400, (path, answer.status_code, answer.text)
        for path in ("/api/v1/suppression", "/api/v1/rules/test"):
            answer = client.post(path, content=deep, headers=auth)
            assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/stats/daily?until=0001-01-01",
        "/api/v1/stats/campaigns?until=0001-01-01",
        "/api/v1/stats/reasons?until=0001-01-05",
        "/api/v1/bounces?since=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_dates_at_the_calendar_edge_are_refused(app: tuple[FastAPI, Ledger], query: str) -> None:
    key = create_api_key(app[1], "reader", "read")
    with TestClient(app[0], raise_server_exceptions=False) as client:
        answer = client.get(query, headers={"Authorization": f"Bearer {key}"})
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)


def log_in(client: TestClient, user: str = "boss") -> None:
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    data = {"csrf_token": found.group(1), "username": user, "password": PASSWORD}
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_an_address_with_a_slash_has_its_page_and_api_path(app: tuple[FastAPI, Ledger]) -> None:
    ledger = app[1]
    ledger.add_contact("dept/sales@example.org", "Sales")
    ledger.suppress("dept/sales@example.org", "asked")
    create_user(ledger, "boss", PASSWORD)
    auth = {"Authorization": f"Bearer {create_api_key(ledger, 'reader', 'read')}"}
    with TestClient(app[0]) as client:
        for path in ("dept/sales@example.org", "dept%2Fsales%40example.org"):
            got = client.get(f"/api/v1/contacts/{path}", headers=auth)
            assert got.status_code == 200, (path, got.text)
            assert got.json()["email"] == "dept/sales@example.org"
            timeline = client.get(f"/api/v1/contacts/{path}/timeline", headers=auth)
            assert timeline.status_code == 200, timeline.text
            check = client.get(f"/api/v1/suppression/{path}", headers=auth)
            assert check.status_code == 200 and check.json()["suppressed"] is True, check.text
        # Unknown query parameters are still refused on the {email:path} routes.
        odd = client.get("/api/v1/contacts/dept/sales@example.org?colour=red", headers=auth)
        assert odd.status_code == 422
        log_in(client)
        page = client.get("/contacts/dept%2Fsales%40example.org")
        assert page.status_code == 200, page.text
        assert "dept/sales@example.org" in page.text
        assert client.get("/contacts/dept/sales@example.org").status_code == 200


def test_pages_and_api_carry_the_browser_headers(app: tuple[FastAPI, Ledger]) -> None:
    with TestClient(app[0]) as client:
        for path in ("/login", "/api/v1/contacts", "/static/dashboard.css"):
            headers = client.get(path).headers
            csp = headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
            assert "unsafe-inline" not in csp
            assert headers.get("x-frame-options") == "DENY", path
            assert headers.get("x-content-type-options") == "nosniff", path


def test_the_templates_hold_no_inline_script_or_style() -> None:
    """What the policy would block: event handler attributes, style attributes,
    script blocks that run (JSON data blocks do not)."""
    templates = Path(__file__).resolve().parents[2] / "src/bounceback/web/dashboard/templates"
    for template in templates.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert not re.search(r"\sstyle=", text), template.name
        for script in re.findall(r"<script[^>]*>", text):
            assert "src=" in script or 'type="application/json"' in script, template.name


def session_cookie(client: TestClient) -> str:
    answer = client.get("/login")
    cookies = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    found = [c for c in cookies if c.startswith(COOKIE + "=")]
    assert found, cookies
    return found[0].lower()


def test_the_session_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    plain, ledger = serve_app(tmp_path / "plain")
    with TestClient(plain) as client:
        assert "; secure" not in session_cookie(client)
    ledger.close()
    secure, ledger = serve_app(tmp_path / "tls", http="secure_cookies = true")
    with TestClient(secure, base_url="https://testserver") as client:
        cookie = session_cookie(client)
        assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    ledger.close()
