"""Erasure on SQLite and PostgreSQL, with real messages: a two-recipient Postfix bounce
(one message naming two people), a generated DSN naming one, a human reply Cc another
contact. After erasing someone, no table holds their address in any form (raw bytes
decompressed), the others keep their rows, and every suppression check says "suppressed".
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from ledger_support import fixture_bytes
from sqlalchemy import func, select
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger import Ledger, LedgerError
from bounceback.ledger import tables as t
from bounceback.ledger.erasure import erase, erasures
from bounceback.ledger.fastcheck import SuppressionLookup
from bounceback.ledger.models import Base
from bounceback.model import RawMessage
from support.samples import dsn

GONE = "userunknown@example.co.jp"  # one of lhost-postfix-02's two recipients
OTHER = "filtered@example.co.jp"  # the other
MARIA = "maria.lopez@example.org"  # writes reply-human-01, Cc Tom
TOM = "tom.baker@example.org"
NOW = dt.datetime(2026, 12, 1, 9, 30)


def fill(ledger: Ledger) -> None:
    ledger.add_contact(GONE, "Gone Person")
    ledger.add_contact(OTHER, "Other Person")
    ledger.add_contact(MARIA, "María López")
    ledger.add_contact(TOM, "Tom Baker")
    ledger.record_send(GONE, campaign="spring", message_id="<s1@sender.example>")
    ledger.record_send(OTHER, campaign="spring")
    raws = [
        ("two", RawMessage(data=fixture_bytes("lhost-postfix-02.eml"), source="test")),
        ("one", RawMessage(data=dsn(GONE, "4.2.2", serial=7), source="test")),
        ("reply", RawMessage(data=fixture_bytes("reply-human-01.eml"), source="test")),
    ]
    outcomes = {o.label: o.outcome for o in ledger.process(raws, purpose="both")}
    assert outcomes == {"two": "matched", "one": "matched", "reply": "filed"}


def rows(ledger: Ledger, table: Any) -> list[Any]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(table)).all())


def count(ledger: Ledger, table: Any, *where: Any) -> int:
    with ledger.engine.connect() as conn:
        query = select(func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def mentions(ledger: Ledger, needle: str) -> list[str]:
    """Every table.column holding ``needle`` (any case); zlib bytes are read unpacked."""
    found = []
    for table in Base.metadata.sorted_tables:
        for row in rows(ledger, table):
            for column, value in row._mapping.items():
                if isinstance(value, bytes):
                    value = zlib.decompress(value).decode("utf-8", "replace")
                elif not isinstance(value, str):
                    value = json.dumps(value, default=str)
                if needle.lower() in value.lower():
                    found.append(f"{table.name}.{column}")
    return found


def test_erase_leaves_nothing_that_names_them(ledger: Ledger) -> None:
    fill(ledger)
    assert mentions(ledger, GONE)  # the check can fail: the address is there before
    other_events = count(ledger, t.events, t.events.c.email == OTHER)
    assert other_events == 1 and ledger.is_suppressed(GONE)

    report = erase(ledger.engine, GONE, "dpo@sender.example", NOW)

    assert mentions(ledger, GONE) == []
    assert mentions(ledger, "Gone Person") == []  # the contact's fields too
    assert report.counts["contacts"] == 1 and report.counts["email_addresses"] == 1
    assert report.counts["bounce_events"] == 2  # one in each message
    assert report.counts["messages"] == 1  # the DSN that named only them
    assert report.counts["messages_raw_dropped"] == 1  # the one that names OTHER too
    assert report.counts["sends"] == 1 and report.counts["suppressions"] == 1
    # The other person keeps everything: contact, event, send, suppression.
    assert count(ledger, t.events, t.events.c.email == OTHER) == other_events
    assert ledger.contact_view(OTHER) is not None
    assert ledger.is_suppressed(OTHER)
    assert count(ledger, t.sends, t.sends.c.email == OTHER) == 1
    assert ledger.contact_view(GONE) is None


def test_the_record_says_when_and_by_whom_never_whose(ledger: Ledger) -> None:
    fill(ledger)
    erase(ledger.engine, GONE, "dpo@sender.example", NOW)
    [record] = erasures(ledger.engine)
    assert record["erased_at"] == NOW.isoformat()
    assert record["operator"] == "dpo@sender.example"
    assert record["counts"]["contacts"] == 1
    assert GONE not in json.dumps(record)


def test_every_suppression_check_still_says_suppressed(ledger: Ledger) -> None:
    fill(ledger)
    erase(ledger.engine, GONE, "dpo", NOW)
    assert ledger.is_suppressed(GONE)
    assert ledger.is_suppressed(f"  <{GONE.upper()}> ")
    assert not ledger.is_suppressed("someone.else@example.co.jp")
    lookup = SuppressionLookup(ledger.engine)
    try:
        found = lookup.check(GONE)
        assert found is not None and found[:2] == ("erased", "erasure")
        assert lookup.check("someone.else@example.co.jp") is None
    finally:
        lookup.close()
    # The list shows a hash, not the address.
    [hashed] = [s for s in ledger.suppressions() if s["source"] == "erasure"]
    assert hashed["email"].startswith("erased:") and len(hashed["email"]) == 7 + 64


def test_an_import_or_add_does_not_bring_them_back(ledger: Ledger) -> None:
    fill(ledger)
    erase(ledger.engine, GONE, "dpo", NOW)
    result = ledger.import_contacts(f"email,name\n{GONE.upper()},Back Again\nnew@example.org,N\n")
    assert result.imported == 1 and len(result.errors) == 1
    assert "line 2" in result.errors[0] and "erased" in result.errors[0]
    assert ledger.contact_view(GONE) is None
    with pytest.raises(LedgerError, match="erased"):
        ledger.add_contact(GONE)
    with pytest.raises(LedgerError, match="erased"):
        ledger.set_email(OTHER, GONE)  # nor given to someone else
    # They asked to come back: lifting the suppression removes the hash too.
    assert ledger.unsuppress(GONE)
    assert not ledger.is_suppressed(GONE)
    ledger.add_contact(GONE, "Back Again")
    assert ledger.contact_view(GONE) is not None


def test_a_shared_reply_keeps_the_writer_and_loses_the_bytes(ledger: Ledger) -> None:
    """Tom is in the Cc of María's reply, filed on both: erasing Tom keeps María's
    activity, drops Tom's and the raw bytes that name him."""
    fill(ledger)
    assert count(ledger, t.activities) == 2
    report = erase(ledger.engine, TOM, "dpo", NOW)
    assert report.counts["activities"] == 1 and report.counts["messages_raw_dropped"] == 1
    assert mentions(ledger, TOM) == []
    [kept] = rows(ledger, t.activities)
    assert kept.sender == MARIA
    assert ledger.contact_view(MARIA) is not None


