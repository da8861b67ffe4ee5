"""Contacts, suppression, campaigns, holds, resends and the send log, on both databases."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from ledger_support import make_config
from sqlalchemy import select

import bounceback
from bounceback.ledger import Ledger, LedgerError, Send, Summary
from bounceback.ledger import tables as t
from bounceback.ledger.stamping import envelope_options
from bounceback.model import RawMessage
from support.samples import dsn


def run(ledger: Ledger, *messages: bytes) -> Summary:
    summary = Summary()
    for outcome in ledger.process([("m", RawMessage(data=m, source="t")) for m in messages]):
        summary.add(outcome)
    return summary


def test_contacts_import_reports_bad_rows_by_line(ledger: Ledger) -> None:
    text = (
        "\ufeffemail,name,kind,campaign\r\n"
        "a@example.org,Anna,contact,spring\r\n"
        "not-an-address,Bad,contact,\r\n"
        "b@example.org,Acme,company,\r\n"
        "c@example.org,Cat,robot,\r\n"
        "A@Example.org,Anna B,,\r\n"
    )
    result = ledger.import_contacts(text)
    assert (result.imported, result.updated) == (2, 1)
    assert [e.split(":")[0] for e in result.errors] == ["line 3", "line 5"]
    view = ledger.contact_view("a@example.org")
    assert view is not None and view["name"] == "Anna B"
    company = ledger.contact_view("b@example.org")
    assert company is not None and company["kind"] == "company"
    assert ledger.campaign_stats("spring")["sent"] == 1
    again = ledger.import_contacts(text)  # the same file again: updates, no new sends
    assert (again.imported, again.updated) == (0, 3)
    assert ledger.campaign_stats("spring")["sent"] == 1


def test_contacts_import_needs_an_email_column(ledger: Ledger) -> None:
    result = ledger.import_contacts("name,kind\nAnna,contact\n")
    assert result.imported == 0 and result.errors == ["line 1: the header lacks email"]


def test_unhold_restores_bulk_mail_and_keeps_history(ledger: Ledger) -> None:
    ledger.add_contact("k@example.org")
    run(ledger, dsn("k@example.org", "5.1.1"))
    assert ledger.unhold("k@example.org")
    view = ledger.contact_view("k@example.org")
    assert view is not None
    assert view["email"] == "k@example.org" and not view["on_hold"] and not view["bounced"]
    assert view["bulk_mail"] == "allowed" and not view["suppressed"]
    assert view["bounce_counts"] == {} and len(view["history"]) == 1
    assert not ledger.unhold("nobody@example.org")


def test_set_email_gives_a_fresh_start(ledger: Ledger) -> None:
    ledger.add_contact("old@example.org", "Neko")
    ledger.add_contact("taken@example.org")
    run(ledger, dsn("old@example.org", "5.1.1"))
    with pytest.raises(LedgerError):
        ledger.set_email("old@example.org", "taken@example.org")
    ledger.set_email("old@example.org", "new@example.org")
    view = ledger.contact_view("new@example.org")
    assert view is not None and view["name"] == "Neko"
    assert view["bounced_address"] == "old@example.org"
    assert not view["bounced"] and view["bulk_mail"] == "allowed" and len(view["history"]) == 1
    assert ledger.is_suppressed("old@example.org")  # the dead address stays suppressed
    assert not view["suppressed"]  # the new one is not


def test_suppression_add_check_remove(ledger: Ledger) -> None:
    assert not ledger.is_suppressed("x@example.org")
    assert ledger.suppress("X@example.org", "asked us")
    assert not ledger.suppress("x@example.org")
    assert ledger.is_suppressed("x@example.org")
    assert ledger.suppressions()[0]["reason"] == "asked us"
    assert ledger.unsuppress("x@example.org")
    assert not ledger.unsuppress("x@example.org")
    assert ledger.suppressions() == []


def test_unsuppress_restores_a_hard_bounced_address(ledger: Ledger) -> None:
    ledger.add_contact("h@example.org")
    run(ledger, dsn("h@example.org", "5.1.1"))
    assert ledger.unsuppress("h@example.org")
    view = ledger.contact_view("h@example.org")
    assert view is not None and view["email"] == "h@example.org" and not view["bounced"]


def test_campaign_stats_and_resend_list(ledger: Ledger) -> None:
    ledger.add_campaign("spring")
    with pytest.raises(LedgerError):
        ledger.add_campaign("spring")
    for name in ("soft", "hard", "quiet"):
        ledger.add_contact(f"{name}@example.org")
        ledger.record_send(f"{name}@example.org", "spring", message_id=f"<{name}@s.example>")
    run(
        ledger,
        dsn("soft@example.org", "5.2.2", "552 5.2.2 Mailbox full", message_id="<soft@s.example>"),
        dsn("hard@example.org", "5.1.1", message_id="<hard@s.example>", serial=2),
    )
    stats = ledger.campaign_stats("spring")
    assert (stats["sent"], stats["hard_bounces"], stats["soft_bounces"]) == (3, 1, 1)
    assert stats["by_type"] == {"Invalid": 1, "Quota": 1}
    assert [r["email"] for r in ledger.resend_list("spring")] == ["soft@example.org"]
    ledger.set_campaign_status("spring", "completed")
    run(ledger, dsn("quiet@example.org", "5.1.1", message_id="<quiet@s.example>", serial=3))
    assert ledger.campaign_stats("spring")["hard_bounces"] == 1  # closed: not counted
    with pytest.raises(LedgerError):
        ledger.campaign_stats("autumn")


def test_sends_import_keeps_good_rows(ledger: Ledger) -> None:
    text = (
        "email,campaign,message_id,bounceback_id,return_path,sent_at\n"
        "a@example.org,spring,<1@s.example>,bb.1.aaaaaaaaaaaaaaaa,,2026-03-01T10:00:00Z\n"
        "broken-row-without-address,spring,,,,\n"
        "b@example.org,spring,<2@s.example>,,,not-a-date\n"
        "c@example.org,,<3@s.example>,,,\n"
    )
    result = ledger.import_sends(text)
    assert result.imported == 2
    assert len(result.errors) == 2 and all("line" in e for e in result.errors)
    ledger.add_contact("c@example.org")
    run(ledger, dsn("c@example.org", "5.1.1", message_id="<3@s.example>"))
    view = ledger.contact_view("c@example.org")
    assert view is not None and view["history"][0]["match_method"] == "message_id"


def test_stamp_records_the_send_and_marks_the_message(db_url: str) -> None:
    config = make_config(db_url)
    config.verp.domain = "bounces.sender.example"
    config.verp.active_key = "k1"
    config.verp.keys = {"k1": b"a secret of enough length"}
    ledger = Ledger.open(config)
    try:
        ledger.add_contact("neko@example.org")
        message = EmailMessage()
        message["To"] = "Neko <neko@example.org>"
        message["Subject"] = "Spring news"
        stamped = bounceback.stamp(message, Send(campaign="spring"), ledger=ledger)
        assert stamped["X-Bounceback-ID"].startswith("bb.1.")
        assert stamped["Return-Path"].endswith("@bounces.sender.example>")
        # The ENVID for the SMTP MAIL command is the stamped id, xtext-encoded.
        assert envelope_options(stamped) == [
            f"ENVID={stamped['X-Bounceback-ID']}",
            "RET=HDRS",
        ]
        assert envelope_options(EmailMessage()) == []
        with ledger.engine.connect() as conn:
            row = conn.execute(select(t.sends)).one()
        assert row.email == "neko@example.org" and row.message_id == stamped["Message-ID"]
        assert row.bounceback_id == stamped["X-Bounceback-ID"] and row.address_id is not None
        # The bounce to that return path finds the send by its signed token.
        data = dsn("neko@example.org", "5.1.1", return_path=stamped["Return-Path"].strip("<>"))
        assert run(ledger, data).matched == 1
        view = ledger.contact_view("neko@example.org")
        assert view is not None and view["history"][0]["match_method"] == "verp"
    finally:
        ledger.close()


def test_thresholds_are_editable(ledger: Ledger) -> None:
    ledger.set_threshold("Quota", 1)
    ledger.add_contact("q@example.org")
    run(ledger, dsn("q@example.org", "5.2.2", "552 5.2.2 Mailbox full"))
    view = ledger.contact_view("q@example.org")
    assert view is not None and view["on_hold"]
    with pytest.raises(LedgerError):
        ledger.set_threshold("Nonsense", 1)


def test_decay_counts_once_a_day_and_goes_stale(db_url: str) -> None:
    config = make_config(db_url)
    config.policy.decay.enabled = True
    config.policy.decay.stale_after_days = 7
    ledger = Ledger.open(config)
    try:
        ledger.add_contact("d@example.org")
        day = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

        def bounce(when: dt.datetime, serial: int) -> None:
            data = dsn("d@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=serial)
            list(ledger.process([("m", RawMessage(data=data, received_at=when))]))

        bounce(day, 1)
        bounce(day + dt.timedelta(hours=2), 2)  # same day: not counted again
        view = ledger.contact_view("d@example.org")
        assert view is not None and view["bounce_counts"] == {"Quota": 1}
        bounce(day + dt.timedelta(days=1), 3)
        view = ledger.contact_view("d@example.org")
        assert view is not None and view["bounce_counts"] == {"Quota": 2}
        bounce(day + dt.timedelta(days=20), 4)  # stale: starts over
        view = ledger.contact_view("d@example.org")
        assert view is not None and view["bounce_counts"] == {"Quota": 1}
        assert len(view["history"]) == 4
    finally:
        ledger.close()
