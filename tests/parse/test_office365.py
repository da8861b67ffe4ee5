"""Exchange Online NDRs: the administrators' section, with or without DSN fields."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_text_only_ndr() -> None:
    report = load("lhost-office365-01.eml")
    assert report.detector == "office365"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert (rec.status, rec.reply_code) == ("5.1.10", "550")
    assert rec.diagnostic.startswith("550 5.1.10 RESOLVER.ADR.RecipientNotFound")
    assert rec.reporting_mta == "FFFFFFFFFFFF.e0.prod.outlook.com"
    assert report.original.message_id == "<FFFFFFFF.EEEEEEEE@example.ed.jp>"


def test_dsn_fields_with_remote_host_from_the_admin_section() -> None:
    report = load("lhost-office365-05.eml")
    assert report.detector == "office365"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert (rec.status, rec.reply_code) == ("5.1.8", "501")
    assert rec.remote_mta == "nijo.example.jp"


def test_on_premises_exchange_is_left_alone() -> None:
    # A Postfix bounce is not claimed just because Microsoft headers passed by.
    assert load("lhost-gmail-01.eml").detector != "office365"


def test_damaged_attachment_falls_back_to_listed_headers() -> None:
    # The attached copy lost its header folding; the listed copy still names the id.
    report = load("lhost-office365-09.eml")
    assert report.original.message_id == (
        "<SLXP216MB0381A2BCD997D05F53CDB50BA9220@SLXP216MB0381.KORP216.PROD.OUTLOOK.COM>"
    )
    assert report.original.subject == "Nyaan"
