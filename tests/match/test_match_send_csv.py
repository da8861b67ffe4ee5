"""The send-log CSV: good rows kept, bad rows named by line."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given
from hypothesis import strategies as st

from bounceback.match import SendRow, parse_sends_csv


def test_full_file_with_bom_crlf_and_extra_columns() -> None:
    text = (
        "\ufeffEmail,Campaign,Message-ID,Bounceback ID,Return-Path,Sent At,Notes\r\n"
        "a@example.org,nov,<m1@example.org>,bb.1.aaaa,bounce+x@b.example.org,"
        "2026-11-01T10:00:00Z,hello\r\n"
        "b@example.org,nov,,,,2026-11-01 10:00:00+01:00,\r\n"
    )
    rows, errors = parse_sends_csv(text)
    assert errors == []
    assert rows[0] == SendRow(
        email="a@example.org",
        campaign="nov",
        message_id="<m1@example.org>",
        bounceback_id="bb.1.aaaa",
        return_path="bounce+x@b.example.org",
        sent_at=dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC),
    )
    assert rows[1].sent_at == dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    assert rows[1].message_id == "" and rows[1].sent_at.tzinfo is not None


def test_only_email_column_and_naive_time_is_utc() -> None:
    rows, errors = parse_sends_csv("email,sent_at\nx@example.org,2026-01-02T03:04:05\n")
    assert errors == []
    assert rows == [
        SendRow("x@example.org", sent_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    ]


def test_bad_rows_named_by_line_good_rows_kept() -> None:
    text = (
        "email,sent_at,bounceback_id\n"  # line 1
        "good@example.org,,bb.1.a\n"  # 2
        "\n"  # 3: blank, skipped
        "not-an-address,,\n"  # 4
        "x@example.org,yesterday,\n"  # 5
        ",,\n"  # 6: empty row, skipped
        '"multi\nline@example.org",,\n'  # 7-8: a quoted newline
        "dup@example.org,,bb.1.a\n"  # 9
        "ok@example.org,2026-11-01,bb.2.b\n"  # 10
        "extra@example.org,,,surplus\n"  # 11
    )
    rows, errors = parse_sends_csv(text)
    assert [(r.email, r.line) for r in rows] == [("good@example.org", 2), ("ok@example.org", 10)]
    assert [e.split(":")[0] for e in errors] == ["line 4", "line 5", "line 7", "line 9", "line 11"]
    assert "yesterday" in errors[1] and "ISO 8601" in errors[1]
    assert "line 2" in errors[3]


def test_semicolon_separated_file() -> None:
    rows, errors = parse_sends_csv("E-Mail;Campaign\n<a@example.org>;nov\n")
    assert errors == [] and rows == [SendRow("a@example.org", campaign="nov")]


def test_header_required() -> None:
    rows, errors = parse_sends_csv("a@example.org,nov\n")
    assert rows == [] and errors == ["line 1: the header has no 'email' column"]
    assert parse_sends_csv("") == ([], ["the file has no header row"])
    rows, errors = parse_sends_csv("email,Email\na@example.org,b@example.org\n")
    assert rows == [] and "twice" in errors[0]


def test_bad_return_path() -> None:
    rows, errors = parse_sends_csv("email,return_path\na@example.org,nobody\n")
    assert rows == [] and errors == ["line 2: return_path 'nobody' is not an email address"]


ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
EMAILS = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet=ATEXT, min_size=1, max_size=20),
    LABEL,
    st.sampled_from(["org", "com", "example", "xn--p1ai"]),
)


@given(
    rows=st.lists(
        st.tuples(
            EMAILS,
            st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
            st.datetimes(timezones=st.just(dt.UTC)),
        ),
        max_size=20,
    ),
    crlf=st.booleans(),
)
def test_property_written_rows_read_back(
    rows: list[tuple[str, str, dt.datetime]], crlf: bool
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["email", "campaign", "sent_at"])
    for email, campaign, sent_at in rows:
        writer.writerow([email, campaign, sent_at.isoformat()])
    parsed, errors = parse_sends_csv(out.getvalue())
    assert errors == []
    assert [(r.email, r.campaign, r.sent_at) for r in parsed] == [
        (e, c.strip(), s) for e, c, s in rows
    ]
