"""What the Google formats share: who sends them, and the failed-recipient header.

Gmail, Google Workspace and Google Groups all bounce from the same
mailer-daemon addresses and list the failed recipients in X-Failed-Recipients.
"""

from __future__ import annotations

from bounceback.parse.mail import Mail
from bounceback.parse.text import find_addresses

_SENDERS = ("mailer-daemon@googlemail.com", "mailer-daemon@google.com", "mailer-daemon@gmail.com")


def from_google(mail: Mail) -> bool:
    """The bounce comes from Google's mail delivery subsystem (cheap header check)."""
    sender = mail.from_lc
    # A loop, not any(): no generator on a check every message makes several times.
    for s in _SENDERS:  # noqa: SIM110
        if s in sender:
            return True
    return False


def failed_recipients(mail: Mail) -> list[str]:
    """The addresses in X-Failed-Recipients, in order, without duplicates."""
    out: list[str] = []
    seen: set[str] = set()
    for value in mail.headers("X-Failed-Recipients"):
        for addr in find_addresses(value):
            if addr.lower() not in seen:
                seen.add(addr.lower())
                out.append(addr)
    return out
