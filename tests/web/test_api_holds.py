"""/api/v1/holds: the "on hold" search and bulk unhold by filter, over real bounces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bounceback.config import Config
from bounceback.ledger import Ledger, holds
from bounceback.ledger import tables as t
from support.samples import dsn

HELD = [  # newest hold first
    "kijitora@example.net",  # Spam
    "sabatora@example.jp",  # Invalid (same time as the next: id order)
    "kijitora@example.jp",
    "userunknown@example.co.jp",
    "filtered@example.co.jp",
]


def held(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/holds", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [item["email"] for item in response.json()["items"]]


def test_list_and_filters(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    def get(**p: Any) -> list[str]:
        return held(sqlite_client, sqlite_read_headers, **p)

    assert get() == HELD
    assert get(bounce_type="Invalid") == HELD[1:]
    assert get(bounce_type="Quota") == []
    assert get(domain="example.co.jp") == HELD[3:]
    assert get(domain="@example.jp") == HELD[1:3]
    assert get(since="2026-01-11T12:00:00") == HELD[:3]
    first = sqlite_client.get(
        "/api/v1/holds", headers=sqlite_read_headers, params={"limit": 2}
    ).json()
    second = sqlite_client.get(
        "/api/v1/holds",
        headers=sqlite_read_headers,
        params={"limit": 2, "cursor": first["next_cursor"]},
    ).json()
    assert [i["email"] for i in first["items"] + second["items"]] == HELD[:4]
    item = first["items"][1]
    assert item["hold_type"] == "Invalid" and item["bounce_counts"] == {"Invalid": 1}
    assert item["name"] == "Sabatora" and item["hold_since"] == "2026-01-11T12:00:00"


def test_bulk_unhold(
    client: TestClient, seeded_ledger: Ledger, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/holds/unhold", headers=admin_headers, json={"domain": "example.co.jp"}
    )
    assert response.status_code == 200 and response.json() == {"unheld": 2}
    assert held(client, admin_headers) == HELD[:3]
    for address in HELD[3:]:
        view = seeded_ledger.contact_view(address)
        assert view is not None and view["email"] == address  # restored
        assert not view["on_hold"] and not view["suppressed"] and view["bulk_mail"] == "allowed"
    both = {"bounce_type": "Invalid", "emails": ["Sabatora@Example.jp", "kijitora@example.net"]}
    response = client.post("/api/v1/holds/unhold", headers=admin_headers, json=both)
    assert response.json() == {"unheld": 1}  # kijitora@example.net is held for Spam
    assert held(client, admin_headers) == ["kijitora@example.net", "kijitora@example.jp"]
    response = client.post("/api/v1/holds/unhold", headers=admin_headers, json={"all": True})
    assert response.json() == {"unheld": 2}
    assert held(client, admin_headers) == []
    again = client.post("/api/v1/holds/unhold", headers=admin_headers, json={"all": True})
    assert again.json() == {"unheld": 0}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "filter"),
        ({"all": False}, "filter"),
        ({"domain": "example.jp", "reason": "x"}, "reason"),
        ({"since": "last week"}, "since"),
        ({"emails": ["not an address"]}, "email"),
        ({"emails": "kijitora@example.jp"}, "emails"),
    ],
)
def test_bulk_unhold_bad_input(
    sqlite_client: TestClient,
    seeded_sqlite: Ledger,
    sqlite_admin_headers: dict[str, str],
    body: dict[str, Any],
    words: str,
) -> None:
    response = sqlite_client.post("/api/v1/holds/unhold", headers=sqlite_admin_headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["status"] == 422 and words in response.json()["error"]
    assert held(sqlite_client, sqlite_admin_headers) == HELD  # nothing changed


def test_bulk_unhold_needs_a_json_body(
    sqlite_client: TestClient, sqlite_admin_headers: dict[str, str]
) -> None:
    response = sqlite_client.post(
        "/api/v1/holds/unhold", headers=sqlite_admin_headers, content=b"{not json"
    )
    assert response.status_code == 422 and response.json()["status"] == 422


def _snapshot(ledger: Ledger) -> tuple[Any, ...]:
    a, c, s = t.addresses.c, t.contacts.c, t.suppressions.c
    with ledger.engine.connect() as conn:
        addresses = conn.execute(
            select(
                a.id,
                a.email,
                a.bounced_address,
                a.bounced,
                a.on_hold,
                a.hold_type,
                a.bounce_counts,
                a.consecutive_bounces,
            ).order_by(a.id)
        ).all()
        contacts = conn.execute(select(c.id, c.bulk_mail, c.disabled).order_by(c.id)).all()
        suppressed = conn.execute(select(s.email, s.source).order_by(s.email)).all()
    return (
        [tuple(r) for r in addresses],
        [tuple(r) for r in contacts],
        [tuple(r) for r in suppressed],
    )


def test_bulk_unhold_does_what_unholding_one_by_one_does(
    seeded_sqlite: Ledger, tmp_path: Path
) -> None:
    seeded_sqlite.suppress("kijitora@example.net", "by hand")  # not a bounce: stays
    twin_path = tmp_path / "twin.db"
    raw: Any = seeded_sqlite.engine.raw_connection()
    try:  # outside any transaction, as VACUUM wants
        raw.driver_connection.execute(f"VACUUM INTO '{twin_path}'")
    finally:
        raw.close()
    twin = Ledger.open(Config(database_url=f"sqlite:///{twin_path}"))
    try:
        held = [h["email"] for h in twin.holds()]
        assert len(held) == 5
        for email in held:
            assert twin.unhold(email)
        assert holds.unhold_matching(seeded_sqlite, holds.HoldFilters(), chunk=2) == 5
        bulk, one_by_one = _snapshot(seeded_sqlite), _snapshot(twin)
        for got, want in zip(bulk, one_by_one, strict=True):
            assert got == want
    finally:
        twin.close()
    view = seeded_sqlite.contact_view("kijitora@example.net")
    assert view is not None and view["suppressed"] and view["bulk_mail"] == "do_not_allow"


def test_two_held_addresses_with_one_old_address_restore_it_once(sqlite_ledger: Ledger) -> None:
    """Both were removed with the same address: only one may have it back (emails are
    unique), the other stays without one."""
    for name in ("first", "second"):
        sqlite_ledger.add_contact("shared@example.org", name)
        outcome = sqlite_ledger.process_bytes(dsn("shared@example.org", "5.1.1", serial=len(name)))
        assert outcome.outcome == "matched"
    assert len(sqlite_ledger.holds()) == 2
    assert holds.unhold_matching(sqlite_ledger, holds.HoldFilters()) == 2
    with sqlite_ledger.engine.connect() as conn:
        emails = conn.execute(select(t.addresses.c.email).order_by(t.addresses.c.id)).scalars()
        assert list(emails) == ["shared@example.org", None]
