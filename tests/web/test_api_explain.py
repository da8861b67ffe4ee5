"""/api/v1/bounces/{id}/raw and /explanation for processed corpus bounces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.model import SourceEvent
from bounceback.parse import parse

Email = Callable[[str], bytes]
BLOCKED = "lhost-exim-54.eml"  # Exim: Microsoft's "on our block list", after MAIL FROM
TWO = "lhost-postfix-02.eml"  # two recipients: filtered, then userunknown


def event_ids(ledger: Ledger) -> list[int]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(t.events.c.id).order_by(t.events.c.id)).scalars())


def test_raw_gives_back_the_kept_bytes(
    client: TestClient, web_ledger: Ledger, read_headers: dict[str, str], email: Email
) -> None:
    data = email(BLOCKED)
    web_ledger.process_bytes(data)
    [event_id] = event_ids(web_ledger)
    response = client.get(f"/api/v1/bounces/{event_id}/raw", headers=read_headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "message/rfc822"
    assert response.content == data
    missing = client.get(f"/api/v1/bounces/{event_id + 1}/raw", headers=read_headers)
    assert (missing.status_code, missing.json()["error"]) == (
        404,
        f"no bounce with id {event_id + 1}",
    )
    assert client.get(f"/api/v1/bounces/{event_id}/raw").status_code == 401


def test_the_explanation_says_what_was_found_and_which_rule_decided(
    sqlite_client: TestClient,
    sqlite_ledger: Ledger,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    client, read = sqlite_client, sqlite_read_headers
    sqlite_ledger.process_bytes(email(BLOCKED))
    [event_id] = event_ids(sqlite_ledger)
    body = client.get(f"/api/v1/bounces/{event_id}/explanation", headers=read).json()
    assert body["email"] == "kijitora@example.org"
    assert body["stored"]["rule"] == "phrase:blocked"
    assert body["stored"]["reason_meaning"] == "the sending IP or host is blocked"
    assert body["message"]["raw_kept"] is True
    report = body["report"]
    assert (report["kind"], report["detector"]) == ("bounce", "exim")
    assert report["original"]["message_id"] == "<nnnnekochan-nyaaan-22@neko22.example.net>"
    assert {"part": "returned message", "found": "10 header fields"} in report["structure"]
    [recipient] = body["recipients"]
    assert recipient["this_event"] is True
    assert recipient["found"]["smtp_command"] == "MAIL"
    assert recipient["found"]["remote_mta"] == "mx4.example.org"
    assert recipient["evidence"] == "on our block list"
    assert recipient["rule_words"] == "the diagnostic contains a built-in blocked phrase"
    assert (recipient["hardbounce"], recipient["bounce_type"], recipient["builtin"]) == (
        False,
        "Sender",
        None,
    )
    assert body["changed_since"] is False

    # A rule added later: the explanation reads the message with today's rules.
    client.post(
        "/api/v1/rules",
        json={"text": "on our block list", "type": "hard", "bounce_type": "Invalid"},
        headers=sqlite_admin_headers,
    )
    later = client.get(f"/api/v1/bounces/{event_id}/explanation", headers=read).json()
    assert later["stored"]["rule"] == "phrase:blocked"  # what was decided then
    [now] = later["recipients"]
    assert (now["rule"], now["hardbounce"], now["bounce_type"]) == ("user:db-1", True, "Invalid")
    assert now["rule_words"] == "your rule 'db-1' matched"
    assert now["builtin"] == {"reason": "blocked", "rule": "phrase:blocked"}
    assert later["changed_since"] is True


def test_each_event_of_a_message_is_marked_in_its_explanation(
    sqlite_client: TestClient,
    sqlite_ledger: Ledger,
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    data = email(TWO)
    assert len(parse(data).records) == 2
    sqlite_ledger.process_bytes(data)
    ids = event_ids(sqlite_ledger)
    assert len(ids) == 2
    for n, event_id in enumerate(ids):
        body = sqlite_client.get(
            f"/api/v1/bounces/{event_id}/explanation", headers=sqlite_read_headers
        ).json()
        marks = [r["this_event"] for r in body["recipients"]]
        assert marks == [i == n for i in range(2)]
        assert body["recipients"][n]["found"]["recipient"] == body["email"]


def test_an_event_from_a_log_has_no_raw_message_but_still_an_explanation(
    sqlite_client: TestClient,
    sqlite_ledger: Ledger,
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    report = parse(email(BLOCKED))
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    sqlite_ledger.store_events([SourceEvent(report, "log-1", "postfix-log", "maillog:7", at)])
    [event_id] = event_ids(sqlite_ledger)
    raw = sqlite_client.get(f"/api/v1/bounces/{event_id}/raw", headers=sqlite_read_headers)
    assert (raw.status_code, raw.json()["error"]) == (
        404,
        f"no raw message was kept for bounce {event_id}",
    )
    body = sqlite_client.get(
        f"/api/v1/bounces/{event_id}/explanation", headers=sqlite_read_headers
    ).json()
    assert body["source"] == "postfix-log"
    assert body["stored"]["rule"] == "phrase:blocked"
    assert body["message"]["raw_kept"] is False
    assert (body["report"], body["recipients"], body["changed_since"]) == (None, [], None)
    missing = sqlite_client.get("/api/v1/bounces/999/explanation", headers=sqlite_read_headers)
    assert missing.status_code == 404
