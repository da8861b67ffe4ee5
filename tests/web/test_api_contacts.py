"""/api/v1/contacts over real corpus bounces: search, bounce information, the "why"
timeline, unhold and a new address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bounceback.ledger import Ledger
from bounceback.model import RawMessage


def found(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/contacts", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [item["email"] or item["bounced_address"] for item in response.json()["items"]]


def test_search(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    def get(**p: Any) -> list[str]:
        return found(sqlite_client, sqlite_read_headers, **p)

    assert get(q="kiji") == ["kijitora@example.jp", "kijitora@example.net"]
    assert get(q="KIJITORA@EXAMPLE.NET") == ["kijitora@example.net"]
    seeded_sqlite.add_contact("xkijitora@example.net")
    assert get(q="kijitora@example.net") == ["kijitora@example.net"]  # the address itself
    assert get(q="itora@example.net") == ["kijitora@example.net", "xkijitora@example.net"]
    assert get(q="shiba inu") == ["shiba@example.com"]  # the name, any case
    assert get(q="@example.co.jp") == ["filtered@example.co.jp", "userunknown@example.co.jp"]
    assert get(q="@example.co") == []  # a domain is matched whole at the end
    assert get(q="%") == [] and get(q="_") == []  # wildcards are literal
    assert get(q="kiji", on_hold="true", bounced="true") == ["kijitora@example.jp"]
    assert get(on_hold="false") == ["shiba@example.com", "xkijitora@example.net"]


def test_search_pages(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    first = sqlite_client.get(
        "/api/v1/contacts", headers=sqlite_read_headers, params={"limit": 4}
    ).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = sqlite_client.get(
        "/api/v1/contacts",
        headers=sqlite_read_headers,
        params={"limit": 4, "cursor": first["next_cursor"]},
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [i["address_id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(set(ids))


def test_bounce_information_and_history(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    # The address was moved to bounced_address by the hard bounce; still found by it.
    response = sqlite_client.get(
        "/api/v1/contacts/Kijitora@Example.JP", headers=sqlite_read_headers
    )
    assert response.status_code == 200
    view = response.json()
    assert view["name"] == "Kijitora" and view["email"] is None
    assert view["bounced_address"] == "kijitora@example.jp"
    assert view["bounced"] and view["on_hold"] and view["suppressed"]
    assert view["bulk_mail"] == "do_not_allow"
    (event,) = view["history"]
    assert event["email"] == "kijitora@example.jp" and event["reason"] == "userunknown"


def test_timeline_says_why(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    hard = sqlite_client.get(
        "/api/v1/contacts/kijitora@example.jp/timeline", headers=sqlite_read_headers
    ).json()
    (event,) = hard["events"]
    assert event["address_at_the_time"] == "kijitora@example.jp"
    assert event["reason"] == "userunknown" and event["bounce_type"] == "Invalid"
    assert event["campaign"] == "spring" and event["detector"] == "exim"
    detail = sqlite_client.get(f"/api/v1/bounces/{event['id']}", headers=sqlite_read_headers)
    assert event["rule"] and event["rule"] == detail.json()["rule"]  # the rule that decided
    assert "put on hold" in event["steps"] and "suppressed (bounce)" in event["steps"]
    assert any("address removed" in step for step in event["steps"])
    soft = sqlite_client.get(
        "/api/v1/contacts/shiba@example.com/timeline", headers=sqlite_read_headers
    ).json()
    assert soft["events"][0]["steps"] == ["counted toward a hold"]
    assert soft["next_cursor"] is None


def test_unknown_and_invalid_addresses(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_admin_headers: dict[str, str]
) -> None:
    for path in ("", "/timeline"):
        missing = sqlite_client.get(
            f"/api/v1/contacts/nobody@example.org{path}", headers=sqlite_admin_headers
        )
        assert missing.status_code == 404 and "nobody@example.org" in missing.json()["error"]
        bad = sqlite_client.get(
            f"/api/v1/contacts/not-an-address{path}", headers=sqlite_admin_headers
        )
        assert bad.status_code == 422 and "email" in bad.json()["error"]
    unhold = sqlite_client.post(
        "/api/v1/contacts/nobody@example.org/unhold", headers=sqlite_admin_headers
    )
    assert unhold.status_code == 404
    moved = sqlite_client.post(
        "/api/v1/contacts/nobody@example.org/address",
        headers=sqlite_admin_headers,
        json={"email": "new@example.org"},
    )
    assert moved.status_code == 404


def test_unhold_one(
    client: TestClient, seeded_ledger: Ledger, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/contacts/kijitora@example.jp/unhold", headers=admin_headers)
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["email"] == "kijitora@example.jp"  # restored
    assert not contact["on_hold"] and not contact["bounced"] and not contact["suppressed"]
    assert contact["bulk_mail"] == "allowed" and contact["bounce_counts"] == {}
    check = client.get("/api/v1/suppression/kijitora@example.jp", headers=admin_headers)
    assert check.json()["suppressed"] is False
    timeline = client.get(
        "/api/v1/contacts/kijitora@example.jp/timeline", headers=admin_headers
    ).json()
    assert timeline["last_reset_at"] is not None and len(timeline["events"]) == 1


def test_new_address(
    client: TestClient, seeded_ledger: Ledger, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/contacts/kijitora@example.jp/address",
        headers=admin_headers,
        json={"email": "Kijitora@New.Example.org"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == "kijitora@new.example.org"
    assert body["contact"]["name"] == "Kijitora" and not body["contact"]["on_hold"]
    # The history stays with the contact, under the address it had then.
    timeline = client.get(
        "/api/v1/contacts/kijitora@new.example.org/timeline", headers=admin_headers
    ).json()
    assert [e["address_at_the_time"] for e in timeline["events"]] == ["kijitora@example.jp"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"email": "kijitora@example.net"}, 400, "belongs to another"),
        ({"email": "no at sign"}, 422, "email"),
        ({"email": "new@example.org", "name": "x"}, 422, "name"),  # unknown field
        ({}, 422, "email"),
        ({"email": 5}, 422, "email"),
    ],
)
def test_new_address_bad_input(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_admin_headers: dict[str, str],
    body: dict[str, Any],
    status: int,
    words: str,
) -> None:
    response = sqlite_client.post(
        "/api/v1/contacts/shiba@example.com/address", headers=sqlite_admin_headers, json=body
    )
    assert response.status_code == status, response.text
    assert response.json()["status"] == status and words in response.json()["error"]
    after = sqlite_client.get("/api/v1/contacts/shiba@example.com", headers=sqlite_admin_headers)
    assert after.json()["email"] == "shiba@example.com"  # unchanged


REPLIES = ("reply-human-01.eml", "reply-human-02.eml", "lhost-postfix-02.eml")
EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


def email_bytes(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def test_activities_of_a_contact_paged(
    client: TestClient, web_ledger: Ledger, read_headers: dict[str, str]
) -> None:
    # María replies (Cc Tom), then James; both wrote To the newsletter's address, which is
    # a contact here too: its two replies come a page at a time, newest first.
    for address, name in (
        ("maria.lopez@example.org", "María López"),
        ("tom.baker@example.org", "Tom Baker"),
        ("news@sender.example", "Newsletter"),
        ("userunknown@example.co.jp", "Gone"),
    ):
        web_ledger.add_contact(address, name)
    raws = [(n, RawMessage(data=email_bytes(n), source="test", ref=n)) for n in REPLIES]
    outcomes = {o.label: o.outcome for o in web_ledger.process(raws, purpose="both")}
    assert outcomes == dict(zip(REPLIES, ("filed", "filed", "matched"), strict=True))

    url = "/api/v1/contacts/Maria.Lopez@example.org/activities"
    answer = client.get(url, headers=read_headers)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["next_cursor"] is None and len(page["items"]) == 1
    item = page["items"][0]
    assert item["subject"] == "Re: November newsletter – volunteer day"
    assert item["sender"] == "maria.lopez@example.org" and item["sender_name"] == "María López"
    assert item["date"] == "2026-11-17T08:13:51"  # UTC
    assert "volunteer" in item["body"] and item["message_id"] > 0
    tom = client.get("/api/v1/contacts/tom.baker@example.org/activities", headers=read_headers)
    assert [i["header_message_id"] for i in tom.json()["items"]] == [item["header_message_id"]]
    assert tom.json()["items"][0]["contact_id"] != item["contact_id"]

    news = "/api/v1/contacts/news@sender.example/activities"
    first = client.get(news, headers=read_headers, params={"limit": 1}).json()
    assert [i["sender"] for i in first["items"]] == ["j.okafor@newcomer.example"]
    assert first["next_cursor"]
    rest = client.get(
        news, headers=read_headers, params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [i["sender"] for i in rest["items"]] == ["maria.lopez@example.org"]
    assert rest["next_cursor"] is None

    # A contact with no replies: an empty page; nobody's address: 404; a forged cursor: 400.
    empty = client.get(
        "/api/v1/contacts/userunknown@example.co.jp/activities", headers=read_headers
    )
    assert empty.status_code == 200 and empty.json() == {"items": [], "next_cursor": None}
    missing = client.get("/api/v1/contacts/nobody@example.org/activities", headers=read_headers)
    assert missing.status_code == 404
    assert client.get(url, headers=read_headers, params={"cursor": "garbage"}).status_code == 400
    assert client.get(url).status_code == 401
