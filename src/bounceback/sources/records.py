"""Building Reports from structured events: the finishing pass every source shares."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from bounceback.classify import decide_reason
from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.parse.base import finish_record, kind_of
from bounceback.parse.text import find_address

# Reasons that mean "the classifier found nothing better" (see classify.engine).
_UNDECIDED = frozenset({"undefined", "onhold"})


def build_report(
    detector: str,
    records: Iterable[DeliveryRecord],
    *,
    kind: Kind | None = None,
    original: OriginalMessage | None = None,
    return_path: str = "",
    body: str = "",
    transient: bool = False,
) -> Report:
    """A finished Report: records cleaned (codes derived from diagnostics), kind set.

    ``transient``: the provider says the failure is temporary (a soft bounce). A
    record whose text carries no code then gets the class-4 status ``4.0.0``, the
    RFC 3463 way of saying so, instead of passing for a permanent failure.
    """
    # A record must name an address: anything else is a malformed event, dropped.
    done = [
        r for r in (finish_record(rec) for rec in records if rec.recipient) if "@" in r.recipient
    ]
    for rec in done:
        if rec.status or rec.reply_code:
            continue
        if rec.action == "delivered":
            rec.status = "2.0.0"  # delivered is success, whatever text came with it
        elif transient and rec.action in ("failed", "delayed"):
            rec.status = "4.0.0"
    rp = find_address(return_path)
    return Report(
        kind=kind or kind_of(done),
        detector=detector,
        records=done,
        original=original or OriginalMessage(return_path=rp),
        delivered_to=[rp] if rp else [],
        body=body,
    )


def fallback_hint(report: Report, hint: str) -> None:
    """Give each record ``hint`` only where its own evidence decides nothing.

    A provider's broad category ("blocked", "soft bounce") is weaker evidence than
    the SMTP status and text it passes on, so it only fills the gap.
    """
    if not hint:
        return
    for rec in report.records:
        if not rec.reason_hint and decide_reason(report, rec).reason in _UNDECIDED:
            rec.reason_hint = hint


def strip_diagnostic_type(value: str) -> str:
    """'smtp; 550 5.1.1 ...' → '550 5.1.1 ...': the RFC 3464 diagnostic-type prefix."""
    head, sep, rest = value.partition(";")
    name = head.strip()
    if sep and name and " " not in name and name.replace("-", "").isalnum() and len(name) <= 20:
        return rest.strip()
    return value.strip()


def digest(*parts: str | int) -> str:
    """A stable key from the parts that identify an event."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:40]


def parse_time(value: object) -> dt.datetime | None:
    """A provider timestamp (epoch seconds, ISO 8601 with Z) as an aware datetime."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        if isinstance(value, str):
            text = value.strip().replace("Z", "+00:00")
            when = dt.datetime.fromisoformat(text)
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
