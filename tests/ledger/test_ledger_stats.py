"""The stats rollups follow the events (process, undo, replay, rebuild) on both databases,
and the queries, providers and dashboard settings built on them."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, select
from typer.testing import CliRunner

from bounceback.classify import loads as load_rules
from bounceback.cli import app
from bounceback.config import Config
from bounceback.ledger import Ledger, stats
from bounceback.ledger import tables as t
from bounceback.ledger.replay import replay, undo
from bounceback.ledger.rollups import rebuild_stats
from bounceback.ledger.settings import SettingsError, get_settings, update_settings
from bounceback.ledger.stats import (
    by_campaign,
    by_day,
    by_domain,
    by_reason,
    campaign_list,
    overview,
    provider_of,
    sender_health,
    window,
)
from bounceback.model import Kind, RawMessage
from bounceback.parse import parse
from support.samples import dsn

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
TODAY = dt.datetime.now(dt.UTC).replace(tzinfo=None, hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def _today_stays_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The windows' "today" is TODAY's date, even when the run crosses midnight UTC."""
    monkeypatch.setattr(stats, "utc_today", lambda: TODAY.date())


def corpus() -> list[tuple[str, bytes]]:
    return sorted((p.name, p.read_bytes()) for p in FIXTURES.glob("*.eml"))


def event_groups(ledger: Ledger) -> Counter[tuple[Any, ...]]:
    """What daily_stats must hold: the live events grouped directly."""
    e = t.events.c
    out: Counter[tuple[Any, ...]] = Counter()
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(e.occurred_at, e.campaign_id, e.domain, e.reason, e.kind, e.hardbounce).where(
                e.undone_at.is_(None)
            )
        ).all()
    for at, campaign, domain, reason, kind, hard in rows:
        category = ("hard" if hard else "soft") if kind == "bounce" else kind
        if category not in ("hard", "soft", "complaint", "delay"):
            category = "other"
        out[(at.date(), campaign or 0, domain, reason, category)] += 1
    return out


def rollup(ledger: Ledger) -> Counter[tuple[Any, ...]]:
    ds = t.daily_stats.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(ds.day, ds.campaign_id, ds.domain, ds.reason, ds.category, ds.count)
        ).all()
    assert all(r.count > 0 for r in rows)  # undo leaves no empty rows behind
    return Counter({tuple(r[:5]): r.count for r in rows})


def send_groups(ledger: Ledger) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    s, ss = t.sends.c, t.send_stats.c
    with ledger.engine.connect() as conn:
        direct: Counter[tuple[Any, ...]] = Counter(
            (at.date(), cid or 0, email.rpartition("@")[2])
            for at, cid, email in conn.execute(select(s.sent_at, s.campaign_id, s.email))
        )
        kept = Counter(
            {
                (r.day, r.campaign_id, r.domain): r.count
                for r in conn.execute(select(ss.day, ss.campaign_id, ss.domain, ss.count))
            }
        )
    return direct, kept


def campaign_counters(ledger: Ledger) -> dict[int, tuple[int, int]]:
    return {r["id"]: (r["hard_bounces"], r["soft_bounces"]) for r in campaign_list(ledger)[0]}


def bounced_addresses(ledger: Ledger) -> dict[int, tuple[int, int]]:
    """Per campaign: addresses with a counted hard bounce, and those with soft ones only."""
    e = t.events.c
    verdicts: dict[int, dict[Any, str]] = {}
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(e.id, e.campaign_id, e.address_id, e.campaign_counted).where(
                e.campaign_counted != "", e.undone_at.is_(None)
            )
        ).all()
    for event_id, cid, aid, counted in rows:
        seen = verdicts.setdefault(cid, {})
        who = aid if aid is not None else ("event", event_id)
        seen[who] = "hard" if "hard" in (counted, seen.get(who)) else "soft"
    out = {r["id"]: (0, 0) for r in campaign_list(ledger)[0]}
    for cid, seen in verdicts.items():
        hard = sum(v == "hard" for v in seen.values())
        out[cid] = (hard, len(seen) - hard)
    return out