def test_erasing_the_writer_takes_the_reply_filed_on_others(ledger: Ledger) -> None:
    fill(ledger)
    report = erase(ledger.engine, MARIA, "dpo", NOW)
    # Her reply was filed on her and on Tom: both go, and the message with them.
    assert report.counts["activities"] == 2 and report.counts["messages"] == 1
    assert mentions(ledger, MARIA) == [] and count(ledger, t.activities) == 0
    assert ledger.contact_view(TOM) is not None


def test_a_bounced_address_is_found_by_either_address(ledger: Ledger) -> None:
    fill(ledger)  # the hard bounce moved GONE to bounced_address
    view = ledger.contact_view(GONE)
    assert view is not None and view["email"] is None and view["bounced_address"] == GONE
    report = erase(ledger.engine, GONE.upper().lower(), "dpo", NOW)
    assert report.counts["contacts"] == 1


def test_the_cli(
    ledger: Ledger, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(ledger)
    monkeypatch.chdir(tmp_path)  # no stray ./bounceback.toml
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()
    env = {"BOUNCEBACK_DATABASE_URL": db_url}
    refused = runner.invoke(app, ["contacts", "erase", GONE], env=env)
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert ledger.contact_view(GONE) is not None
    bad = runner.invoke(app, ["contacts", "erase", "not-an-address", "--yes"], env=env)
    assert bad.exit_code == 2
    done = runner.invoke(
        app, ["contacts", "erase", GONE, "--yes", "--json", "--operator", "ticket 42"], env=env
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["counts"]["contacts"] == 1
    listed = runner.invoke(app, ["contacts", "erasures", "--json"], env=env)
    assert [r["operator"] for r in json.loads(listed.output)] == ["ticket 42"]
    check = runner.invoke(app, ["suppression", "check", GONE], env=env)
    assert check.exit_code == 0 and "suppressed" in check.output


def test_a_later_reply_does_not_make_them_a_contact_again(ledger: Ledger) -> None:
    """Replies from unknown senders become contacts; from an erased one, not."""
    fill(ledger)
    erase(ledger.engine, MARIA, "dpo", NOW)
    erase(ledger.engine, TOM, "dpo", NOW)
    again = RawMessage(data=fixture_bytes("reply-human-01.eml"), source="test")
    list(ledger.process([("again", again)], purpose="both"))
    assert ledger.contact_view(MARIA) is None and ledger.contact_view(TOM) is None
    assert count(ledger, t.activities) == 0 and count(ledger, t.contacts) == 2


def test_on_sqlite_the_file_itself_forgets_them(ledger: Ledger, db_url: str) -> None:
    """secure_delete: the freed pages are zeroed, not left readable (11 copies of the
    address stayed in the file without it)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's file (PostgreSQL: dead rows go with vacuum)")
    fill(ledger)
    erase(ledger.engine, GONE, "dpo", NOW)
    ledger.engine.dispose()
    path = Path(db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    assert data.count(OTHER.encode()) > 0  # the check can fail: text is stored plain
    assert data.count(GONE.encode()) == 0 and data.count(b"Gone Person") == 0
