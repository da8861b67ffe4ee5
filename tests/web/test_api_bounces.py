"""/api/v1/bounces over real corpus bounces (``seed``): filters, newest-first cursor
paging, one bounce's fields, and bad input answered as JSON errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback.ledger import Ledger, LedgerUnavailable, bounces
from bounceback.web import WebContext, mount

# The seeded events, newest first: (message, recipient).
NEWEST_FIRST = [
    "redacted@example.net",  # arf-01, complaint, unmatched
    "userunknown@example.jp",  # gmail-01, unmatched
    "kijitora@example.net",  # written-postfix-filtered-01, Spam
    "shiba@example.com",  # exim-07, Quota, campaign spring
    "sabatora@example.jp",  # exim-02 (two records: same time, id order)
    "kijitora@example.jp",
    "userunknown@example.co.jp",  # postfix-02
    "filtered@example.co.jp",
]


def emails(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/bounces", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    return [item["email"] for item in body["items"]]


def test_pages_cover_every_bounce_once_newest_first(
    client: TestClient, seeded_ledger: Ledger, read_headers: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/bounces", headers=read_headers, params=params).json()
        pages += 1
        assert len(body["items"]) <= 3
        seen += [item["email"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == NEWEST_FIRST


def test_filters(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    def get(**p: Any) -> list[str]:
        return emails(sqlite_client, sqlite_read_headers, **p)

    assert get() == NEWEST_FIRST
    assert get(hard="true") == [
        "userunknown@example.jp",
        "sabatora@example.jp",
        "kijitora@example.jp",
        "userunknown@example.co.jp",
        "filtered@example.co.jp",
    ]
    assert get(hard="false") == [
        "redacted@example.net",
        "kijitora@example.net",
        "shiba@example.com",
    ]
    assert get(matched="false") == ["redacted@example.net", "userunknown@example.jp"]
    assert len(get(matched="true")) == 6
    assert get(campaign="spring") == ["shiba@example.com", "kijitora@example.jp"]
    assert get(campaign="nope") == []
    assert get(domain="example.co.jp") == NEWEST_FIRST[-2:]
    assert get(domain="EXAMPLE.CO.JP") == NEWEST_FIRST[-2:]
    assert get(reason="mailboxfull") == ["shiba@example.com"]
    assert get(bounce_type="Spam") == ["kijitora@example.net"]
    assert get(kind="complaint") == ["redacted@example.net"]
    assert get(reason="userunknown", matched="true", domain="example.jp") == [
        "sabatora@example.jp",
        "kijitora@example.jp",
    ]
    # Times: since inclusive, until exclusive; an offset is converted to UTC.
    assert get(since="2026-01-12T12:00:00", until="2026-01-13T12:00:00") == ["shiba@example.com"]
    assert get(since="2026-01-12T21:00:00+09:00", until="2026-01-13") == ["shiba@example.com"]
    assert get(since="2026-01-14") == NEWEST_FIRST[:2]


def test_one_bounce_has_its_parsed_fields(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    listed = sqlite_client.get(
        "/api/v1/bounces", headers=sqlite_read_headers, params={"reason": "mailboxfull"}
    ).json()["items"][0]
    detail = sqlite_client.get(f"/api/v1/bounces/{listed['id']}", headers=sqlite_read_headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["email"] == "shiba@example.com" and body["detector"] == "exim"
    assert body["reason"] == "mailboxfull" and body["bounce_type"] == "Quota"
    assert not body["hardbounce"] and body["status"] == "5.2.2"
    assert "mailbox is full" in body["diagnostic"]
    assert body["campaign"] == "spring" and body["matched"]
    assert body["occurred_at"] == "2026-01-12T12:00:00"
    assert body["effects"] == {"counted": True}
    assert body["message"]["ref"] == "lhost-exim-07.eml"
    assert body["message"]["outcome"] == "matched"


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"since": "yesterday"}, 422, "since"),
        ({"until": "2026-13-01"}, 422, "until"),
        ({"hard": "maybe"}, 422, "hard"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 501}, 422, "limit"),
        ({"cursor": "%%%"}, 400, "cursor"),
        ({"cursor": "bm90IGpzb24"}, 400, "cursor"),  # base64 of "not json"
        ({"cursor": base64.urlsafe_b64encode(b"[1]").decode()}, 400, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'["x", 1]').decode()}, 400, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'["2026-01-01", "1"]').decode()}, 400, "cursor"),
    ],
)
def test_bad_input_is_a_json_error(
    sqlite_client: TestClient,
    sqlite_read_headers: dict[str, str],
    params: dict[str, Any],
    status: int,
    words: str,
) -> None:
    response = sqlite_client.get("/api/v1/bounces", headers=sqlite_read_headers, params=params)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status and words in body["error"]
    if status == 422:
        assert body["details"] and words in body["details"][0]["loc"]


@pytest.mark.parametrize(("path", "status"), [("999999", 404), ("0", 422), ("abc", 422)])
def test_unknown_or_bad_bounce_id(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str], path: str, status: int
) -> None:
    response = sqlite_client.get(f"/api/v1/bounces/{path}", headers=sqlite_read_headers)
    assert response.status_code == status
    assert response.json()["status"] == status and response.json()["error"]


def test_unknown_route_and_method_are_json(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    missing = sqlite_client.get("/api/v1/nothing-here", headers=sqlite_read_headers)
    assert missing.status_code == 404 and missing.json()["status"] == 404
    wrong = sqlite_client.put("/api/v1/bounces", headers=sqlite_read_headers)
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


def test_database_trouble_is_a_json_503_and_a_bug_a_json_500(
    sqlite_ledger: Ledger, sqlite_read_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FastAPI()
    mount(app, WebContext(ledger=sqlite_ledger, secret_key="test"))
    client = TestClient(app, raise_server_exceptions=False)

    def locked(*args: object) -> None:
        raise LedgerUnavailable("the database is locked by another process: busy")

    monkeypatch.setattr(bounces, "list_bounces", locked)
    response = client.get("/api/v1/bounces", headers=sqlite_read_headers)
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.json() == {
        "error": "the database is locked by another process: busy",
        "status": 503,
    }

    def broken(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(bounces, "list_bounces", broken)
    response = client.get("/api/v1/bounces", headers=sqlite_read_headers)
    assert response.status_code == 500 and response.json()["status"] == 500
    assert "secret" not in response.text  # no internals shown to the caller


def test_a_misspelt_filter_is_refused_not_ignored(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    response = sqlite_client.get(
        "/api/v1/bounces", headers=sqlite_read_headers, params={"bouncetype": "Quota"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid request: bouncetype: unknown query parameter"
    assert response.json()["details"][0]["loc"] == ["query", "bouncetype"]
    # Without a key, the key is what is missing.
    assert sqlite_client.get("/api/v1/bounces", params={"bouncetype": "Quota"}).status_code == 401