def load_corpus(ledger: Ledger) -> None:
    """Every fixture message, over five days; half the recipients are contacts mailed
    in one of two campaigns (matched by recipient), the rest stay unmatched."""
    ledger.add_campaign("spring")
    ledger.add_campaign("autumn")
    raws = []
    for n, (name, data) in enumerate(corpus()):
        when = TODAY - dt.timedelta(days=n % 5)
        if n % 2 == 0:
            for record in parse(data).records:
                email = record.recipient.lower()
                if "@" in email and ledger.contact_view(email) is None:
                    ledger.add_contact(email)
                    campaign = "spring" if n % 4 == 0 else "autumn"
                    ledger.record_send(email, campaign, sent_at=when - dt.timedelta(hours=1))
        raws.append((name, RawMessage(data=data, source="corpus", received_at=when)))
    outcomes = Counter(o.outcome for o in ledger.process(raws))
    assert outcomes["matched"] > 20 and outcomes["unmatched"] > 20


def test_rollups_follow_process_undo_replay_and_rebuild(ledger: Ledger) -> None:
    load_corpus(ledger)
    counted = rollup(ledger)
    assert counted == event_groups(ledger)
    categories = Counter()
    for key, n in counted.items():
        categories[key[4]] += n
    assert categories["hard"] and categories["soft"] and categories["complaint"]
    # The campaign counters are the bounced addresses the events show (open campaigns).
    assert campaign_counters(ledger) == bounced_addresses(ledger)
    assert all(pair != (0, 0) for pair in campaign_counters(ledger).values())

    day = (TODAY - dt.timedelta(days=1)).replace(hour=0)
    report = undo(ledger, day, day + dt.timedelta(days=1))
    assert report.events_changed > 0
    after_undo = rollup(ledger)
    assert after_undo == event_groups(ledger) and sum(after_undo.values()) < sum(counted.values())
    assert campaign_counters(ledger) == bounced_addresses(ledger)

    rules = load_rules('patterns = ["550==>Soft"]\n')  # every 550 reply becomes soft
    assert replay(ledger, rules).events_changed > 0
    after_replay = rollup(ledger)
    assert after_replay == event_groups(ledger) and after_replay != after_undo
    assert campaign_counters(ledger) == bounced_addresses(ledger)

    rebuilt = rebuild_stats(ledger.engine)
    assert rollup(ledger) == after_replay and rebuilt["daily_stats"] == len(after_replay)
    direct, kept = send_groups(ledger)
    assert kept == direct and sum(kept.values()) > 10


def test_sends_rollup_from_every_way_a_send_is_logged(ledger: Ledger) -> None:
    when = dt.datetime(2026, 5, 4, 9, 30)
    ledger.record_send("a@gmail.com", "spring", sent_at=when)
    ledger.record_send("b@GMAIL.com", "spring", sent_at=when)
    ledger.record_send("c@example.org", sent_at=when + dt.timedelta(days=1))
    result = ledger.import_sends(
        "email,campaign,bounceback_id,sent_at\n"
        "d@example.org,spring,bb-1,2026-05-04T10:00:00\n"
        "e@example.org,spring,bb-1,2026-05-04T10:00:00\n"  # same id: refused, not counted
    )
    assert result.imported == 1 and len(result.errors) == 1
    direct, kept = send_groups(ledger)
    assert kept == direct
    cid = campaign_list(ledger)[0][0]["id"]
    assert kept[(when.date(), cid, "gmail.com")] == 2
    assert kept[(when.date(), cid, "example.org")] == 1
    assert kept[(when.date() + dt.timedelta(days=1), 0, "example.org")] == 1


def test_closed_campaign_is_not_updated(ledger: Ledger) -> None:
    ledger.add_contact("dead@example.org")
    ledger.add_contact("gone@example.org")
    ledger.record_send("dead@example.org", "spring", message_id="<1@s.example>")
    ledger.record_send("gone@example.org", "spring", message_id="<2@s.example>")
    assert ledger.process_bytes(dsn("dead@example.org", "5.1.1", serial=1)).outcome == "matched"
    update_settings(ledger, {"closed_campaign_statuses": ["Archived"]})
    ledger.set_campaign_status("spring", "archived")
    assert ledger.process_bytes(dsn("gone@example.org", "5.1.1", serial=2)).outcome == "matched"
    items, _ = campaign_list(ledger)
    assert [(c["name"], c["closed"], c["hard_bounces"]) for c in items] == [("spring", True, 1)]
    assert items[0]["sends"] == 2 and items[0]["bounce_rate"] == 0.5


