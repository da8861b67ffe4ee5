"""Exchange 2007+ on premises: DSN records plus the administrators' section."""

from __future__ import annotations

from pathlib import Path

from mime_edit import without_status_part

from bounceback.parse import parse
from bounceback.parse.lhost import exchange2007
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_exchange_2007_ndr() -> None:
    report = parse((FIXTURES / "lhost-exchange2007-01.eml").read_bytes())
    assert report.detector == "exchange2007"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("mikeneko@example.co.jp", "5.1.1", "550")
    assert rec.diagnostic == "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"


def test_remote_server_named_in_the_admin_section() -> None:
    [rec] = parse((FIXTURES / "lhost-exchange2007-05.eml").read_bytes()).records
    assert rec.recipient == "gwang1@student.mlcsyd.nsw.edu.au"
    # The DSN has no Remote-MTA; "Remote Server at X (ip) returned '...'" names it.
    assert rec.remote_mta == "student.mlcsyd.nsw.edu.au"
    assert rec.status == "4.4.7"


def test_text_only_ndr_reads_the_admin_section() -> None:
    data = without_status_part((FIXTURES / "lhost-exchange2007-01.eml").read_bytes())
    report = parse(data)
    assert report.detector == "exchange2007"
    [rec] = report.records
    assert rec.recipient == "mikeneko@example.co.jp"
    assert rec.action == "failed"
    assert rec.diagnostic == "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
    assert rec.status == "5.1.1"


def test_text_only_ndr_takes_the_last_attempts_reply() -> None:
    data = without_status_part((FIXTURES / "lhost-exchange2007-05.eml").read_bytes())
    [rec] = parse(data).records
    assert rec.recipient == "gwang1@student.mlcsyd.nsw.edu.au"
    # Attempts are listed newest first: the 550 ended it, not the earlier 441.
    assert rec.diagnostic == "550 4.4.7 QUEUE.Expired; message expired"
    assert (rec.reply_code, rec.status) == ("550", "4.4.7")
    assert rec.remote_mta == "student.mlcsyd.nsw.edu.au"


def test_exchange_online_stays_office365() -> None:
    data = (FIXTURES / "lhost-office365-01.eml").read_bytes()
    assert parse(data).detector == "office365"


def test_other_formats_are_not_claimed() -> None:
    for name in ("lhost-postfix-02.eml", "lhost-exchange2003-01.eml", "rfc3464-04.eml"):
        data = (FIXTURES / name).read_bytes()
        assert exchange2007.detect(Mail.from_bytes(data)) is None, name
