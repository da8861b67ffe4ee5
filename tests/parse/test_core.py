"""The shared core: the decoded Mail view, text helpers, damage the parser survives.

The damaged variants are made from real corpus messages by re-encoding them
the way real mail systems damage bounces (base64 bodies, LF line ends, a
doubled CR, an mbox separator, lost headers, a wrong charset).
"""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

import pytest

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import parse
from bounceback.parse.base import merge_records, split_blocks
from bounceback.parse.mail import Mail, split_inline_original
from bounceback.parse.text import (
    clean_address,
    find_address,
    find_remote_mta,
    find_smtp_command,
    join_reply_lines,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def summary(report: Report) -> list[tuple[str, str, str, str, str]]:
    return [(r.recipient, r.action, r.status, r.reply_code, r.diagnostic) for r in report.records]


def with_body(data: bytes, headers: bytes, body: bytes) -> bytes:
    """The message with its single-part body replaced and header lines added."""
    head, _, _ = data.partition(b"\n\n")
    return head + b"\n" + headers + b"\n\n" + body


# -- the returned message as inline text -------------------------------------


def test_inline_original_after_marker_gives_headers_and_a_clean_report_text() -> None:
    mail = Mail.from_bytes(raw("lhost-exim-02.eml"))
    assert mail.original is not None
    assert mail.original["Message-Id"] == "<E1X58pB-0004bW-2s@marutamachi.example.org>"
    assert "The following address(es) failed" in mail.report_text
    assert "Return-path:" not in mail.report_text
    assert "Return-path:" in mail.text  # .text keeps everything


def test_a_mime_original_wins_over_inline_text() -> None:
    mail = Mail.from_bytes(raw("lhost-sendmail-02.eml"))
    assert mail.original is not None
    assert mail.original["Message-Id"] == "<C6625D0F-A302-4980-BEAB-2AF883EA0116@example.jp>"


@pytest.mark.parametrize(
    "marker",
    [
        "------ This is a copy of the message, including all the headers. ------",
        "--- Below this line is a copy of the message.",
        "--- Enclosed is a copy of the message.",
        "Message headers follow.",
        "    Below is a copy of the original message:",
        "   ----- Unsent message follows -----",
        "----- Original message -----",
    ],
)
def test_inline_markers(marker: str) -> None:
    before, after = split_inline_original(f"failed: x@example.org\n\n{marker}\n\nSubject: hi\n")
    assert before == "failed: x@example.org\n\n"
    assert after == "Subject: hi\n"


def test_prose_about_the_original_is_not_a_marker() -> None:
    text = "The original message was received at Thu, 29 Apr 2012\nfrom localhost\n"
    assert split_inline_original(text) == (text, "")


# -- DSN fields outside a delivery-status part --------------------------------


def test_dsn_fields_behind_a_broken_boundary_are_rescued() -> None:
    # The delivery-status part's boundary line starts with a space, so MIME
    # parsing sees one text part holding the DSN fields.
    report = parse(raw("rfc3464-35.eml"))
    assert [(r.recipient, r.action) for r in report.records] == [
        ("kijitora@nyaan.example.com", "failed"),
        ("sabatora@cat.example.net", "delayed"),
        ("mikeneko@neko.example.or.jp", "failed"),
    ]
    assert report.records[0].diagnostic == (
        "550 'kijitora@nyaan.example.com' is not a registered gateway user"
    )


def test_quoted_dsn_fields_in_a_forward_are_rescued() -> None:
    mail = Mail.from_bytes(raw("lhost-sendmail-14.eml"))
    names = [name.lower() for group in mail.status_groups for name, _ in group]
    assert "final-recipient" in names and "diagnostic-code" in names
    assert "return-path" not in names


def test_multipart_without_boundary_parameter_is_repaired() -> None:
    mail = Mail.from_bytes(raw("lhost-apachejames-01.eml"))
    assert "Error message below:" in mail.text
    assert "Content-Type:" not in mail.text  # parts were split, not dumped raw


# -- damage -------------------------------------------------------------------


def test_crlf_and_lf_give_the_same_result() -> None:
    crlf = raw("lhost-qmail-14.eml")
    assert b"\r\n" in crlf
    assert summary(parse(crlf.replace(b"\r\n", b"\n"))) == summary(parse(crlf))


def test_doubled_carriage_returns_do_not_split_a_reply() -> None:
    data = raw("lhost-dragonfly-01.eml")
    assert b"\r\r\n" in data
    [rec] = parse(data).records
    assert "DmarcRejection" in rec.diagnostic


def test_mbox_from_line_is_ignored() -> None:
    data = raw("lhost-exim-02.eml")
    mbox = b"From MAILER-DAEMON Thu Jul 10 16:31:40 2014\n" + data
    assert summary(parse(mbox)) == summary(parse(data))
    assert parse(mbox).original.message_id == parse(data).original.message_id


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_encoded_bodies(encoding: str) -> None:
    data = raw("lhost-qmail-02.eml")
    _, _, body = data.partition(b"\n\n")
    encoded = base64.encodebytes(body) if encoding == "base64" else quopri.encodestring(body)
    damaged = with_body(
        data,
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
        + b"Content-Transfer-Encoding: "
        + encoding.encode(),
        encoded,
    )
    assert summary(parse(damaged)) == summary(parse(data))
    assert parse(damaged).original.subject == "TEST #4"


def test_shift_jis_body_with_a_wrong_charset_label() -> None:
    data = raw("lhost-qmail-02.eml")
    _, _, body = data.partition(b"\n\n")
    japanese = "配信できませんでした。\n".encode("shift_jis")
    damaged = with_body(data, b"Content-Type: text/plain; charset=utf-8", japanese + body)
    report = parse(damaged)
    assert "配信できませんでした" in report.body
    assert summary(report) == summary(parse(data))


def test_unknown_charset_is_decoded_anyway() -> None:
    data = raw("lhost-qmail-02.eml")
    _, _, body = data.partition(b"\n\n")
    damaged = with_body(data, b"Content-Type: text/plain; charset=x-no-such-charset", body)
    assert summary(parse(damaged)) == summary(parse(data))


def test_iso_2022_jp_text_part() -> None:
    report = parse(raw("lhost-postfix-07.eml"))
    assert "The following sentences are Japanese." in report.body
    assert "このメール" in report.body


def test_missing_headers_still_parse() -> None:
    data = raw("lhost-exim-02.eml")
    head, _, body = data.partition(b"\n\n")
    kept = [
        line
        for line in head.split(b"\n")
        if not line.lower().startswith((b"from:", b"subject:", b"date:", b"to:", b"message-id:"))
    ]
    report = parse(b"\n".join(kept) + b"\n\n" + body)
    assert report.subject == ""
    assert [r.recipient for r in report.records] == ["kijitora@example.jp", "sabatora@example.jp"]


def test_header_lookup_is_case_insensitive_and_decoded() -> None:
    mail = Mail.from_bytes(raw("lhost-sendmail-02.eml"))
    assert mail.header("subject") == mail.header("SUBJECT") == mail.subject
    assert mail.header("X-No-Such-Header") == ""
    assert mail.headers("Received")


# -- text helpers ---------------------------------------------------------------


def test_join_reply_lines_drops_repeated_prefixes() -> None:
    text = (
        "Remote host said: 550-5.7.1 The user or domain that you are sending to\n"
        "550-5.7.1 does not accept mail\n"
        "550 5.7.1 from you. gsmtp"
    )
    assert join_reply_lines(text) == (
        "Remote host said: 550-5.7.1 The user or domain that you are sending to "
        "does not accept mail from you. gsmtp"
    )


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("host mx.example.org[192.0.2.1] said: 550 No", "mx.example.org"),
        ("host mx.example.org [192.0.2.1]: 550 No", "mx.example.org"),
        ("Remote host 192.0.2.32 said: 550 No", "192.0.2.32"),
        ("Connected to 192.0.2.225 but sender was rejected.", "192.0.2.225"),
        ("192.0.2.153 does not like recipient.", "192.0.2.153"),
        ("mx.example.org [192.0.2.1] did not like our RCPT TO:", "mx.example.org"),
        ("... while talking to mx.example.com.:", "mx.example.com"),
        ("User unknown", ""),
    ],
)
def test_find_remote_mta(text: str, host: str) -> None:
    assert find_remote_mta(text) == host


