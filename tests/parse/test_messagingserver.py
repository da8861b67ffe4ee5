"""Sun/Oracle Messaging Server and PMDF."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_original_address_replaces_the_routed_one() -> None:
    report = parse((FIXTURES / "lhost-messagingserver-02.eml").read_bytes())
    assert report.detector == "messagingserver"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.net"
    assert (rec.status, rec.reply_code) == ("5.2.0", "522")
    assert rec.diagnostic == "522 5.2.0 Delivery failed: Over quota"
    assert rec.remote_mta == "mx.example.net"


def test_report_without_mime_boundaries() -> None:
    # The boundary is declared but never used: the prose and the fields are text.
    report = parse((FIXTURES / "lhost-messagingserver-03.eml").read_bytes())
    assert [r.recipient for r in report.records] == ["sabineko@example.org", "mikeneko@example.org"]
    for rec in report.records:
        assert (rec.status, rec.reply_code) == ("5.7.1", "550")
        assert rec.remote_mta == "mailbox0.d5.example.org"
