"""Human replies filed as activities, next to bounces, on SQLite and PostgreSQL.

Real bytes: two human replies (multipart/alternative, quoted text, encoded headers)
and corpus bounces and auto-replies, processed together with each purpose.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger import Ledger, Summary
from bounceback.ledger import tables as t
from bounceback.ledger.activities import Purpose, list_activities
from bounceback.model import RawMessage

REPLY = "reply-human-01.eml"  # María (a contact) replies, Cc Tom (a contact)
STRANGER = "reply-human-02.eml"  # James, nobody's contact yet
BOUNCE = "lhost-postfix-02.eml"  # two user-unknown hard bounces (example.co.jp)
AWAY = "rfc3834-01.eml"  # vacation auto-reply from kijitora@example.net
ALL = (REPLY, STRANGER, BOUNCE, AWAY)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(ledger: Ledger, purpose: Purpose, *names: str) -> tuple[Summary, dict[str, str]]:
    summary, outcomes = Summary(), {}
    raws = [(n, RawMessage(data=fixture_bytes(n), source="test", ref=n)) for n in names]
    for outcome in ledger.process(raws, purpose=purpose):
        summary.add(outcome)
        outcomes[outcome.label] = outcome.outcome
    return summary, outcomes


def count(ledger: Ledger, table: Any) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def setup_contacts(ledger: Ledger) -> None:
    ledger.add_contact("maria.lopez@example.org", "María López")
    ledger.add_contact("tom.baker@example.org", "Tom Baker")
    ledger.add_contact("userunknown@example.co.jp", "Gone")
    ledger.add_contact("kijitora@example.net", "Kijitora")


def test_both_files_replies_and_applies_bounces(ledger: Ledger) -> None:
    setup_contacts(ledger)
    summary, outcomes = run(ledger, "both", *ALL)
    assert outcomes == {REPLY: "filed", STRANGER: "filed", BOUNCE: "matched", AWAY: "matched"}
    assert summary.filed == 2 and summary.matched == 2

    maria = list_activities(ledger.engine, "Maria.Lopez@example.org")
    tom = list_activities(ledger.engine, "tom.baker@example.org")
    assert maria is not None and tom is not None and len(maria) == len(tom) == 1
    activity = maria[0]
    assert activity["subject"] == "Re: November newsletter – volunteer day"
    assert activity["sender"] == "maria.lopez@example.org"
    assert activity["sender_name"] == "María López"
    assert activity["date"] == "2026-11-17T08:13:51"  # stored as UTC
    assert "bring two\nmore people from the school" in activity["body"]
    assert "> The volunteer day is on Saturday" in activity["body"]  # quoted text kept
    assert "<p>" not in activity["body"]  # the plain part, not the HTML
    assert tom[0]["message_id"] == activity["message_id"]

    # The raw message is kept once, on its messages row.
    with ledger.engine.connect() as conn:
        raw = conn.execute(
            select(t.messages.c.raw).where(t.messages.c.id == activity["message_id"])
        ).scalar_one()
    assert zlib.decompress(raw) == fixture_bytes(REPLY)

    # The bounce and the auto-reply did what they always do.
    gone = ledger.contact_view("userunknown@example.co.jp")
    assert gone is not None and gone["bounced"] and gone["hold_type"] == "Invalid"
    away = ledger.contact_view("kijitora@example.net")
    assert away is not None and away["bounce_counts"] == {"Away": 1} and not away["on_hold"]
    assert list_activities(ledger.engine, "kijitora@example.net") == []  # not filed


def test_unknown_sender_becomes_a_contact(ledger: Ledger) -> None:
    run(ledger, "activities", STRANGER)
    view = ledger.contact_view("j.okafor@newcomer.example")
    assert view is not None and view["name"] == "Okafor, James" and view["kind"] == "contact"
    found = list_activities(ledger.engine, "j.okafor@newcomer.example")
    assert found is not None and [a["subject"] for a in found] == ["RE: November newsletter"]
    # Our own address in To is nobody's contact: no contact is made for it.
    assert ledger.contact_view("news@sender.example") is None


def test_reprocessing_adds_nothing(ledger: Ledger) -> None:
    setup_contacts(ledger)
    run(ledger, "both", *ALL)
    before = [count(ledger, x) for x in (t.activities, t.contacts, t.events, t.messages)]
    summary, outcomes = run(ledger, "both", *ALL)
    assert summary.duplicates == 4 and set(outcomes.values()) == {"duplicate"}
    after = [count(ledger, x) for x in (t.activities, t.contacts, t.events, t.messages)]
    assert after == before


def test_activities_only_applies_no_bounce(ledger: Ledger) -> None:
    setup_contacts(ledger)
    summary, outcomes = run(ledger, "activities", *ALL)
    assert outcomes == {REPLY: "filed", STRANGER: "filed", BOUNCE: "ignored", AWAY: "ignored"}
    assert summary.filed == 2 and summary.ignored == 2 and summary.bounces == 0
    assert count(ledger, t.events) == 0
    gone = ledger.contact_view("userunknown@example.co.jp")
    assert gone is not None and not gone["bounced"] and gone["email"] is not None
    assert count(ledger, t.activities) == 3  # María and Tom, James


def test_bounces_only_files_nothing(ledger: Ledger) -> None:
    setup_contacts(ledger)
    summary, outcomes = run(ledger, "bounces", *ALL)
    assert outcomes == {REPLY: "ignored", STRANGER: "ignored", BOUNCE: "matched", AWAY: "matched"}
    assert count(ledger, t.activities) == 0 and summary.filed == 0
    assert ledger.contact_view("j.okafor@newcomer.example") is None


def test_the_activities_command(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()
    env = {"BOUNCEBACK_DATABASE_URL": db_url}
    for name in (REPLY, BOUNCE):
        (tmp_path / name).write_bytes(fixture_bytes(name))
    files = [str(tmp_path / REPLY), str(tmp_path / BOUNCE)]
    bad = runner.invoke(app, ["process", "--purpose", "replies", *files], env=env)
    assert bad.exit_code == 2
    done = runner.invoke(app, ["process", "--json", "--purpose", "both", *files], env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["filed"] == 1 and summary["unmatched"] == 1
    listed = runner.invoke(
        app, ["activities", "list", "maria.lopez@example.org", "--json"], env=env
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["sender_name"] for r in rows] == ["María López"]
    table = runner.invoke(app, ["activities", "list", "maria.lopez@example.org"], env=env)
    assert table.exit_code == 0 and "November" in table.stdout and "2026-11-17" in table.stdout
    missing = runner.invoke(app, ["activities", "list", "nobody@example.org"], env=env)
    assert missing.exit_code == 2
