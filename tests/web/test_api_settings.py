"""/api/v1/settings: read, change (admin, validated, applied), thresholds per type."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bounceback.ledger import Ledger
from support.samples import dsn


def test_change_settings_and_see_them_applied(
    client: TestClient,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
    web_ledger: Ledger,
) -> None:
    before = client.get("/api/v1/settings", headers=read_headers).json()
    assert before["remove_address_on_hard_bounce"] is True and before["thresholds"]["Quota"] == 3
    changed = client.patch(
        "/api/v1/settings",
        json={"remove_address_on_hard_bounce": False, "complaint_rate_limit": 0.003},
        headers=admin_headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["remove_address_on_hard_bounce"] is False
    assert (
        client.get("/api/v1/settings", headers=read_headers).json()["complaint_rate_limit"] == 0.003
    )
    web_ledger.add_contact("dead@example.org")
    assert web_ledger.process_bytes(dsn("dead@example.org", "5.1.1", serial=1)).outcome == "matched"
    view = web_ledger.contact_view("dead@example.org")
    assert view is not None and view["bounced"] and view["email"] == "dead@example.org"

    put = client.put(
        "/api/v1/settings/thresholds/Quota", json={"threshold": 1}, headers=admin_headers
    )
    assert put.status_code == 200 and put.json() == {"bounce_type": "Quota", "threshold": 1}
    got = client.get("/api/v1/settings/thresholds/Quota", headers=admin_headers)
    assert got.json()["threshold"] == 1
    web_ledger.add_contact("full@example.org")
    web_ledger.process_bytes(dsn("full@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=2))
    assert [h["email"] for h in web_ledger.holds("Quota")] == ["full@example.org"]


def test_bad_values_and_keys(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
) -> None:
    c, admin = sqlite_client, sqlite_admin_headers
    for body in [
        {"disable_after": -3},
        {"disable_after": True},
        {"bounce_rate_limit": 0},
        {"closed_campaign_statuses": [1, 2]},
        {"nonsense": 1},
        {"thresholds": {"Nope": 1}},
        {},
        [],
    ]:
        got = c.patch("/api/v1/settings", json=body, headers=admin)
        assert got.status_code == 422, (body, got.text)
        assert got.json()["error"].startswith("invalid request")
    assert c.get("/api/v1/settings", headers=admin).json()["disable_after"] == 5
    assert (
        c.put("/api/v1/settings/thresholds/Nope", json={"threshold": 1}, headers=admin).status_code
        == 404
    )
    for body in [{"threshold": -1}, {"threshold": "x"}, {}]:
        got = c.put("/api/v1/settings/thresholds/Quota", json=body, headers=admin)
        assert got.status_code == 422, (body, got.text)
    writes = [
        ("patch", "/api/v1/settings", {"disable_after": 2}),
        ("put", "/api/v1/settings/thresholds/Quota", {"threshold": 2}),
    ]
    for method, url, body in writes:
        assert c.request(method, url, json=body).status_code == 401
        reader = c.request(method, url, json=body, headers=sqlite_read_headers)
        assert reader.status_code == 403
    assert c.get("/api/v1/settings", headers=admin).json()["thresholds"]["Quota"] == 3


def test_a_read_key_reads_a_threshold(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    """docs/api.md: a read key may call every GET, the thresholds' included."""
    got = sqlite_client.get("/api/v1/settings/thresholds/Quota", headers=sqlite_read_headers)
    assert got.status_code == 200, got.text
    assert got.json()["bounce_type"] == "Quota"
    assert sqlite_client.get("/api/v1/settings/thresholds/Quota").status_code == 401