def test_queries_over_the_rollups(ledger: Ledger) -> None:
    load_corpus(ledger)
    w = window(7)
    days = by_day(ledger, w)
    assert len(days) == 7 and days[-1]["day"] == TODAY.date().isoformat()
    total = sum(rollup(ledger).values())
    assert sum(d["total"] for d in days) == total
    assert sum(d["sends"] for d in days) == sum(send_groups(ledger)[1].values())
    spring = by_day(ledger, w, campaign="spring")
    assert 0 < sum(d["bounces"] for d in spring) < sum(d["bounces"] for d in days)
    campaigns = {c["name"]: c for c in by_campaign(ledger, w)}
    assert {"spring", "autumn", "(no campaign)"} <= set(campaigns)
    assert campaigns["spring"]["bounce_rate"] is not None
    assert campaigns["(no campaign)"]["sends"] == 0
    assert campaigns["(no campaign)"]["bounce_rate"] is None
    domains = by_domain(ledger, w, limit=5)
    assert len(domains) == 5 and domains[0]["total"] >= domains[-1]["total"]
    reasons = by_reason(ledger, w)
    assert sum(r["total"] for r in reasons) == total
    assert abs(sum(r["share"] for r in reasons) - 1) < 0.001
    view = overview(ledger, days=7, top=3)
    assert len(view["series"]) == 7 and len(view["campaigns"]) == 3
    assert view["totals"]["total"] == total and view["unmatched"] > 20
    old = overview(ledger, days=1)  # today only
    assert old["totals"]["total"] < total


def test_providers() -> None:
    assert provider_of("gmail.com") == "Google"
    assert provider_of("GoogleMail.com") == "Google"
    assert provider_of("hotmail.co.uk") == "Microsoft"
    assert provider_of("yahoo.co.jp") == "Yahoo"
    assert provider_of("yahoo.example.net.org") == "other"
    assert provider_of("me.com") == "Apple"
    assert provider_of("mx.icloud.com") == "Apple"
    assert provider_of("example.org") == "other"


def test_sender_health_warns_above_the_limits(ledger: Ledger) -> None:
    when = TODAY - dt.timedelta(hours=2)
    for i in range(20):
        ledger.add_contact(f"u{i}@gmail.com")
        ledger.record_send(f"u{i}@gmail.com", "spring", sent_at=when)
    ledger.add_contact("x@example.org")
    ledger.record_send("x@example.org", "spring", sent_at=when)
    for i in range(3):
        raw = RawMessage(data=dsn(f"u{i}@gmail.com", "5.1.1", serial=i), received_at=when)
        assert next(iter(ledger.process([("m", raw)]))).outcome == "matched"
    raw = RawMessage(data=dsn("x@example.org", "5.1.1", serial=99), received_at=when)
    assert next(iter(ledger.process([("m", raw)]))).outcome == "matched"
    health = sender_health(ledger, days=7)
    assert health["limits"] == {"bounce_rate": 0.05, "complaint_rate": 0.001, "min_volume": 100}
    assert health["domain_warnings"] == []  # 20 sends is below the minimum volume
    update_settings(ledger, {"health_min_volume": 10, "bounce_rate_limit": 0.1})
    health = sender_health(ledger, days=7)
    gmail = next(d for d in health["domains"] if d["domain"] == "gmail.com")
    assert gmail["bounce_rate"] == 0.15 and gmail["provider"] == "Google"
    assert gmail["warnings"] == ["bounce rate 15.00% is above 10.00%"]
    # example.org: a 100% rate, but one send is too few to judge.
    assert [d["domain"] for d in health["domain_warnings"]] == ["gmail.com"]
    assert health["domain_warning_count"] == 1
    google = next(p for p in health["providers"] if p["provider"] == "Google")
    assert (google["sends"], google["hard"], google["warnings"] != []) == (20, 3, True)
    assert "warnings" in health["sender"] and len(health["days"]) == 7


