"""find_send on real DSN bytes whose addresses are rewritten to our return paths."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bounceback import parse
from bounceback.match import MatchResult, VerpSigner, find_send
from bounceback.match.matcher import NO_MATCH
from bounceback.model import Bounce, Kind, Report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"
DOMAIN = "bounces.example.org"
SIGNER = VerpSigner({"k1": b"0123456789abcdef-k1"}, "k1", DOMAIN)


@dataclass
class Send:
    id: int
    email: str
    bounceback_id: str = ""
    message_id: str = ""


@dataclass
class Log:
    """An in-memory send log with the SendLookup methods."""

    sends: list[Send] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def by_id(self, send_id: int) -> Send | None:
        self.calls.append(f"id:{send_id}")
        return next((s for s in self.sends if s.id == send_id), None)

    def by_bounceback_id(self, value: str) -> Send | None:
        self.calls.append(f"bb:{value}")
        return next((s for s in self.sends if s.bounceback_id and s.bounceback_id == value), None)

    def by_message_id(self, value: str) -> Send | None:
        self.calls.append(f"mid:{value}")
        return next((s for s in self.sends if s.message_id and s.message_id == value), None)

    def latest_for_address(self, address: str) -> Send | None:
        self.calls.append(f"addr:{address}")
        found = [s for s in self.sends if s.email.lower() == address.lower()]
        return max(found, key=lambda s: s.id) if found else None


def load(
    name: str, replace: dict[bytes, bytes] | None = None, kind: Kind = Kind.BOUNCE
) -> tuple[Report, Bounce]:
    data = (FIXTURES / name).read_bytes()
    for old, new in (replace or {}).items():
        assert old in data, old
        data = data.replace(old, new)
    report = parse(data)
    assert report.kind == kind and report.records, name
    # Built by hand, not by classify(): the matcher reads only the record and the
    # original message, whatever reason the classifier would give.
    bounce = Bounce(
        record=report.records[0],
        kind=report.kind,
        detector=report.detector,
        reason="",
        hardbounce=False,
        permanent=False,
        bounce_type="",
        rule="",
        original=report.original,
    )
    return report, bounce


def to_verp(address: str) -> dict[bytes, bytes]:
    """postfix-01 delivered to our VERP address instead of shironeko@."""
    return {b"shironeko@mx.example.jp": address.encode()}


def add_envid(envid: str) -> dict[bytes, bytes]:
    return {b"X-Postfix-Queue-ID: 00000000000\n": f"Original-Envelope-Id: {envid}\n".encode()}


def match(report: Report, bounce: Bounce, log: Log, **kw: object) -> MatchResult:
    return find_send(report, bounce, log, SIGNER, **kw)  # type: ignore[arg-type]


def test_verp_from_delivered_to_of_a_real_dsn() -> None:
    address = SIGNER.address(7)
    report, bounce = load("lhost-postfix-01.eml", to_verp(address))
    assert report.delivered_to[0] == address
    log = Log([Send(7, "kijitora@example.org"), Send(8, "r@p351355.pool.example.ne.jp")])
    result = match(report, bounce, log)
    assert (result.send_id, result.method, result.problem) == (7, "verp", "")
    assert result.token is not None and result.token.send_id == 7


def test_lowercased_by_the_mta_still_matches() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(SIGNER.address(7).lower()))
    assert match(report, bounce, Log([Send(7, "x@example.org")])).send_id == 7


def test_envelope_recipient_comes_before_headers() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(SIGNER.address(7)))
    log = Log([Send(7, "a@example.org"), Send(9, "b@example.org")])
    result = match(report, bounce, log, envelope_recipients=[f"<{SIGNER.address(9)}>"])
    assert (result.send_id, result.method) == (9, "verp")


def test_forged_token_is_quarantined_without_falling_through() -> None:
    forger = VerpSigner({"k1": b"attacker guessed key"}, "k1", DOMAIN)
    report, bounce = load("lhost-postfix-01.eml", to_verp(forger.address(7)))
    log = Log([Send(7, "kijitora@example.org")])
    result = match(report, bounce, log)
    assert result.send_id is None and result.problem
    assert result.method == "verp" and "signature" in result.problem
    # The weaker methods were not consulted.
    assert log.calls == []


def test_expired_token_is_quarantined() -> None:
    old = SIGNER.address(7, dt.datetime.now(dt.UTC) - dt.timedelta(days=90))
    report, bounce = load("lhost-postfix-01.eml", to_verp(old))
    result = match(report, bounce, Log([Send(7, "kijitora@example.org")]))
    assert result.send_id is None and "too old" in result.problem


def test_malformed_token_for_our_domain_is_quarantined() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(f"bounce+k1.zzzz@{DOMAIN}"))
    result = match(report, bounce, Log([Send(7, "kijitora@example.org")]))
    assert result.send_id is None and result.problem


def test_envid_disagreeing_with_token_is_quarantined() -> None:
    replace = to_verp(SIGNER.address(7)) | add_envid("bb.8.abcdefghijklmnop")
    report, bounce = load("lhost-postfix-01.eml", replace)
    assert report.original.envelope_id == "bb.8.abcdefghijklmnop"
    result = match(report, bounce, Log([Send(7, "a@example.org"), Send(8, "b@example.org")]))
    assert result.send_id is None and "ENVID" in result.problem


def test_envid_agreeing_with_token_matches() -> None:
    replace = to_verp(SIGNER.address(7)) | add_envid("bb.7.abcdefghijklmnop")
    report, bounce = load("lhost-postfix-01.eml", replace)
    assert match(report, bounce, Log([Send(7, "a@example.org")])).send_id == 7


def test_envid_alone_finds_the_send_by_bounceback_id() -> None:
    report, bounce = load("lhost-postfix-01.eml", add_envid("bb.7.abcdefghijklmnop"))
    log = Log([Send(7, "a@example.org", bounceback_id="bb.7.abcdefghijklmnop")])
    assert match(report, bounce, log) == MatchResult(7, "bounceback_id")


def test_authentic_token_for_unknown_send_falls_back() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(SIGNER.address(99)))
    log = Log([Send(3, "kijitora@example.org")])
    assert match(report, bounce, log) == MatchResult(3, "recipient")


def test_civicrm_style_address_only_where_the_site_opts_in_on_its_domain() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp("id.5@civi.example.org"))
    log = Log([Send(5, "a@example.org"), Send(6, "kijitora@example.org")])
    opted_in = match(report, bounce, log, unsigned_domain="civi.example.org")
    assert opted_in == MatchResult(5, "civicrm") and opted_in.proves_send
    # Off by default, and on another domain than the site's: the recipient decides
    # instead, which proves no send.
    for result in (
        match(report, bounce, log),
        match(report, bounce, log, unsigned_domain="bounces.example.org"),
    ):
        assert result == MatchResult(6, "recipient") and not result.proves_send


def test_only_ids_of_ours_prove_a_send() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(SIGNER.address(7)))
    assert match(report, bounce, Log([Send(7, "x@example.org")])).proves_send
    assert not NO_MATCH.proves_send


def test_without_signer_our_style_addresses_are_ignored() -> None:
    report, bounce = load("lhost-postfix-01.eml", to_verp(f"bounce+k1.zzzz@{DOMAIN}"))
    log = Log([Send(6, "kijitora@example.org")])
    assert find_send(report, bounce, log, None) == MatchResult(6, "recipient")


def test_bounceback_id_header_in_returned_headers() -> None:
    header = b"X-Bounceback-ID: bb.12.mfrggzdfmztwq2lk\nMessage-ID: 20140913142357"
    report, bounce = load("lhost-postfix-09.eml", {b"Message-ID: 20140913142357": header})
    assert bounce.original.bounceback_id == "bb.12.mfrggzdfmztwq2lk"
    log = Log(
        [
            Send(12, "kijitora@example.ne.jp", bounceback_id="bb.12.mfrggzdfmztwq2lk"),
            Send(13, "kijitora@example.ne.jp", message_id="20140913142357"),
        ]
    )
    assert match(report, bounce, log) == MatchResult(12, "bounceback_id")


def test_message_id_in_returned_headers_with_or_without_brackets() -> None:
    report, bounce = load("lhost-postfix-09.eml")
    assert bounce.original.message_id == "20140913142357"
    log = Log([Send(13, "kijitora@example.ne.jp", message_id="<20140913142357>")])
    assert match(report, bounce, log) == MatchResult(13, "message_id")


def test_recipient_alone_prefers_the_original_recipient() -> None:
    report, bounce = load("lhost-postfix-01.eml")
    assert bounce.record.original_recipient == "kijitora@example.org"
    log = Log([Send(1, "r@p351355.pool.example.ne.jp"), Send(2, "kijitora@example.org")])
    assert match(report, bounce, log) == MatchResult(2, "recipient")


def test_nothing_known_is_none() -> None:
    report, bounce = load("lhost-postfix-01.eml")
    result = match(report, bounce, Log())
    assert result == MatchResult(None, "none") and not result.problem


@pytest.mark.parametrize("name", ["lhost-postfix-01.eml", "lhost-postfix-09.eml"])
def test_full_order_on_real_bytes(name: str) -> None:
    """With every kind of evidence present, VERP wins; remove it and the next wins."""
    report, bounce = load(name)
    recipient = bounce.record.original_recipient or bounce.record.recipient
    log = Log(
        [
            Send(1, recipient),
            Send(2, "x@example.org", message_id=bounce.original.message_id or "<none>"),
            Send(3, "y@example.org", bounceback_id="bb.3.aaaaaaaaaaaaaaaa"),
            Send(4, "z@example.org"),
        ]
    )
    report.delivered_to.insert(0, SIGNER.address(4))
    bounce.original.bounceback_id = "bb.3.aaaaaaaaaaaaaaaa"
    assert match(report, bounce, log).method == "verp"
    report.delivered_to.pop(0)
    assert match(report, bounce, log) == MatchResult(3, "bounceback_id")
    bounce.original.bounceback_id = ""
    expected = (
        MatchResult(2, "message_id") if bounce.original.message_id else MatchResult(1, "recipient")
    )
    assert match(report, bounce, log) == expected
    bounce.original.message_id = ""
    assert match(report, bounce, log) == MatchResult(1, "recipient")


def test_complaint_with_redacted_recipient_matches_by_return_path_of_the_copy() -> None:
    """Feedback loops redact the recipient; the returned copy's Return-Path still names the send."""
    replace = {
        b"Return-Path: <support@example.ed.jp>": f"Return-Path: <{SIGNER.address(21)}>".encode()
    }
    report, bounce = load("arf-01.eml", replace, kind=Kind.COMPLAINT)
    assert bounce.recipient == "redacted@example.net"
    log = Log([Send(21, "member@example.net"), Send(22, "redacted@example.net")])
    result = match(report, bounce, log)
    assert (result.send_id, result.method, result.problem) == (21, "verp", "")


def test_rematching_a_stored_bounce_judges_age_at_its_arrival() -> None:
    sent = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    report, bounce = load("lhost-postfix-01.eml", to_verp(SIGNER.address(7, sent)))
    log = Log([Send(7, "kijitora@example.org")])
    assert match(report, bounce, log).problem
    arrived = sent + dt.timedelta(days=2)
    assert match(report, bounce, log, now=arrived).send_id == 7


def test_imported_foreign_envid_is_looked_up_and_does_not_block_a_token() -> None:
    report, bounce = load("lhost-postfix-01.eml", add_envid("5gENiF_01OCe5ak-neko22"))
    log = Log([Send(4, "a@example.org", bounceback_id="5gENiF_01OCe5ak-neko22")])
    assert match(report, bounce, log) == MatchResult(4, "bounceback_id")
    replace = add_envid("5gENiF_01OCe5ak-neko22") | to_verp(SIGNER.address(9))
    report, bounce = load("lhost-postfix-01.eml", replace)
    log.sends.append(Send(9, "b@example.org"))
    assert match(report, bounce, log).send_id == 9
