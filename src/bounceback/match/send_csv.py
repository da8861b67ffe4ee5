"""Reading a send log exported by another system (``bounceback sends import``).

A header row is required and must name an ``email`` column; the others are
optional: ``campaign``, ``message_id``, ``bounceback_id``, ``return_path``,
``sent_at`` (ISO 8601; a time without zone is UTC). Header names ignore case,
spaces and dashes (``Message-ID`` works); unknown columns are ignored. Commas,
semicolons or tabs separate fields, as the header shows. Bad rows are reported
by line number and skipped; the good rows are kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

FIELDS = ("email", "campaign", "message_id", "bounceback_id", "return_path", "sent_at")
_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "address": "email",
    "recipient": "email",
    "messageid": "message_id",
    "bouncebackid": "bounceback_id",
    "x_bounceback_id": "bounceback_id",
    "returnpath": "return_path",
    "sent": "sent_at",
}
# Deliberately loose: one @, something on both sides, no spaces or brackets.
_ADDRESS = re.compile(r"[^@\s<>()\[\],;\"]+@[^@\s<>()\[\],;\"]+\.[^@\s<>()\[\],;\".]+")


@dataclass(frozen=True, slots=True)
class SendRow:
    email: str
    campaign: str = ""
    message_id: str = ""
    bounceback_id: str = ""
    return_path: str = ""
    sent_at: dt.datetime | None = None
    # Where the row starts in the file, for errors found later (e.g. by the database).
    line: int = field(default=0, compare=False)


def _column(name: str) -> str:
    key = re.sub(r"[\s\-.]+", "_", name.strip().lower())
    return _ALIASES.get(key, key)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _address(value: str) -> str:
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value if _ADDRESS.fullmatch(value) else ""


def _when(value: str) -> dt.datetime:
    text = value.strip()
    if text[-1:] in "zZ":
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def parse_sends_csv(text: str) -> tuple[list[SendRow], list[str]]:
    """The good rows and, per bad row, an error naming its line."""
    text = text.removeprefix("\ufeff")
    first = text.lstrip("\r\n").partition("\n")[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    rows: list[SendRow] = []
    errors: list[str] = []
    header: list[str] | None = None
    seen_ids: dict[str, int] = {}
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [_column(f) for f in fields]
                dup = {c for c in header if c and header.count(c) > 1}
                if "email" not in header:
                    return [], [f"line {line}: the header has no 'email' column"]
                if dup & set(FIELDS):
                    return [], [f"line {line}: column {sorted(dup)[0]!r} appears twice"]
                continue
            row, error = _row(header, fields, seen_ids, line)
            if error:
                errors.append(f"line {line}: {error}")
            elif row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: {exc}; the rest of the file is skipped")
    if header is None:
        errors.append("the file has no header row")
    return rows, errors


def _row(
    header: list[str], fields: list[str], seen_ids: dict[str, int], line: int
) -> tuple[SendRow | None, str]:
    if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
        return None, f"{len(fields)} fields, the header has {len(header)}"
    values = {name: "" for name in FIELDS}
    for name, value in zip(header, fields, strict=False):
        if name in values:
            values[name] = value.strip()
    if not values["email"]:
        return None, "no email address"
    email = _address(values["email"])
    if not email:
        return None, f"{values['email']!r} is not an email address"
    return_path = values["return_path"]
    if return_path and not (return_path := _address(return_path)):
        return None, f"return_path {values['return_path']!r} is not an email address"
    sent_at = None
    if values["sent_at"]:
        try:
            sent_at = _when(values["sent_at"])
        except ValueError:
            return None, f"sent_at {values['sent_at']!r} is not an ISO 8601 time"
    bb_id = values["bounceback_id"]
    if bb_id:
        if bb_id in seen_ids:
            return None, f"bounceback_id {bb_id!r} already on line {seen_ids[bb_id]}"
        seen_ids[bb_id] = line
    row = SendRow(
        email=email,
        campaign=values["campaign"],
        message_id=values["message_id"],
        bounceback_id=bb_id,
        return_path=return_path,
        sent_at=sent_at,
        line=line,
    )
    return row, ""
