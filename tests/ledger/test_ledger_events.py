"""Log and webhook events (already Reports) through the ledger's sink, on both databases."""

from __future__ import annotations

from bounceback.ledger import Ledger
from bounceback.model import SourceEvent
from bounceback.sources.postfix_log import PostfixLog

LOG = """\
Nov 20 09:13:58 out1 postfix/cleanup[2214]: 4A1B21C0042: message-id=<77@news.example.org>
Nov 20 09:14:01 out1 postfix/smtp[2220]: 4A1B21C0042: to=<gone@example.net>, relay=mx1.example.net[192.0.2.25]:25, delay=3.1, dsn=5.1.1, status=bounced (host mx1.example.net[192.0.2.25] said: 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))
Nov 20 09:15:01 out1 postfix/smtp[2221]: 5B2C32D0053: to=<full@example.org>, relay=mx.example.org[192.0.2.30]:25, delay=4, dsn=5.2.2, status=bounced (host mx.example.org[192.0.2.30] said: 552 5.2.2 <full@example.org>: Mailbox full (in reply to RCPT TO command))
Nov 20 09:16:02 out1 postfix/smtp[2222]: 6C3D43E0064: to=<full@example.org>, relay=mx.example.org[192.0.2.30]:25, delay=4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F8E7D6C5B)
"""  # noqa: E501


def events() -> list[SourceEvent]:
    parser = PostfixLog(include_sent=True)
    found = [parser.feed_text(line, ref=f"mail.log:{n}") for n, line in enumerate(LOG.splitlines())]
    return [e for e in found if isinstance(e, SourceEvent)]


def test_log_events_apply_once_and_delivery_resets(ledger: Ledger) -> None:
    ledger.add_contact("gone@example.net")
    ledger.add_contact("full@example.org")
    batch = events()
    assert len(batch) == 3
    outcomes = ledger.store_events(batch)
    assert [o.outcome for o in outcomes] == ["matched", "matched", "matched"]
    gone = ledger.contact_view("gone@example.net")
    assert gone is not None and gone["bounced"] and gone["history"][0]["source"] == "postfix-log"
    full = ledger.contact_view("full@example.org")
    assert full is not None and full["bounce_counts"] == {"Quota": 1}
    assert full["consecutive_bounces"] == 0  # the later delivery reset it
    ledger.sink(events())  # a re-read log: all duplicates, nothing changes
    assert [o.outcome for o in ledger.store_events(events())] == ["duplicate"] * 3
    again = ledger.contact_view("full@example.org")
    assert again is not None and len(again["history"]) == len(full["history"])
