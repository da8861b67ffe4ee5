"""Finding the send a bounce belongs to, strongest evidence first.

1. a VERP token in the address the bounce was mailed to (signed; then, only where
   the config opts in, the unsigned CiviCRM ``id.<n>`` style on our own domain);
2. an id from the returned message: X-Bounceback-ID, our ENVID, a known Message-ID;
3. the recipient address alone (the latest send to it).

A token on one of our return paths that does not verify (forged, expired,
malformed, or an ENVID naming another send) stops the search: the bounce is
quarantined rather than pinned on someone by weaker evidence, since forging a
bounce is exactly how an attacker would silence a member. Steps 1 and 2 *prove* a
send (:attr:`MatchResult.proves_send`); step 3 anyone can forge, so where signed
VERP is configured the ledger keeps such a bounce as unverified and never lets it
act on a contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bounceback.match.verp import (
    VerpError,
    VerpSigner,
    VerpToken,
    envid_agrees,
    trusted_unsigned_send_id,
)
from bounceback.model import Bounce, Report
from bounceback.parse.text import find_address

Method = Literal["verp", "civicrm", "bounceback_id", "message_id", "recipient", "none"]
# Evidence a forger cannot make up: a signed token, an unsigned id the site chose to
# trust, or an id of ours that only the mail we sent carried.
PROVING_METHODS: frozenset[str] = frozenset({"verp", "civicrm", "bounceback_id", "message_id"})


class SendRef(Protocol):
    """Whatever the send log returns: only its id is used."""

    @property
    def id(self) -> int: ...


class SendLookup(Protocol):
    """The send log, as the matcher reads it."""

    def by_id(self, send_id: int) -> SendRef | None: ...
    def by_bounceback_id(self, value: str) -> SendRef | None: ...
    def by_message_id(self, value: str) -> SendRef | None: ...
    def latest_for_address(self, address: str) -> SendRef | None: ...


@dataclass(frozen=True, slots=True)
class MatchResult:
    send_id: int | None
    method: Method
    # Non-empty: the evidence is untrustworthy; quarantine, apply nothing.
    problem: str = ""
    token: VerpToken | None = None

    @property
    def proves_send(self) -> bool:
        """True when the evidence ties the bounce to a send of ours, not just an address."""
        return self.send_id is not None and self.method in PROVING_METHODS


NO_MATCH = MatchResult(None, "none")


def find_send(
    report: Report,
    bounce: Bounce,
    lookup: SendLookup,
    signer: VerpSigner | None,
    envelope_recipients: Sequence[str] = (),
    *,
    unsigned_domain: str = "",
    now: dt.datetime | None = None,
) -> MatchResult:
    """The send ``bounce`` belongs to, and how it was found.

    ``envelope_recipients`` are the SMTP RCPT addresses when the bounce came in by
    SMTP; they are trusted before the headers. ``unsigned_domain`` opts in to the
    CiviCRM ``id.<n>`` style, which anyone can forge, on that one (lower-case) domain
    only; empty refuses it everywhere. ``now`` is the time the
    token's age is judged at: pass when the bounce was received when re-matching
    stored messages, or old tokens read as expired.
    """
    found = [*envelope_recipients, *report.delivered_to, report.original.return_path]
    addresses = _unique(find_address(a) or a for a in found)
    envid = report.original.envelope_id
    if signer is not None:
        for address in addresses:
            if not signer.owns(address):
                continue
            if trusted_unsigned_send_id(address, unsigned_domain) is not None:
                continue  # the site's opted-in unsigned form, taken below
            try:
                token = signer.verify(address, now)
            except VerpError as exc:
                return MatchResult(None, "verp", str(exc))
            if not envid_agrees(token, envid):
                problem = f"ENVID {envid!r} names another send than the token ({token.send_id})"
                return MatchResult(None, "verp", problem, token)
            send = lookup.by_id(token.send_id)
            if send is not None:
                return MatchResult(send.id, "verp", "", token)
            # An authentic token for a send the log no longer has: weaker evidence
            # may still find it, so go on.
            break
    for address in addresses:
        send_id = trusted_unsigned_send_id(address, unsigned_domain)
        if send_id is not None and (send := lookup.by_id(send_id)) is not None:
            return MatchResult(send.id, "civicrm")
    # The ENVID is looked up whatever its format: a send log imported from another
    # system may hold that system's ENVIDs as bounceback ids.
    for value in _unique([bounce.original.bounceback_id, envid]):
        if (send := lookup.by_bounceback_id(value)) is not None:
            return MatchResult(send.id, "bounceback_id")
    for value in _message_id_forms(bounce.original.message_id):
        if (send := lookup.by_message_id(value)) is not None:
            return MatchResult(send.id, "message_id")
    record = bounce.record
    for address in _unique([record.original_recipient, record.recipient]):
        if "@" in address and (send := lookup.latest_for_address(address)) is not None:
            return MatchResult(send.id, "recipient")
    return NO_MATCH


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return out


def _message_id_forms(value: str) -> list[str]:
    """The Message-ID as found, then with or without angle brackets."""
    value = value.strip()
    if not value:
        return []
    bare = value.strip("<>").strip()
    return _unique([value, f"<{bare}>", bare])