def test_settings_validate_store_and_apply(ledger: Ledger) -> None:
    assert get_settings(ledger)["remove_address_on_hard_bounce"] is True
    bad: list[dict[str, Any]] = [
        {"disable_after": -1},
        {"disable_after": "5"},
        {"remove_address_on_hard_bounce": "no"},
        {"bounce_rate_limit": 5},
        {"closed_campaign_statuses": "closed"},
        {"colour": "blue"},
        {"thresholds": {"Nope": 2}},
        {"thresholds": {"Quota": 2.5}},
        {},
    ]
    for change in bad:
        with pytest.raises(SettingsError):
            update_settings(ledger, {"disable_after": 2, **change} if change else change)
    assert get_settings(ledger)["disable_after"] == 5  # all or nothing: none stored
    after = update_settings(
        ledger,
        {
            "remove_address_on_hard_bounce": False,
            "disable_after": 0,
            "closed_campaign_statuses": ["Done", "closed"],
            "thresholds": {"Quota": 2},
        },
    )
    assert after["closed_campaign_statuses"] == ["closed", "done"]
    assert after["thresholds"]["Quota"] == 2
    # Applied now: a hard bounce no longer removes the address.
    ledger.add_contact("dead@example.org")
    assert ledger.process_bytes(dsn("dead@example.org", "5.1.1", serial=1)).outcome == "matched"
    view = ledger.contact_view("dead@example.org")
    assert view is not None and view["email"] == "dead@example.org" and view["bounced"]
    # And in the next process that opens the ledger, over the config file's values.
    url = ledger.engine.url.render_as_string(hide_password=False)
    config = Config(database_url=url)
    config.policy.disable_after = 9  # the file says 9; the stored 0 wins
    config.policy.threshold_overrides = {"Spam": 4}
    other = Ledger.open(config)
    try:
        policy = other.config.policy
        assert policy.remove_address_on_hard_bounce is False and policy.disable_after == 0
        assert policy.closed_campaign_statuses == frozenset({"closed", "done"})
        assert other.thresholds()["Quota"] == 2
        # A threshold the config file sets cannot be changed here: it would not take.
        with pytest.raises(SettingsError, match="config file"):
            update_settings(other, {"thresholds": {"Spam": 2}})
    finally:
        other.close()


def test_cli_stats_rebuild(ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger.add_contact("dead@example.org")
    ledger.record_send("dead@example.org", "spring")
    ledger.process_bytes(dsn("dead@example.org", "5.1.1", serial=1))
    before = rollup(ledger)
    with ledger.engine.begin() as conn:
        conn.execute(t.daily_stats.delete())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    url = ledger.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["stats", "rebuild", "--json"], env={"BOUNCEBACK_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"daily_stats": 1, "send_stats": 1}
    assert rollup(ledger) == before and sum(before.values()) == 1
    assert next(iter(before))[4] == "hard"


def test_kinds_have_a_category() -> None:
    from bounceback.ledger.rollups import category

    assert [category(str(k), False) for k in Kind] == [
        "soft",
        "delay",
        "complaint",
        "other",
        "other",
        "other",
        "other",
    ]
    assert category("bounce", True) == "hard"


def test_migration_0003_backfills_the_rollups(tmp_path: Path) -> None:
    from bounceback.ledger.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")  # a ledger from before the rollups, with history in it
    at = dt.datetime(2026, 2, 3, 4, 5)
    with engine.begin() as conn:
        conn.execute(t.campaigns.insert().values(id=1, name="spring"))
        conn.execute(t.sends.insert().values(email="a@gmail.com", campaign_id=1, sent_at=at))
        conn.execute(t.messages.insert().values(id=1, idempotency_key="k", outcome="matched"))
        base = {
            "message_id": 1,
            "domain": "gmail.com",
            "occurred_at": at,
            "effects": {},
            "hardbounce": False,
            "campaign_id": None,
            "undone_at": None,
        }
        # The table as that revision had it: later columns are not there yet.
        old_events = Table("bounce_events", MetaData(), autoload_with=conn)
        defaults = {
            c.name: default.arg
            for c in old_events.c
            if (default := t.events.c[c.name].default) is not None and not callable(default.arg)
        }
        base = {**defaults, **base}
        conn.execute(
            old_events.insert(),
            [
                {**base, "position": 0, "kind": "bounce", "hardbounce": True, "reason": "x"},
                {**base, "position": 1, "kind": "bounce", "campaign_id": 1, "reason": "y"},
                {**base, "position": 2, "kind": "complaint", "reason": "feedback"},
                {**base, "position": 3, "kind": "bounce", "reason": "y", "undone_at": at},
            ],
        )
    upgrade(engine)
    with engine.connect() as conn:
        daily = {tuple(r[:5]): r[5] for r in conn.execute(select(t.daily_stats))}
        sends = {tuple(r[:3]): r[3] for r in conn.execute(select(t.send_stats))}
    engine.dispose()
    day = at.date()
    assert daily == {
        (day, 0, "gmail.com", "x", "hard"): 1,
        (day, 1, "gmail.com", "y", "soft"): 1,
        (day, 0, "gmail.com", "feedback", "complaint"): 1,
    }
    assert sends == {(day, 1, "gmail.com"): 1}
