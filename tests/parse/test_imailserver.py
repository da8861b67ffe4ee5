"""IMail Server: "<reason>: <address>" lines and quoted remote replies."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_reason_line() -> None:
    report = parse((FIXTURES / "lhost-imailserver-02.eml").read_bytes())
    assert report.detector == "imailserver"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.co.jp"
    assert rec.diagnostic == "User mailbox exceeds allowed size"
    assert report.original.subject == "Nyaaaan"


def test_remote_reply_and_no_header_lines_as_recipients() -> None:
    # The notice quotes "To: <sender>": that is not a failed recipient.
    report = parse((FIXTURES / "lhost-imailserver-06.eml").read_bytes())
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.reply_code == "550"
    assert rec.diagnostic.startswith("550-REJECTED - Blacklisted URL in message.")
