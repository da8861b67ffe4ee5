"""/api/v1/stats over real corpus bounces processed through the ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bounceback.ledger import Ledger, stats
from bounceback.model import RawMessage
from bounceback.parse import parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
NAMES = [
    "lhost-postfix-01.eml",
    "lhost-postfix-02.eml",
    "lhost-postfix-03.eml",
    "lhost-exim-02.eml",
    "lhost-gmail-01.eml",
    "lhost-office365-01.eml",
    "lhost-courier-01.eml",
    "arf-01.eml",
    "arf-02.eml",
]
TODAY = dt.datetime.now(dt.UTC).replace(tzinfo=None, hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def _today_stays_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The windows' "today" is TODAY's date, even when the run crosses midnight UTC."""
    monkeypatch.setattr(stats, "utc_today", lambda: TODAY.date())


def load(ledger: Ledger) -> None:
    """The messages over three days; the first five recipients mailed in "spring"."""
    raws = []
    for n, name in enumerate(NAMES):
        data = (FIXTURES / name).read_bytes()
        when = TODAY - dt.timedelta(days=n % 3)
        if n < 5:
            for record in parse(data).records:
                if ledger.contact_view(record.recipient) is None:
                    ledger.add_contact(record.recipient)
                ledger.record_send(record.recipient, "spring", sent_at=when)
        raws.append((name, RawMessage(data=data, source="test", received_at=when)))
    outcomes = [o.outcome for o in ledger.process(raws)]
    assert outcomes.count("matched") >= 5


def get(client: TestClient, headers: dict[str, str], url: str, **params: Any) -> Any:
    got = client.get(url, params=params, headers=headers)
    assert got.status_code == 200, got.text
    return got.json()


def test_stats_endpoints(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str], sqlite_ledger: Ledger
) -> None:
    load(sqlite_ledger)
    h = sqlite_read_headers
    daily = get(sqlite_client, h, "/api/v1/stats/daily", days=3)
    assert [d["day"] for d in daily["items"]][-1] == TODAY.date().isoformat()
    total = sum(d["total"] for d in daily["items"])
    assert total >= len(NAMES) and sum(d["complaint"] for d in daily["items"]) >= 2
    assert sum(d["sends"] for d in daily["items"]) >= 5
    today = get(
        sqlite_client,
        h,
        "/api/v1/stats/daily",
        since=TODAY.date().isoformat(),
        until=TODAY.date().isoformat(),
    )
    assert len(today["items"]) == 1 and 0 < today["items"][0]["total"] < total
    spring = get(sqlite_client, h, "/api/v1/stats/daily", days=3, campaign="spring")
    everywhere = sum(d["bounces"] for d in daily["items"])
    assert 0 < sum(d["bounces"] for d in spring["items"]) < everywhere

    campaigns = get(sqlite_client, h, "/api/v1/stats/campaigns", days=3)["items"]
    assert {c["name"] for c in campaigns} == {"spring", "(no campaign)"}
    assert sum(c["total"] for c in campaigns) == total

    reasons = get(sqlite_client, h, "/api/v1/stats/reasons", days=3)["items"]
    assert sum(r["total"] for r in reasons) == total
    assert any(r["reason"] == "feedback" or r["complaint"] for r in reasons)

    # Domains, two per page, every one once.
    seen: list[str] = []
    params: dict[str, Any] = {"days": 3, "limit": 2}
    while True:
        page = get(sqlite_client, h, "/api/v1/stats/domains", **params)
        seen += [d["domain"] for d in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    everything = get(sqlite_client, h, "/api/v1/stats/domains", days=3, limit=500)["items"]
    assert seen == [d["domain"] for d in everything] and len(seen) > 2

    overview = get(sqlite_client, h, "/api/v1/stats/overview", days=3, top=2)
    assert len(overview["series"]) == 3 and overview["totals"]["total"] == total
    assert len(overview["domains"]) == 2 and overview["unmatched"] >= 1

    health = get(sqlite_client, h, "/api/v1/stats/sender-health", days=3)
    assert health["limits"]["bounce_rate"] == 0.05 and health["providers"]
    assert "warnings" in health["sender"]


def test_bad_windows_and_auth(
    sqlite_client: TestClient, sqlite_read_headers: dict[str, str]
) -> None:
    h = sqlite_read_headers
    for url, params in [
        ("/api/v1/stats/daily", {"days": 0}),
        ("/api/v1/stats/daily", {"since": "2026-05-02", "until": "2026-05-01"}),
        ("/api/v1/stats/daily", {"since": "yesterday"}),
        ("/api/v1/stats/domains", {"days": 99999}),
        ("/api/v1/stats/overview", {"top": 0}),
    ]:
        got = sqlite_client.get(url, params=params, headers=h)
        assert got.status_code == 422, (url, params, got.text)
        assert got.json()["error"].startswith("invalid request")
    assert (
        sqlite_client.get("/api/v1/stats/daily", params={"campaign": "nope"}, headers=h).status_code
        == 404
    )
    assert (
        sqlite_client.get("/api/v1/stats/reasons", params={"cursor": "!!"}, headers=h).status_code
        == 400
    )
    assert sqlite_client.get("/api/v1/stats/overview").status_code == 401
