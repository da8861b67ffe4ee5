"""PowerMTA accounting CSV: bounce (``b``), remote bounce (``rb``) and feedback-loop
(``f``) records, optionally deliveries (``d``) and transient failures (``t``, ``tq``).

PowerMTA writes the field names as the first line of each accounting file
(``type,timeLogged,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,...``),
so rows are read by name; a file without that line needs ``header=`` given.

``bounceCat`` is PowerMTA's own guess at the category, from its
bounce-category patterns. It becomes the record's ``reason_hint``:

================== ================= ==============================================
bounceCat          reason            why
================== ================= ==============================================
bad-mailbox        userunknown       the mailbox does not exist
bad-domain         hostunknown       the domain does not exist or has no MX
inactive-mailbox   suspend           the mailbox exists but is disabled or expired
quota-issues       mailboxfull       over quota
spam-related       spamdetected      refused as spam
virus-related      virusdetected     refused for a virus
content-related    contenterror      refused for its content
policy-related     policyviolation   refused by site policy
relaying-issues    norelaying        relaying denied
invalid-sender     rejected          the sending domain's DNS/MX is not valid
message-expired    expired           not delivered before bounce-after
bad-connection     networkerror      the connection to the host failed
no-answer-from-host networkerror     the host did not answer
routing-errors     networkerror      mail routing for the domain is broken
protocol-errors    syntaxerror       SMTP syntax or sequence errors
bad-configuration  systemerror       the remote host is misconfigured
other, unknown     (none)            the classifier decides from dsnStatus/dsnDiag
================== ================= ==============================================
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from bounceback.model import DeliveryRecord, Kind, OriginalMessage
from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.logs import LogConfig
from bounceback.sources.records import (
    build_report,
    digest,
    now,
    parse_time,
    strip_diagnostic_type,
)
from bounceback.sources.tail import Line

DETECTOR = "pmta"

BOUNCE_CATEGORIES: dict[str, str] = {
    "bad-mailbox": "userunknown",
    "bad-domain": "hostunknown",
    "inactive-mailbox": "suspend",
    "quota-issues": "mailboxfull",
    "spam-related": "spamdetected",
    "virus-related": "virusdetected",
    "content-related": "contenterror",
    "policy-related": "policyviolation",
    "relaying-issues": "norelaying",
    "invalid-sender": "rejected",
    "message-expired": "expired",
    "bad-connection": "networkerror",
    "no-answer-from-host": "networkerror",
    "routing-errors": "networkerror",
    "protocol-errors": "syntaxerror",
    "bad-configuration": "systemerror",
}

DEFAULT_TYPES = frozenset({"b", "rb", "f"})
_LONG_NAMES = {"bounce": "b", "delivery": "d", "transient": "t", "feedback": "f"}
# Where PowerMTA versions and configurations put a feedback report's recipient.
_FBL_RECIPIENT = ("rcpt", "originalrcptto", "origrcpt", "orcpt", "header_to")
# Fields kept as event meta (lower-case name → meta key).
_META = {
    "jobid": "job_id",
    "vmta": "vmta",
    "envid": "envelope_id",
    "bouncecat": "bounce_category",
    "header_x-fblid": "fbl_id",
    "useragent": "user_agent",
    "format": "feedback_format",
    "dlvsourceip": "source_ip",
}


class PmtaCsv:
    """Turns accounting-file lines into SourceEvents, one per ``b``/``rb``/``f`` row."""

    def __init__(
        self,
        *,
        types: Iterable[str] = DEFAULT_TYPES,
        header: Sequence[str] | None = None,
    ) -> None:
        self.types = frozenset(t.lower() for t in types)
        self.header = [h.strip().lower() for h in header] if header else None
        self._headers: dict[str, list[str] | None] = {}

    @classmethod
    def from_config(cls, config: LogConfig) -> PmtaCsv:
        return cls(types=config.types) if config.types else cls()

    def feed(self, line: Line) -> SourceEvent | SourceError | None:
        """The event for one line; None for headers, blank lines and other record types."""
        text = line.text
        if not text.strip() or (text == line.head and _is_header(text)):
            return None
        try:
            row = next(csv.reader([text]))
        except csv.Error as exc:
            return SourceError(line.ref, f"bad CSV: {exc}", text)
        if not row:
            return None
        rtype = row[0].strip().lower()
        rtype = _LONG_NAMES.get(rtype, rtype)
        if rtype == "type":
            return None  # a header line in the middle of a file (concatenated files)
        if rtype not in self.types:
            if not (rtype.isalnum() and len(rtype) <= 4):
                return SourceError(line.ref, f"not an accounting record: {rtype[:40]!r}", text)
            return None  # a record type we were not asked for (d, t, r, ...)
        names = self._header_for(line.head)
        if names is None:
            return SourceError(line.ref, "no header line names the fields", text)
        if len(row) != len(names):
            return SourceError(line.ref, f"{len(row)} fields, header names {len(names)}", text)
        fields = dict(zip(names, (v.strip() for v in row), strict=True))
        return self._event(rtype, fields, line.key, line.ref)

    def feed_all(self, lines: Iterable[Line]) -> tuple[list[SourceEvent], list[SourceError]]:
        events: list[SourceEvent] = []
        errors: list[SourceError] = []
        for line in lines:
            got = self.feed(line)
            if isinstance(got, SourceEvent):
                events.append(got)
            elif isinstance(got, SourceError):
                errors.append(got)
        return events, errors

    def _header_for(self, head: str) -> list[str] | None:
        if head not in self._headers:
            names = None
            if _is_header(head):
                names = [h.strip().lower() for h in next(csv.reader([head]))]
            self._headers[head] = names or self.header
        return self._headers[head]

    def _event(
        self, rtype: str, f: dict[str, str], key: str, ref: str
    ) -> SourceEvent | SourceError:
        if rtype == "f":
            recipient = next((f[k] for k in _FBL_RECIPIENT if f.get(k)), "")
            rec = DeliveryRecord(
                recipient=recipient,
                feedback_type=f.get("feedbacktype", "") or "abuse",
                reporting_mta=f.get("reportingmta", ""),
                reason_hint="feedback",
            )
            kind: Kind | None = Kind.COMPLAINT
        else:
            recipient = f.get("rcpt", "")
            rec = DeliveryRecord(
                recipient=recipient,
                action=f.get("dsnaction", "") or _DEFAULT_ACTION.get(rtype, ""),
                status=f.get("dsnstatus", ""),
                diagnostic=strip_diagnostic_type(f.get("dsndiag", "")),
                remote_mta=_first_word(f.get("dsnmta", "")),
                reporting_mta=strip_diagnostic_type(f.get("dsnreportingmta", "")),
                original_recipient=f.get("orcpt", ""),
                reason_hint=BOUNCE_CATEGORIES.get(f.get("bouncecat", "").lower(), ""),
            )
            kind = None
        if not recipient:
            return SourceError(ref, f"{rtype} record without a recipient", ",".join(f.values()))
        original = OriginalMessage(
            message_id=f.get("header_message-id", ""),
            subject=f.get("header_subject", ""),
            from_=f.get("header_from", ""),
            to=f.get("header_to", ""),
            return_path=f.get("orig", ""),
            bounceback_id=f.get("header_x-bounceback-id", ""),
            envelope_id=f.get("envid", ""),
        )
        report = build_report(
            DETECTOR, [rec], kind=kind, original=original, return_path=original.return_path
        )
        meta = {m: f[k] for k, m in _META.items() if f.get(k)}
        meta["record_type"] = rtype
        when = parse_time(f.get("timelogged", "")) or now()
        return SourceEvent(report, key or digest(DETECTOR, ref), DETECTOR, ref, when, meta)


_DEFAULT_ACTION = {"b": "failed", "rb": "failed", "d": "delivered", "t": "delayed", "tq": "delayed"}


def _is_header(text: str) -> bool:
    return text.split(",", 1)[0].strip().strip('"').lower() == "type"


def _first_word(value: str) -> str:
    value = strip_diagnostic_type(value)
    return value.split()[0] if value.split() else ""
