"""process: real DSN bytes through the engine into the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from ledger_support import fixture_bytes, make_config
from sqlalchemy import func, select

from bounceback.ledger import Ledger, Outcome, Summary
from bounceback.ledger import tables as t
from bounceback.match.verp import VerpSigner
from bounceback.model import RawMessage
from support.samples import dsn

KEYS = {"k1": b"the first secret key", "k2": b"the second secret key"}


def run(ledger: Ledger, *messages: bytes, at: dt.datetime | None = None) -> Summary:
    summary = Summary()
    raws = [
        (f"m{n}", RawMessage(data=m, source="test", received_at=at)) for n, m in enumerate(messages)
    ]
    for outcome in ledger.process(raws):
        summary.add(outcome)
    return summary


def counts(ledger: Ledger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("messages", t.messages),
                ("events", t.events),
                ("suppressions", t.suppressions),
            )
        }


def test_hard_bounce_applies_the_whole_policy(ledger: Ledger) -> None:
    ledger.add_contact("Kijitora@Example.org", "Kijitora")
    summary = run(ledger, dsn("kijitora@example.org", "5.1.1"))
    assert summary.matched == 1 and summary.bounces == 1
    view = ledger.contact_view("kijitora@example.org")
    assert view is not None
    assert view["email"] is None  # moved away from the record
    assert view["bounced_address"] == "kijitora@example.org"
    assert view["bounced"] and view["on_hold"] and view["hold_type"] == "Invalid"
    assert view["bulk_mail"] == "do_not_allow"
    assert view["suppressed"] and ledger.is_suppressed("kijitora@example.org")
    assert view["bounce_counts"] == {"Invalid": 1}
    event = view["history"][0]
    assert event["reason"] == "userunknown" and event["hardbounce"]
    assert event["email"] == "kijitora@example.org"  # the address at the time
    assert event["effects"]["removed"] and event["effects"]["suppressed"] == "bounce"


def test_address_kept_when_policy_says_so(db_url: str) -> None:
    ledger = Ledger.open(make_config(db_url, remove_address_on_hard_bounce=False))
    try:
        ledger.add_contact("neko@example.org")
        run(ledger, dsn("neko@example.org", "5.1.1"))
        view = ledger.contact_view("neko@example.org")
        assert view is not None and view["email"] == "neko@example.org" and view["bounced"]
    finally:
        ledger.close()


def test_same_message_twice_changes_nothing(ledger: Ledger) -> None:
    ledger.add_contact("kijitora@example.org")
    message = dsn("kijitora@example.org", "5.2.2", "552 5.2.2 Mailbox full")
    first = run(ledger, message, message)  # also within one batch
    assert (first.matched, first.duplicates) == (1, 1)
    before = counts(ledger), ledger.contact_view("kijitora@example.org")
    second = run(ledger, message)
    assert second.duplicates == 1 and second.matched == 0
    assert (counts(ledger), ledger.contact_view("kijitora@example.org")) == before


def test_soft_bounces_hold_at_the_type_threshold(ledger: Ledger) -> None:
    ledger.add_contact("full@example.org")
    for serial in (1, 2):
        run(ledger, dsn("full@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=serial))
    view = ledger.contact_view("full@example.org")
    assert view is not None
    assert view["bounce_counts"] == {"Quota": 2} and not view["on_hold"]
    assert view["email"] == "full@example.org" and not view["bounced"]
    run(ledger, dsn("full@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=3))
    view = ledger.contact_view("full@example.org")
    assert view is not None and view["on_hold"] and view["hold_type"] == "Quota"
    assert [h["email"] for h in ledger.holds("Quota")] == ["full@example.org"]
    assert ledger.holds("Invalid") == []
    assert not ledger.is_suppressed("full@example.org")  # soft: no suppression


def test_sender_fault_never_counts_but_warns(ledger: Ledger) -> None:
    blocked = (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
    )
    messages = []
    for n in range(12):
        ledger.add_contact(f"user{n}@bigmail.example")
        messages.append(dsn(f"user{n}@bigmail.example", "5.7.1", blocked, serial=n))
    run(ledger, *messages)
    view = ledger.contact_view("user0@bigmail.example")
    assert view is not None
    assert view["history"][0]["bounce_type"] == "Sender"
    assert view["bounce_counts"] == {} and view["consecutive_bounces"] == 0
    assert not view["on_hold"] and view["bulk_mail"] == "allowed"
    health = ledger.health()
    assert [w["domain"] for w in health["warnings"]] == ["bigmail.example"]
    assert health["warnings"][0]["count"] == 12


def test_disable_after_consecutive_and_delivery_resets(db_url: str) -> None:
    ledger = Ledger.open(make_config(db_url, disable_after=2))
    try:
        ledger.add_contact("a@example.org")
        run(ledger, dsn("a@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=1))
        view = ledger.contact_view("a@example.org")
        assert view is not None and view["consecutive_bounces"] == 1
        delivered = dsn("a@example.org", "2.0.0", "250 2.0.0 OK", serial=2).replace(
            b"Action: delayed", b"Action: delivered"
        )
        run(ledger, delivered)
        view = ledger.contact_view("a@example.org")
        assert view is not None and view["consecutive_bounces"] == 0
        run(ledger, dsn("a@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=3))
        run(ledger, dsn("a@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=4))
        view = ledger.contact_view("a@example.org")
        assert view is not None and view["disabled"] and view["consecutive_bounces"] == 2
    finally:
        ledger.close()


def test_complaint_suppresses_at_once(ledger: Ledger) -> None:
    data = fixture_bytes("arf-02.eml")
    recipient = "this-local-part-does-not-exist-on-yahoo@yahoo.com"
    ledger.add_contact(recipient)
    assert run(ledger, data).matched == 1
    view = ledger.contact_view(recipient)
    assert view is not None and view["suppressed"] and view["bulk_mail"] == "do_not_allow"
    assert view["history"][0]["kind"] == "complaint"
    assert ledger.suppressions()[0]["source"] == "complaint"


def test_authentication_failure_report_does_not_suppress(ledger: Ledger) -> None:
    # A DMARC failure report names the recipient, but the fault is the sender's.
    ledger.add_contact("kijitora@example.org")
    assert run(ledger, fixture_bytes("arf-19.eml")).matched == 1
    view = ledger.contact_view("kijitora@example.org")
    assert view is not None and not view["suppressed"] and view["bulk_mail"] == "allowed"
    assert view["history"][0]["bounce_type"] == "Sender"


def test_autoreply_is_away_and_never_hard(ledger: Ledger) -> None:
    ledger.add_contact("kijitora@example.net")
    run(ledger, fixture_bytes("rfc3834-01.eml"))
    view = ledger.contact_view("kijitora@example.net")
    assert view is not None
    assert view["history"][0]["bounce_type"] == "Away" and not view["history"][0]["hardbounce"]
    assert view["bounce_counts"] == {"Away": 1} and not view["on_hold"] and not view["bounced"]


def test_unknown_contact_is_kept_unmatched(ledger: Ledger) -> None:
    summary = run(ledger, dsn("nobody@example.org", "5.1.1"))
    assert summary.unmatched == 1
    assert ledger.contact_view("nobody@example.org") is None
    assert len(ledger.messages("unmatched")) == 1
    assert counts(ledger)["events"] == 1  # kept for the list and for later


def test_unparseable_and_too_large_are_quarantined(db_url: str) -> None:
    ledger = Ledger.open(make_config(db_url, max_message_bytes=20_000))
    try:
        big = dsn("x@example.org", "5.1.1") + b"x" * 30_000
        summary = run(ledger, b"\x00\xff garbage", big, b"Subject: hello\r\n\r\nhi\r\n")
        assert (summary.quarantined, summary.ignored) == (2, 1)
        listed = ledger.messages("quarantined")
        assert any("too large" in q["error"] for q in listed)
        with ledger.engine.connect() as conn:
            kept = conn.execute(
                select(t.messages.c.raw).where(t.messages.c.outcome == "quarantined")
            )
            assert all(row.raw for row in kept)  # kept, compressed
        assert run(ledger, big).duplicates == 1
    finally:
        ledger.close()


def verp_ledger(db_url: str) -> Ledger:
    config = make_config(db_url)
    config.verp.domain = "bounces.sender.example"
    config.verp.active_key = "k2"
    config.verp.keys = dict(KEYS)
    return Ledger.open(config)


def test_verp_token_matches_the_send_and_campaign(db_url: str) -> None:
    ledger = verp_ledger(db_url)
    try:
        ledger.add_contact("neko@example.org")
        ledger.add_campaign("spring")
        send_id = ledger.record_send("neko@example.org", "spring")
        assert ledger.signer is not None
        return_path = ledger.signer.address(send_id)
        data = dsn("other-alias@example.org", "5.1.1", return_path=return_path)
        assert run(ledger, data).matched == 1
        view = ledger.contact_view("neko@example.org")
        assert view is not None and view["history"][0]["match_method"] == "verp"
        assert ledger.campaign_stats("spring")["hard_bounces"] == 1
    finally:
        ledger.close()


def test_forged_verp_token_is_quarantined_never_applied(db_url: str) -> None:
    ledger = verp_ledger(db_url)
    try:
        ledger.add_contact("neko@example.org")
        send_id = ledger.record_send("neko@example.org")
        forger = VerpSigner({"k2": b"a guessed secret key"}, "k2", "bounces.sender.example")
        data = dsn("neko@example.org", "5.1.1", return_path=forger.address(send_id))
        summary = run(ledger, data)
        assert summary.quarantined == 1 and summary.matched == 0
        view = ledger.contact_view("neko@example.org")
        assert view is not None and not view["bounced"] and view["history"] == []
        assert "matching" in ledger.messages("quarantined")[0]["error"]
    finally:
        ledger.close()


def test_bounceback_id_and_message_id_match(ledger: Ledger) -> None:
    ledger.add_contact("a@example.org")
    ledger.add_contact("b@example.org")
    first = ledger.record_send("a@example.org", "c1", bounceback_id="bb.1.abcdefghijklmnop")
    second = ledger.record_send("b@example.org", "c1", message_id="<m2@sender.example>")
    assert (first, second) == (1, 2)
    run(
        ledger,
        dsn("a@example.org", "5.1.1", bounceback_id="bb.1.abcdefghijklmnop", serial=1),
        dsn("b@example.org", "5.1.1", message_id="<m2@sender.example>", serial=2),
    )
    methods = {
        e: v["history"][0]["match_method"]
        for e in ("a@example.org", "b@example.org")
        if (v := ledger.contact_view(e))
    }
    assert methods == {"a@example.org": "bounceback_id", "b@example.org": "message_id"}
    assert ledger.campaign_stats("c1")["hard_bounces"] == 2


def test_closed_campaign_counts_stay(ledger: Ledger) -> None:
    ledger.add_contact("a@example.org")
    ledger.add_campaign("old", status="closed")
    ledger.record_send("a@example.org", "old", message_id="<old@sender.example>")
    run(ledger, dsn("a@example.org", "5.1.1", message_id="<old@sender.example>"))
    stats = ledger.campaign_stats("old")
    assert stats["closed"] and (stats["hard_bounces"], stats["soft_bounces"]) == (0, 0)
    assert stats["by_reason"] == {"userunknown": 1}  # history still links it


def test_acknowledge_only_after_commit(ledger: Ledger) -> None:
    ledger.add_contact("a@example.org")
    acked: list[Outcome] = []

    def ack(outcome: Outcome) -> None:
        # Committed: another connection already sees the message.
        with ledger.engine.connect() as conn:
            col = t.messages.c.idempotency_key
            assert conn.execute(select(col).where(col == outcome.key)).first() is not None
        acked.append(outcome)

    raws = [("x", RawMessage(data=dsn("a@example.org", "5.1.1"), source="test"))]
    list(ledger.process(raws, on_committed=ack))
    assert [o.outcome for o in acked] == ["matched"]


def test_two_processes_at_once_apply_each_message_once(db_url: str) -> None:
    setup = Ledger.open(make_config(db_url))
    messages = []
    for n in range(40):
        setup.add_contact(f"u{n}@example.org")
        messages.append(dsn(f"u{n}@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=n))
    setup.close()
    results: list[Summary] = []
    errors: list[BaseException] = []

    def worker(order: list[bytes]) -> None:
        try:
            ledger = Ledger.open(make_config(db_url))
            summary = Summary()
            raws = [("m", RawMessage(data=m, source="w")) for m in order]
            for outcome in ledger.process(raws, batch_size=8):
                summary.add(outcome)
            ledger.close()
            results.append(summary)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(messages,)),
        threading.Thread(target=worker, args=(messages[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(s.matched for s in results) == 40
    assert sum(s.duplicates for s in results) == 40
    check = Ledger.open(make_config(db_url))
    try:
        assert counts(check)["events"] == 40
        view: dict[str, Any] | None = check.contact_view("u7@example.org")
        assert view is not None and view["bounce_counts"] == {"Quota": 1}
    finally:
        check.close()


def test_parallel_parsing_gives_the_same_result(ledger: Ledger) -> None:
    messages = []
    for n in range(30):
        ledger.add_contact(f"p{n}@example.org")
        status, text = ("5.1.1", "") if n % 2 else ("5.2.2", "552 5.2.2 Mailbox full")
        messages.append(dsn(f"p{n}@example.org", status, text, serial=n))
    messages.append(b"\x00 not mail")
    raws = [(f"m{n}", RawMessage(data=m, source="t")) for n, m in enumerate(messages)]
    outcomes = list(ledger.process(raws, batch_size=7, jobs=2))
    assert [o.label for o in outcomes] == [label for label, _ in raws]  # input order kept
    assert [o.outcome for o in outcomes].count("matched") == 30
    assert outcomes[-1].outcome == "quarantined"
    assert len(ledger.holds("Invalid")) == 15


def test_one_failing_message_does_not_sink_its_batch(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bounceback.ledger.process as process_module

    real_apply = process_module.apply

    def apply(facts: Any, address: Any, contact: Any, policy: Any) -> Any:
        if address.email == "bad@example.org":
            raise RuntimeError("a bug for this one address")
        return real_apply(facts, address, contact, policy)

    monkeypatch.setattr(process_module, "apply", apply)
    for name in ("a", "bad", "c"):
        ledger.add_contact(f"{name}@example.org")
    raws = [
        (name, RawMessage(data=dsn(f"{name}@example.org", "5.1.1", serial=n), source="t"))
        for n, name in enumerate(("a", "bad", "c"))
    ]
    acked: list[str] = []
    outcomes = list(ledger.process(raws, on_committed=lambda o: acked.append(o.label)))
    assert [o.outcome for o in outcomes] == ["matched", "error", "matched"]
    assert "a bug for this one address" in outcomes[1].error
    assert acked == ["a", "c"]  # the failed one is not acknowledged: it will come again
    assert counts(ledger)["messages"] == 2
    monkeypatch.setattr(process_module, "apply", real_apply)
    assert [o.outcome for o in ledger.process(raws)] == ["duplicate", "matched", "duplicate"]


def test_nul_bytes_and_long_texts_fit_both_databases(ledger: Ledger) -> None:
    ledger.add_contact("n@example.org")
    diagnostic = "550 5.1.1 user unknown \x00 " + "x" * 400
    data = dsn("n@example.org", "5.1.1", diagnostic).replace(b"mx.recipient.example", b"m" * 300)
    assert run(ledger, data).matched == 1
    view = ledger.contact_view("n@example.org")
    assert view is not None and "\x00" not in view["history"][0]["diagnostic"]


def test_an_engine_crash_quarantines_the_message(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bounceback.ledger.process as process_module

    def broken_classify(report: Any, rules: Any) -> Any:
        raise ValueError("a classifier bug")

    real_classify = process_module.classify
    monkeypatch.setattr(process_module, "classify", broken_classify)
    ledger.add_contact("a@example.org")
    summary = run(ledger, dsn("a@example.org", "5.1.1"), b"\x00 not mail")
    assert summary.quarantined == 2
    assert any("a classifier bug" in q["error"] for q in ledger.messages("quarantined"))
    # The engine is fixed: the kept bytes go through again, once.
    monkeypatch.setattr(process_module, "classify", real_classify)
    retried = [o.outcome for o in ledger.retry_quarantined()]
    assert sorted(retried) == ["matched", "quarantined"]
    assert len(ledger.messages("quarantined")) == 1  # the garbage stays
    view = ledger.contact_view("a@example.org")
    assert view is not None and view["bounced"] and len(view["history"]) == 1
    assert run(ledger, dsn("a@example.org", "5.1.1")).duplicates == 1