def test_addresses_keep_a_quoted_local_part() -> None:
    assert find_address('<"john..doe"@example.org>:') == '"john..doe"@example.org'
    assert clean_address('"jane@example.org"') == "jane@example.org"


def test_split_blocks_starts_at_each_match() -> None:
    import re

    blocks = split_blocks(
        "intro\n<a@x.org>:\nfirst\n<b@x.org>:\nsecond\n", re.compile(r"^<(.+)>:$")
    )
    assert [(m.group(1), lines) for m, lines in blocks] == [
        ("a@x.org", ["first"]),
        ("b@x.org", ["second"]),
    ]


def test_merge_records_completes_without_overriding() -> None:
    dsn = [DeliveryRecord(recipient="a@x.org", status="5.0.0", remote_mta="mx.x.org")]
    text = [
        DeliveryRecord(recipient="<A@x.org>", diagnostic="550 5.1.1 no", remote_mta="other"),
        DeliveryRecord(recipient="b@x.org", diagnostic="550 no"),
    ]
    merged = merge_records(dsn, text, add_new=False)
    assert [(r.recipient, r.diagnostic, r.remote_mta) for r in merged] == [
        ("a@x.org", "550 5.1.1 no", "mx.x.org")
    ]
    assert len(merge_records(dsn, text)) == 2


