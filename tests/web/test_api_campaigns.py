"""/api/v1/campaigns over real processed bounces: list, detail, create, close."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bounceback.ledger import Ledger
from support.samples import dsn


def bounce(ledger: Ledger, email: str, status: str, serial: int) -> None:
    diagnostic = "552 5.2.2 Mailbox full" if status.startswith("5.2") else ""
    data = dsn(email, status, diagnostic, serial=serial, message_id=f"<{serial}@s.example>")
    assert ledger.process_bytes(data).outcome == "matched"


def mail(ledger: Ledger, email: str, campaign: str, serial: int) -> None:
    if ledger.contact_view(email) is None:
        ledger.add_contact(email)
    ledger.record_send(email, campaign, message_id=f"<{serial}@s.example>")


def test_create_list_detail_and_close(
    client: TestClient,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
    web_ledger: Ledger,
) -> None:
    made = client.post("/api/v1/campaigns", json={"name": "spring"}, headers=admin_headers)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "spring" and not made.json()["closed"]
    again = client.post("/api/v1/campaigns", json={"name": "spring"}, headers=admin_headers)
    assert again.status_code == 409 and "exists" in again.json()["error"]
    mail(web_ledger, "dead@example.org", "spring", 1)
    mail(web_ledger, "full@example.org", "spring", 2)
    mail(web_ledger, "late@example.org", "spring", 3)
    bounce(web_ledger, "dead@example.org", "5.1.1", 1)
    bounce(web_ledger, "full@example.org", "5.2.2", 2)

    detail = client.get("/api/v1/campaigns/spring", headers=read_headers).json()
    assert (detail["hard_bounces"], detail["soft_bounces"], detail["sent"]) == (1, 1, 3)
    assert detail["by_reason"] == {"mailboxfull": 1, "userunknown": 1}
    assert sum(d["hard"] + d["soft"] for d in detail["daily"]) == 2

    closed = client.patch(
        "/api/v1/campaigns/spring", json={"status": "closed"}, headers=admin_headers
    )
    assert closed.status_code == 200 and closed.json()["closed"]
    bounce(web_ledger, "late@example.org", "5.1.1", 3)  # after closing: not counted
    listed = client.get("/api/v1/campaigns", headers=read_headers).json()
    row = listed["items"][0]
    assert (row["name"], row["closed"], row["hard_bounces"], row["soft_bounces"]) == (
        "spring",
        True,
        1,
        1,
    )
    assert row["sends"] == 3 and row["bounce_rate"] == round(2 / 3, 6)


def test_pages_and_filters(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str], sqlite_ledger: Ledger
) -> None:
    for n in range(5):
        sqlite_ledger.add_campaign(f"c{n}", status="closed" if n % 2 else "active")
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        got = sqlite_client.get("/api/v1/campaigns", params=params, headers=sqlite_read_headers)
        assert got.status_code == 200
        seen += [c["name"] for c in got.json()["items"]]
        if not got.json()["next_cursor"]:
            break
        params["cursor"] = got.json()["next_cursor"]
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    closed = sqlite_client.get(
        "/api/v1/campaigns", params={"status": "closed"}, headers=sqlite_read_headers
    ).json()["items"]
    assert [c["name"] for c in closed] == ["c1", "c3"] and all(c["closed"] for c in closed)
    bad = sqlite_client.get(
        "/api/v1/campaigns", params={"cursor": "%%%"}, headers=sqlite_read_headers
    )
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]
    missing = sqlite_client.get("/api/v1/campaigns/nope", headers=sqlite_read_headers)
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_write_endpoints_refuse_bad_input_and_bad_keys(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
    sqlite_ledger: Ledger,
) -> None:
    sqlite_ledger.add_campaign("spring")
    writes = [
        ("post", "/api/v1/campaigns", {"name": "autumn"}),
        ("patch", "/api/v1/campaigns/spring", {"status": "closed"}),
    ]
    for method, url, body in writes:
        anonymous = sqlite_client.request(method, url, json=body)
        assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
        wrong = sqlite_client.request(
            method, url, json=body, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        reader = sqlite_client.request(method, url, json=body, headers=sqlite_read_headers)
        assert reader.status_code == 403 and "admin" in reader.json()["error"]
    bad_bodies = [
        ("post", "/api/v1/campaigns", {}),
        ("post", "/api/v1/campaigns", {"name": ""}),
        ("post", "/api/v1/campaigns", {"name": "x", "colour": "red"}),
        ("post", "/api/v1/campaigns", {"name": "x", "status": "a/b"}),
        ("patch", "/api/v1/campaigns/spring", {"status": ""}),
        ("patch", "/api/v1/campaigns/spring", {"status": 3}),
    ]
    for method, url, body in bad_bodies:
        got = sqlite_client.request(method, url, json=body, headers=sqlite_admin_headers)
        assert got.status_code == 422, (body, got.text)
        assert got.json()["error"].startswith("invalid request")
    gone = sqlite_client.patch(
        "/api/v1/campaigns/nope", json={"status": "closed"}, headers=sqlite_admin_headers
    )
    assert gone.status_code == 404
    assert sqlite_ledger.campaign_stats("spring")["status"] == "active"  # nothing changed
