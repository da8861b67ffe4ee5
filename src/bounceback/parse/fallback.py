"""Last resort: a message that looks like a bounce but follows no known format."""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.mail import Mail

NAME = "fallback"


def detect(mail: Mail) -> Report | None:
    return None
