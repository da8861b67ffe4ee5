"""/api/v1/suppression: check, add, remove, list and export, over real bounces."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bounceback.ledger import Ledger, suppression
from bounceback.ledger import tables as t
from bounceback.ledger.fastcheck import SuppressionLookup
from bounceback.web.api import suppression as suppression_api
from bounceback.web.auth import create_api_key, revoke_api_key


def test_check_hit_and_miss(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    hit = sqlite_client.get("/api/v1/suppression/Sabatora@Example.JP", headers=sqlite_read_headers)
    assert hit.status_code == 200 and hit.headers["content-type"] == "application/json"
    assert hit.json() == {
        "email": "sabatora@example.jp",
        "suppressed": True,
        "reason": "userunknown",
        "source": "bounce",
        "since": "2026-01-11T12:00:00",
    }
    miss = sqlite_client.get("/api/v1/suppression/shiba@example.com", headers=sqlite_read_headers)
    assert miss.json() == {
        "email": "shiba@example.com",
        "suppressed": False,
        "reason": None,
        "source": None,
        "since": None,
    }
    bad = sqlite_client.get("/api/v1/suppression/not-an-address", headers=sqlite_read_headers)
    assert bad.status_code == 422 and "email" in bad.json()["error"]
    nobody = sqlite_client.get("/api/v1/suppression/shiba@example.com")
    assert nobody.status_code == 401


def test_add_check_remove(
    client: TestClient, web_ledger: Ledger, admin_headers: dict[str, str]
) -> None:
    added = client.post(
        "/api/v1/suppression",
        headers=admin_headers,
        json={"email": "Someone@Example.org", "reason": "asked by phone"},
    )
    assert added.status_code == 201
    assert added.json() == {"email": "someone@example.org", "suppressed": True, "added": True}
    again = client.post(
        "/api/v1/suppression", headers=admin_headers, json={"email": "someone@example.org"}
    )
    assert again.status_code == 200 and again.json()["added"] is False
    check = client.get("/api/v1/suppression/someone@example.org", headers=admin_headers).json()
    assert check["suppressed"] and check["source"] == "manual"
    assert check["reason"] == "asked by phone"
    assert dt.datetime.fromisoformat(check["since"]).year >= 2026
    assert web_ledger.is_suppressed("someone@example.org")
    removed = client.delete("/api/v1/suppression/someone@example.org", headers=admin_headers)
    assert removed.status_code == 200 and removed.json()["removed"] is True
    assert not web_ledger.is_suppressed("someone@example.org")
    check = client.get("/api/v1/suppression/someone@example.org", headers=admin_headers).json()
    assert check["suppressed"] is False
    gone = client.delete("/api/v1/suppression/someone@example.org", headers=admin_headers)
    assert gone.status_code == 404 and "not suppressed" in gone.json()["error"]


def test_add_bad_input(sqlite_client: TestClient, sqlite_admin_headers: dict[str, str]) -> None:
    for body, words in (
        ({"email": "nope"}, "email"),
        ({"reason": "x"}, "email"),
        ({"email": "a@example.org", "source": "bounce"}, "source"),  # not settable
        ({"email": "a@example.org", "reason": "x" * 256}, "reason"),
    ):
        response = sqlite_client.post(
            "/api/v1/suppression", headers=sqlite_admin_headers, json=body
        )
        assert response.status_code == 422, body
        assert words in response.json()["error"]
    listed = sqlite_client.get("/api/v1/suppression", headers=sqlite_admin_headers).json()
    assert listed["items"] == []


def test_list_pages_newest_first(
    sqlite_client: TestClient, seeded_sqlite: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    seeded_sqlite.suppress("manual@example.org", "by hand")
    first = sqlite_client.get(
        "/api/v1/suppression", headers=sqlite_read_headers, params={"limit": 3}
    ).json()
    assert [i["email"] for i in first["items"]] == [
        "manual@example.org",
        "sabatora@example.jp",
        "kijitora@example.jp",
    ]
    rest = sqlite_client.get(
        "/api/v1/suppression",
        headers=sqlite_read_headers,
        params={"limit": 3, "cursor": first["next_cursor"]},
    ).json()
    assert [i["email"] for i in rest["items"]] == [
        "userunknown@example.co.jp",
        "filtered@example.co.jp",
    ]
    assert rest["next_cursor"] is None
    manual = sqlite_client.get(
        "/api/v1/suppression", headers=sqlite_read_headers, params={"source": "manual"}
    ).json()
    assert [i["email"] for i in manual["items"]] == ["manual@example.org"]
    bad = sqlite_client.get(
        "/api/v1/suppression", headers=sqlite_read_headers, params={"source": "other"}
    )
    assert bad.status_code == 422


def test_export_streams_every_row(
    sqlite_client: TestClient, sqlite_ledger: Ledger, sqlite_read_headers: dict[str, str]
) -> None:
    rows = [
        {"email": f"user{n:05d}@example.org", "reason": 'said "no", twice', "source": "manual"}
        for n in range(2500)
    ]
    with sqlite_ledger.engine.begin() as conn:
        conn.execute(insert(t.suppressions), rows)
    response = sqlite_client.get("/api/v1/suppression.csv", headers=sqlite_read_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert len(parsed) == 2500
    assert [r["email"] for r in parsed] == [r["email"] for r in rows]
    assert parsed[7]["reason"] == 'said "no", twice' and parsed[7]["since"]
    # The keyset chunks join up exactly, whatever their size.
    assert [r[0] for r in suppression.iter_suppressions(sqlite_ledger, chunk=7)] == [
        r["email"] for r in rows
    ]


def test_empty_export_has_the_header(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    response = sqlite_client.get("/api/v1/suppression.csv", headers=sqlite_read_headers)
    assert response.text == "email,reason,source,since\n"


def test_fast_path_answers_as_the_route_and_keeps_auth(
    sqlite_client: TestClient, seeded_sqlite: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_api_key(seeded_sqlite, "sender", "read")
    headers = {"Authorization": f"Bearer {key}"}
    paths = [
        "/api/v1/suppression/Kijitora@Example.JP",  # hit, normalised
        "/api/v1/suppression/shiba@example.com",  # miss
    ]
    # A key not yet verified goes through the route (and is cached there) ...
    slow = [sqlite_client.get(p, headers=headers) for p in paths]
    # ... then the fast path answers: the route's own code never runs.
    monkeypatch.setattr(suppression_api, "email_param", _must_not_run)
    fast = [sqlite_client.get(p, headers=headers) for p in paths]
    monkeypatch.undo()
    for a, b in zip(slow, fast, strict=True):
        assert a.status_code == b.status_code == 200
        assert a.json() == b.json() and b.headers["content-type"] == "application/json"
    assert fast[0].json()["suppressed"] and not fast[1].json()["suppressed"]
    # What the fast path does not vouch for still goes to the route.
    bad = sqlite_client.get("/api/v1/suppression/not-an-address", headers=headers)
    assert bad.status_code == 422
    extra = sqlite_client.get(paths[0], headers=headers, params={"fresh": "1"})
    assert extra.status_code == 422 and "fresh" in extra.json()["error"]
    assert sqlite_client.get(paths[0]).status_code == 401
    basic = sqlite_client.get(paths[0], headers={"Authorization": f"Basic {key}"})
    assert basic.status_code == 401
    revoke_api_key(seeded_sqlite, "sender")
    assert sqlite_client.get(paths[0], headers=headers).status_code == 401


def _must_not_run(*args: object) -> None:
    raise AssertionError("the fast path should have answered")


def test_lookup_survives_its_connection_going_away(web_ledger: Ledger) -> None:
    web_ledger.suppress("gone@example.org", "test")
    lookup = SuppressionLookup(web_ledger.engine)
    assert lookup.check("gone@example.org") is not None
    web_ledger.engine.dispose()  # closes the held connection (as Ledger.close does)
    found = lookup.check("gone@example.org")  # a fresh connection, transparently
    assert found is not None and found[:2] == ("test", "manual")
    assert lookup.check("other@example.org") is None

    async def awaited() -> list[Any]:
        first = await lookup.acheck("gone@example.org")
        web_ledger.engine.dispose()  # also ends the awaited path's connections
        return [first, await lookup.acheck("gone@example.org"), await lookup.acheck("x@y.org")]

    # In a thread of its own: another test's browser may leave a loop running here.
    with ThreadPoolExecutor(1) as pool:
        first, again, missing = pool.submit(asyncio.run, awaited()).result()
    assert first == again == found and missing is None
    lookup.close()
