"""PowerMTA accounting CSV: b, rb and f records, bounceCat hints, bad rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.pmta import BOUNCE_CATEGORIES, PmtaCsv
from bounceback.sources.tail import Line, TailReader

DATA = Path(__file__).parent / "data"


def read(tmp_path: Path, name: str, **kw: object) -> tuple[list[SourceEvent], list[SourceError]]:
    lines = TailReader(DATA / name, tmp_path / f"{name}.state").read()
    return PmtaCsv(**kw).feed_all(lines)  # type: ignore[arg-type]


def by_rcpt(events: list[SourceEvent]) -> dict[str, SourceEvent]:
    return {e.report.records[0].recipient: e for e in events}


def test_bounce_records(tmp_path: Path) -> None:
    events, _ = read(tmp_path, "acct-bounces.csv")
    got = by_rcpt(events)
    assert set(got) == {
        "gone@example.net",
        "full@example.com",
        "someone@no-such-domain.example",
        "blocked@bigmail.example",
    }
    ev = got["gone@example.net"]
    rec = ev.report.records[0]
    assert ev.source == "pmta" and ev.report.detector == "pmta"
    assert ev.report.kind == Kind.BOUNCE
    assert (rec.action, rec.status, rec.reply_code) == ("failed", "5.1.1", "550")
    assert rec.diagnostic.startswith("550 5.1.1 <gone@example.net>: Recipient address rejected")
    assert rec.remote_mta == "mx1.example.net"
    assert rec.reason_hint == "userunknown"
    assert rec.smtp_command == ""
    assert ev.report.original.message_id == "<20261120091358.1234@news.example.org>"
    assert ev.report.original.bounceback_id == "bb-0001"
    assert ev.report.original.envelope_id == "env-77"
    # The return path (orig) is where a VERP token would be.
    assert ev.report.delivered_to == ["bounces+ab12@news.example.org"]
    assert ev.meta["job_id"] == "job-1120a" and ev.meta["vmta"] == "vmta-news-1"
    assert ev.received_at == dt.datetime(2026, 11, 20, 9, 14, 2, tzinfo=dt.UTC)


def test_classifier_reasons(tmp_path: Path) -> None:
    events, _ = read(tmp_path, "acct-bounces.csv")
    reasons = {
        e.report.records[0].recipient: (b.reason, b.hardbounce)
        for e in events
        for b in classify(e.report)
    }
    assert reasons == {
        "gone@example.net": ("userunknown", True),
        "full@example.com": ("mailboxfull", False),
        "someone@no-such-domain.example": ("hostunknown", True),
        "blocked@bigmail.example": ("spamdetected", False),
    }


def test_bad_rows_are_reported_not_fatal(tmp_path: Path) -> None:
    events, errors = read(tmp_path, "acct-bounces.csv")
    assert len(events) == 4
    messages = sorted(e.error for e in errors)
    assert messages == [
        "4 fields, header names 20",
        "b record without a recipient",
        "not an accounting record: 'this line is not a record'",
    ]
    assert all(e.ref.startswith(str(DATA / "acct-bounces.csv") + ":") for e in errors)


def test_remote_bounces(tmp_path: Path) -> None:
    events, errors = read(tmp_path, "acct-remote.csv")
    assert not errors
    got = by_rcpt(events)
    left = got["left@corp.example"]
    assert left.report.kind == Kind.BOUNCE
    assert left.report.records[0].reporting_mta == "mail.corp.example"
    [bounce] = classify(left.report)
    assert (bounce.reason, bounce.bounce_type) == ("suspend", "Inactive")
    late = got["late@slow.example"]
    assert late.report.kind == Kind.DELAY
    assert classify(late.report)[0].reason == "expired"


def test_feedback_loop_records(tmp_path: Path) -> None:
    [event], errors = read(tmp_path, "acct-fbl.csv")
    assert not errors
    rec = event.report.records[0]
    assert event.report.kind == Kind.COMPLAINT
    assert (rec.recipient, rec.feedback_type) == ("reader@yahoo.example", "abuse")
    assert event.meta["fbl_id"] == "news-20261122"
    [bounce] = classify(event.report)
    assert bounce.reason == "feedback" and bounce.bounce_type == "AOL (Complaint)"


def test_only_requested_record_types(tmp_path: Path) -> None:
    events, _ = read(tmp_path, "acct-remote.csv", types={"b"})
    assert events == []


def test_deliveries_when_asked(tmp_path: Path) -> None:
    csv = tmp_path / "acct.csv"
    csv.write_text(
        "type,timeLogged,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta\n"
        "d,1763629200,b@news.example.org,ok@example.com,relayed,2.0.0 (success),"
        '"smtp;250 2.0.0 OK 1763629200 queued",mx.example.com (192.0.2.80)\n'
    )
    lines = TailReader(csv, tmp_path / "s").read()
    assert PmtaCsv().feed_all(lines) == ([], [])
    [event], _ = PmtaCsv(types={"d"}).feed_all(lines)
    assert event.report.kind == Kind.DELIVERED
    assert event.received_at == dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)
    assert classify(event.report)[0].reason == "delivered"


def test_configured_header_for_files_without_one() -> None:
    line = Line("b,x@example.com,failed,5.1.1,smtp;550 no such user", "f.csv", 0, "b,...")
    assert isinstance(PmtaCsv().feed(line), SourceError)
    event = PmtaCsv(header=["type", "rcpt", "dsnAction", "dsnStatus", "dsnDiag"]).feed(line)
    assert isinstance(event, SourceEvent)
    assert event.report.records[0].status == "5.1.1"


def test_keys_are_stable_across_reads_and_rotation(tmp_path: Path) -> None:
    copy = tmp_path / "acct.csv"
    shutil.copy(DATA / "acct-bounces.csv", copy)
    first, _ = PmtaCsv().feed_all(TailReader(copy, tmp_path / "a").read())
    moved = tmp_path / "done.csv"
    copy.rename(moved)
    second, _ = PmtaCsv().feed_all(TailReader(moved, tmp_path / "b").read())
    assert [e.key for e in first] == [e.key for e in second]
    assert len({e.key for e in first}) == len(first)


@pytest.mark.parametrize(("category", "reason"), sorted(BOUNCE_CATEGORIES.items()))
def test_every_category_hint_is_a_known_reason(category: str, reason: str) -> None:
    from bounceback.classify.reasons import REASONS

    assert reason in REASONS, category
