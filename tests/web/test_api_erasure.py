"""POST /api/v1/contacts/{email}/erase (admin only) and GET /api/v1/erasures, on both
databases, over real corpus bounces; the fast suppression check after an erasure."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bounceback.ledger import Ledger

GONE = "userunknown@example.co.jp"  # seeded: hard bounce, suppressed, on hold


def test_a_read_key_cannot_erase(
    client: TestClient, seeded_ledger: Ledger, read_headers: dict[str, str]
) -> None:
    answer = client.post(f"/api/v1/contacts/{GONE}/erase", headers=read_headers)
    assert answer.status_code == 403
    assert seeded_ledger.contact_view(GONE) is not None
    assert client.post(f"/api/v1/contacts/{GONE}/erase").status_code == 401


def test_an_admin_erases_and_the_check_still_says_suppressed(
    client: TestClient,
    seeded_ledger: Ledger,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
) -> None:
    answer = client.post(f"/api/v1/contacts/{GONE.upper()}/erase", headers=admin_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["operator"] == "api key test-admin"
    assert body["counts"]["contacts"] == 1 and body["counts"]["bounce_events"] == 1
    assert GONE not in answer.text
    assert client.get(f"/api/v1/contacts/{GONE}", headers=read_headers).status_code == 404
    # The hot path (twice: the first through the route, then the cached fast path).
    for _ in range(2):
        check = client.get(f"/api/v1/suppression/{GONE}", headers=read_headers).json()
        assert check["suppressed"] and check["source"] == "erasure"
    other = client.get("/api/v1/suppression/filtered@example.co.jp", headers=read_headers)
    assert other.json()["source"] == "bounce"  # the other recipient of the same message
    listed = client.get("/api/v1/suppression?source=erasure", headers=read_headers).json()
    [row] = listed["items"]
    assert row["email"].startswith("erased:") and row["reason"] == "erased"
    record = client.get("/api/v1/erasures", headers=read_headers).json()["items"]
    assert [r["id"] for r in record] == [body["id"]] and GONE not in str(record)


def test_a_bad_address_is_refused(client: TestClient, admin_headers: dict[str, str]) -> None:
    answer = client.post("/api/v1/contacts/not-an-address/erase", headers=admin_headers)
    assert answer.status_code == 422
