"""Structured log lines: ``event=NAME key=value ...``, one event per line."""

from __future__ import annotations


def kv(event: str, **fields: object) -> str:
    """One structured log line: ``event=NAME key=value ...`` (values with spaces quoted)."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        text = str(value)
        if not text or any(c in text for c in ' "='):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
