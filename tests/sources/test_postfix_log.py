"""Postfix mail log: bounced and deferred delivery lines, message-id of the queue id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.postfix_log import PostfixLog
from bounceback.sources.tail import TailReader

DATA = Path(__file__).parent / "data"


def events_of(tmp_path: Path, parser: PostfixLog | None = None) -> list[SourceEvent]:
    parser = parser or PostfixLog()
    out = []
    for line in TailReader(DATA / "mail.log", tmp_path / "state").read():
        got = parser.feed(line)
        assert not isinstance(got, SourceError), got
        if got is not None:
            out.append(got)
    return out


def test_bounced_line_with_queue_context(tmp_path: Path) -> None:
    events = events_of(tmp_path)
    first = events[0]
    rec = first.report.records[0]
    assert first.source == "postfix-log" and first.report.detector == "postfix-log"
    assert first.report.kind == Kind.BOUNCE
    assert (rec.recipient, rec.action, rec.status, rec.reply_code) == (
        "gone@example.net",
        "failed",
        "5.1.1",
        "550",
    )
    assert rec.diagnostic.startswith("550 5.1.1 <gone@example.net>: Recipient address rejected")
    assert rec.smtp_command == "RCPT"
    assert (rec.remote_mta, rec.reporting_mta) == ("mx1.example.net", "out1")
    assert first.report.original.message_id == "<20261120091358.77@news.example.org>"
    assert first.report.original.return_path == "bounces+ab12@news.example.org"
    assert first.report.delivered_to == ["bounces+ab12@news.example.org"]
    assert first.meta["queue_id"] == "4A1B21C0042"
    assert first.received_at.replace(year=2026) == dt.datetime(
        2026, 11, 20, 9, 14, 1, tzinfo=dt.UTC
    )


def test_outcomes_and_reasons(tmp_path: Path) -> None:
    got = [
        (e.report.records[0].recipient, e.report.kind, b.reason, b.hardbounce)
        for e in events_of(tmp_path)
        for b in classify(e.report)
    ]
    assert got == [
        ("gone@example.net", Kind.BOUNCE, "userunknown", True),
        ("someone@slow.example", Kind.DELAY, "expired", False),
        ("big@example.com", Kind.BOUNCE, "mailboxfull", False),
        ("nobody@out1.example.org", Kind.BOUNCE, "userunknown", True),
        ("x@nxdomain.example", Kind.BOUNCE, "hostunknown", True),
    ]


def test_rfc3339_stamps_and_local_delivery(tmp_path: Path) -> None:
    events = {e.report.records[0].recipient: e for e in events_of(tmp_path)}
    big = events["big@example.com"]
    assert big.received_at == dt.datetime(2026, 11, 20, 9, 21, 7, 123456, tzinfo=dt.UTC)
    local = events["nobody@out1.example.org"].report.records[0]
    assert local.original_recipient == "" and local.remote_mta == ""
    assert local.diagnostic == 'unknown user: "nobody"'


def test_removed_forgets_the_queue_id(tmp_path: Path) -> None:
    parser = PostfixLog()
    events_of(tmp_path, parser)
    late = parser.feed_text(
        "Nov 20 10:00:00 out1 postfix/smtp[1]: 4A1B21C0042: to=<a@example.net>, relay=none, "
        "delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect timed out)"
    )
    assert isinstance(late, SourceEvent)
    assert late.report.original.message_id == ""


def test_sent_lines_only_when_asked(tmp_path: Path) -> None:
    assert "friend@example.org" not in {e.report.records[0].recipient for e in events_of(tmp_path)}
    with_sent = events_of(tmp_path, PostfixLog(include_sent=True))
    sent = [e for e in with_sent if e.report.kind == Kind.DELIVERED]
    assert [e.report.records[0].recipient for e in sent] == ["friend@example.org"]
    assert classify(sent[0].report)[0].reason == "delivered"


def test_keys_unique_and_stable(tmp_path: Path) -> None:
    a = [e.key for e in events_of(tmp_path)]
    (tmp_path / "again").mkdir()
    b = [e.key for e in events_of(tmp_path / "again")]  # a fresh reader, fresh state
    assert a == b and len(set(a)) == len(a)


def test_malformed_delivery_line() -> None:
    got = PostfixLog().feed_text(
        "Nov 20 10:00:00 out1 postfix/smtp[1]: 4A1B21C0042: to=<>, relay=none, status=bounced (x)"
    )
    assert isinstance(got, SourceError)
    assert PostfixLog().feed_text("garbage status=bounced") is None
    assert PostfixLog().feed_text("") is None


EXPIRY = (DATA / "mail-expiry.log").read_text()


def test_queue_expiry_turns_deferrals_into_bounces() -> None:
    parser = PostfixLog()
    events = [
        e for line in EXPIRY.splitlines() if isinstance(e := parser.feed_text(line), SourceEvent)
    ]
    assert [e.report.kind for e in events] == [Kind.DELAY] * 3 + [Kind.BOUNCE]
    expired = events[-1]
    # c@ok.example was delivered in between: not part of the expiry.
    assert [r.recipient for r in expired.report.records] == ["a@slow.example", "b@slow.example"]
    assert expired.report.original.return_path == "bounces+qr78@news.example.org"
    bounces = classify(expired.report)
    assert [(b.reason, b.hardbounce, b.permanent) for b in bounces] == [
        ("expired", False, False)
    ] * 2
    assert [b.record.status for b in bounces] == ["4.4.1", "4.2.2"]


def test_expiry_without_known_deferrals_is_ignored() -> None:
    line = EXPIRY.splitlines()[-2]
    assert PostfixLog().feed_text(line) is None
