"""One quarantined message at a time (the dashboard's actions), on SQLite and PostgreSQL:
retry re-processes the kept bytes under today's engine, release keeps it as ignored,
delete removes it; only quarantined rows are touched."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bounceback.ledger import Ledger, quarantine
from bounceback.ledger import tables as t

EMAILS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
BOUNCE = "lhost-postfix-02.eml"  # two user-unknown hard bounces (example.co.jp)


def keep_in_quarantine(ledger: Ledger, data: bytes, key: str, error: str) -> int:
    """A message as an older engine left it: quarantined, its bytes kept."""
    with ledger.engine.begin() as conn:
        return int(
            conn.execute(
                insert(t.messages)
                .values(
                    idempotency_key=key,
                    source="imap:bounces",
                    ref=key,
                    size=len(data),
                    raw=zlib.compress(data),
                    outcome="quarantined",
                    error=error,
                )
                .returning(t.messages.c.id)
            ).scalar_one()
        )


def rows(ledger: Ledger) -> dict[int, tuple[str, str]]:
    m = t.messages.c
    with ledger.engine.connect() as conn:
        return {r.id: (r.outcome, r.error) for r in conn.execute(select(m.id, m.outcome, m.error))}


def test_retry_one_applies_it_and_leaves_the_others(ledger: Ledger) -> None:
    ledger.add_contact("userunknown@example.co.jp")
    data = (EMAILS / BOUNCE).read_bytes()
    first = keep_in_quarantine(ledger, data, "old:1", "engine error: KeyError: 'x'")
    other = keep_in_quarantine(ledger, data + b"\r\n", "old:2", "engine error: KeyError: 'x'")
    outcome = quarantine.retry(ledger, first)
    assert outcome.outcome == "matched" and outcome.records == 2
    after = rows(ledger)
    assert first not in after  # replaced by the applied message's row, same transaction
    assert after[other] == ("quarantined", "engine error: KeyError: 'x'")
    assert sorted(o for o, _ in after.values()) == ["matched", "quarantined"]
    view = ledger.contact_view("userunknown@example.co.jp")
    assert view is not None and view["bounced"]
    with pytest.raises(quarantine.NotQuarantined):
        quarantine.retry(ledger, first)


def test_a_message_still_unreadable_stays_with_its_new_reason(ledger: Ledger) -> None:
    junk = b"\x00\x01\x02 not mail at all"
    kept = keep_in_quarantine(ledger, junk, "old:junk", "engine error: old reason")
    outcome = quarantine.retry(ledger, kept)
    assert outcome.outcome == "quarantined"
    assert outcome.error == "binary data, not an email message"
    assert [e for o, e in rows(ledger).values() if o == "quarantined"] == [outcome.error]


def test_release_and_delete(ledger: Ledger) -> None:
    data = (EMAILS / BOUNCE).read_bytes()
    released = keep_in_quarantine(ledger, data, "old:r", "matching: no send")
    deleted = keep_in_quarantine(ledger, data + b"\r\n", "old:d", "matching: no send")
    quarantine.release(ledger, released, "alice")
    assert rows(ledger)[released] == ("ignored", "released by alice: matching: no send")
    assert quarantine.raw_bytes(ledger, released) == data  # the bytes stay
    with pytest.raises(quarantine.NotQuarantined):
        quarantine.release(ledger, released, "alice")  # no longer quarantined
    with pytest.raises(quarantine.NotQuarantined):
        quarantine.delete_message(ledger, released)  # only quarantined rows are deleted
    quarantine.delete_message(ledger, deleted)
    assert deleted not in rows(ledger)
    assert quarantine.raw_bytes(ledger, deleted) is None
