"""Postfix mail log: ``status=bounced`` and ``status=deferred`` delivery lines.

A delivery agent logs one line per recipient and attempt::

    Nov 23 10:00:01 mx1 postfix/smtp[4711]: 3F2A81C0042: to=<ann@example.com>,
      relay=mx.example.com[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.5/0.6,
      dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1
      <ann@example.com>: Recipient address rejected: User unknown (in reply to
      RCPT TO command))

(one line in the log). Earlier lines of the same queue id name the message:
``cleanup``'s ``message-id=<...>`` and ``qmgr``'s ``from=<sender>``; they are
remembered (a bounded table, dropped at ``removed``) and attached when present.
When the queue gives up (``qmgr``: ``from=<...>, status=expired, returned to
sender``), the recipients last seen deferred become bounces with reason
``expired``.
Both the classic syslog time stamp and RFC 3339 ones are read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from bounceback.model import DeliveryRecord, Kind, OriginalMessage
from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.logs import LogConfig
from bounceback.sources.records import build_report, digest, now, parse_time
from bounceback.sources.tail import Line

DETECTOR = "postfix-log"

_LINE_RE = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\S+)\s+"
    r"(?P<host>\S+)\s+(?P<prog>[\w.\-/]+)(?:\[\d+\])?:\s+"
    r"(?P<qid>[0-9A-Za-z]{5,20}):\s+(?P<rest>.*)$"
)
_SAID_RE = re.compile(r"^host \S+ said:\s*", re.I)
_STATUS = {"bounced": ("failed", Kind.BOUNCE), "deferred": ("delayed", Kind.DELAY)}
_SENT = {"sent": ("delivered", Kind.DELIVERED)}


@dataclass(slots=True)
class _Queued:
    message_id: str = ""
    sender: str = ""
    # Recipients whose last outcome was a deferral, by lower-case address.
    deferred: dict[str, DeliveryRecord] = field(default_factory=dict)


_MAX_DEFERRED = 1000  # recipients remembered per queued message


class PostfixLog:
    """Turns log lines into SourceEvents; keeps what earlier lines said per queue id."""

    def __init__(self, *, include_sent: bool = False, max_queue_ids: int = 100_000) -> None:
        self.statuses = {**_STATUS, **(_SENT if include_sent else {})}
        self.max_queue_ids = max_queue_ids
        self._queue: OrderedDict[str, _Queued] = OrderedDict()

    @classmethod
    def from_config(cls, config: LogConfig) -> PostfixLog:
        return cls(include_sent=config.include_sent)

    def feed(self, line: Line) -> SourceEvent | SourceError | None:
        return self.feed_text(line.text, key=line.key, ref=line.ref)

    def feed_text(
        self, text: str, *, key: str = "", ref: str = ""
    ) -> SourceEvent | SourceError | None:
        """The event for one log line; None for lines that report no delivery outcome."""
        # Cheap substring checks first: most lines of a busy log are none of these.
        if "status=" not in text and "message-id=" not in text and "from=<" not in text:
            if text.endswith(": removed"):
                self._forget(text)
            return None
        m = _LINE_RE.match(text)
        if m is None:
            return None
        qid, rest = m["qid"], m["rest"]
        if rest.startswith("message-id="):
            value = rest[len("message-id=") :].split()
            self._entry(qid).message_id = value[0] if value else ""
            return None
        if rest.startswith("from=<"):
            sender = rest[6 : rest.find(">", 6)] if ">" in rest else ""
            if ", status=expired" in rest:
                return self._expired(m, qid, sender, key, ref)
            self._entry(qid).sender = sender
            return None
        if not rest.startswith("to=<") or ", status=" not in rest:
            return None
        head, _, tail = rest.partition(", status=")
        word, _, said = tail.partition(" ")
        fields = _fields(head)
        recipient = fields.get("to", "").strip("<>")
        queued = self._queue.get(qid)
        if queued is not None:
            queued.deferred.pop(recipient.lower(), None)  # a newer outcome replaces it
        outcome = self.statuses.get(word)
        if outcome is None:
            return None
        if not recipient:
            return SourceError(ref, "delivery line without a recipient", text)
        action, kind = outcome
        rec = DeliveryRecord(
            recipient=recipient,
            original_recipient=fields.get("orig_to", "").strip("<>"),
            action=action,
            status=fields.get("dsn", ""),
            diagnostic=_diagnostic(said),
            remote_mta=_relay_host(fields.get("relay", "")),
            reporting_mta=m["host"],
        )
        if kind == Kind.DELAY:
            # Remembered: if the queue gives up on the message, this is why.
            deferred = self._entry(qid).deferred
            if len(deferred) < _MAX_DEFERRED:
                deferred[recipient.lower()] = replace(rec)
        return self._event(m, qid, [rec], kind, key or digest(DETECTOR, text), ref)

    def _expired(
        self, m: re.Match[str], qid: str, sender: str, key: str, ref: str
    ) -> SourceEvent | None:
        """``from=<s>, status=expired, returned to sender``: the queue lifetime ran
        out; every recipient still deferred has failed for good."""
        queued = self._queue.get(qid)
        if queued is None or not queued.deferred:
            return None  # the deferrals were before this run: nothing to name
        queued.sender = queued.sender or sender
        records = [
            replace(r, action="failed", reason_hint="expired") for r in queued.deferred.values()
        ]
        queued.deferred.clear()
        return self._event(m, qid, records, Kind.BOUNCE, key or digest(DETECTOR, m.string), ref)

    def _event(
        self,
        m: re.Match[str],
        qid: str,
        records: list[DeliveryRecord],
        kind: Kind,
        key: str,
        ref: str,
    ) -> SourceEvent:
        queued = self._queue.get(qid, _Queued())
        original = OriginalMessage(message_id=queued.message_id, return_path=queued.sender)
        report = build_report(
            DETECTOR, records, kind=kind, original=original, return_path=queued.sender
        )
        when = _log_time(m["time"]) or now()
        meta = {"queue_id": qid, "program": m["prog"]}
        return SourceEvent(report, key, DETECTOR, ref or qid, when, meta)

    def _entry(self, qid: str) -> _Queued:
        entry = self._queue.get(qid)
        if entry is None:
            entry = self._queue[qid] = _Queued()
            if len(self._queue) > self.max_queue_ids:
                self._queue.popitem(last=False)
        return entry

    def _forget(self, text: str) -> None:
        m = _LINE_RE.match(text)
        if m is not None:
            self._queue.pop(m["qid"], None)


def _fields(head: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in head.split(", "):
        name, sep, value = part.partition("=")
        if sep:
            out[name.strip()] = value.strip()
    return out


def _diagnostic(said: str) -> str:
    """'(host mx[1.2.3.4] said: 550 ... (in reply to RCPT TO command))' → the reply."""
    said = said.strip()
    if said.startswith("(") and said.endswith(")"):
        said = said[1:-1]
    return _SAID_RE.sub("", said)


def _relay_host(relay: str) -> str:
    """'mx.example.com[192.0.2.1]:25' → 'mx.example.com'; 'none', 'local' → ''."""
    host = relay.split("[", 1)[0].strip()
    return "" if host in ("none", "local", "virtual", "") else host


def _log_time(stamp: str) -> dt.datetime | None:
    if stamp[:1].isdigit():
        return parse_time(stamp)
    # Classic syslog stamps have no year: take this year, or last year when that
    # would put the line more than a day in the future (a log read in January).
    current = now()
    try:
        when = dt.datetime.strptime(
            f"{current.year} {' '.join(stamp.split())}", "%Y %b %d %H:%M:%S"
        )
    except ValueError:
        return None
    when = when.replace(tzinfo=dt.UTC)
    if when - current > dt.timedelta(days=1):
        when = when.replace(year=current.year - 1)
    return when