def test_returned_headers_with_an_unindented_continuation_are_repaired() -> None:
    # The returned message's Received line continues at column 0, which ends
    # its header block for the MIME parser; Subject and Message-ID follow it.
    report = parse(raw("lhost-postfix-57.eml"))
    assert report.original.message_id == "<44kWHZ2S3Qz1yxHC@rokujo.cr.nyaan.jp>"
    assert report.original.subject == "Nyaan"


def test_returned_headers_behind_a_wrong_boundary_are_found() -> None:
    # The text/rfc822-headers part's delimiter does not match the boundary, so
    # its headers end up as one more field block of the delivery-status part.
    report = parse(raw("rhost-google-01.eml"))
    assert report.original.message_id == "<201305110000000000000.r4B003v000000@mail4.example.co.jp>"
    assert report.original.subject == "Bounce from GoogleApps MTA"


def test_returned_headers_after_dsn_fields_in_a_message_without_mime() -> None:
    report = parse(raw("rfc3464-04.eml"))
    assert report.original.message_id == "<00000000000.000000@mx4.example.co.jp>"
    assert report.original.to == "kijitora@neko.example.edu"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("550 5.1.1 <a@example.org>: User unknown (in reply to RCPT TO command)", "RCPT"),
        ("SMTP error from remote mail server after end of data:", "DATA"),
        ("connect to mx.example.org[192.0.2.1]:25: Connection refused", "CONNECT"),
        ("after MAIL FROM:<a@example.org> SIZE=1024:", "MAIL"),
        # Prose is not a command: "data", "connect" and "mail from" in words.
        ("554 5.6.9 improper use of 8-bit data in message header", ""),
        ("DBI connect('dbname=example') failed: too many clients", ""),
        ("550 Mail from this sender is refused", ""),
    ],
)
def test_find_smtp_command(text: str, command: str) -> None:
    assert find_smtp_command(text) == command


def test_blank_lines_before_the_header_are_skipped() -> None:
    data = raw("lhost-exim-02.eml")
    assert summary(parse(b"\r\n\n" + data)) == summary(parse(data))


def test_dsn_recipient_fields() -> None:
    from bounceback.parse.text import address_field

    assert address_field("rfc822; <Kijitora@Example.JP>") == "Kijitora@Example.JP"
    assert address_field("RFC822;kijitora@example.jp (Kijitora)") == "kijitora@example.jp"
    assert address_field("utf-8; 用户@例子.广告") == "用户@例子.广告"


def test_global_delivery_status_with_a_utf8_recipient() -> None:
    # RFC 6533: the SMTPUTF8 form of a DSN, made from a real Courier DSN.
    data = (
        raw("lhost-courier-02.eml")
        .replace(
            b"Content-Type: message/delivery-status",
            b"Content-Type: message/global-delivery-status",
        )
        .replace(
            b"Final-Recipient: rfc822; kijitora@example.jp",
            "Final-Recipient: utf-8; 雉虎@example.jp".encode(),
        )
    )
    assert b"global-delivery-status" in data
    [rec] = parse(data).records
    assert rec.recipient == "雉虎@example.jp"
    assert rec.diagnostic == "550 Unknown user kijitora@example.jp"


def test_a_dsn_without_diagnostic_takes_the_reason_from_its_text() -> None:
    # The DSN says only "Status: 4.4.6"; the text explains it above the address.
    report = parse(raw("rfc3464-40.eml"))
    [rec] = report.records
    assert rec.recipient == "kijitora@nyaan.neko.example.com"
    assert "forwarded more than the maximum allowed times" in rec.diagnostic
