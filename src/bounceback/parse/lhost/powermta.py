"""PowerMTA (Port25 / SparkPost): a DSN with X-PowerMTA-* fields.

    Hello, this is the mail server on mail22.example.net.
    ...
      <user@example.jp>  delivery failed; will not continue trying

    Reporting-MTA: dns;mail22.example.net
    X-PowerMTA-VirtualMTA: mail22.example.net
    ...
    Diagnostic-Code: smtp;550 5.2.1 <user@example.jp>... User Unknown
    X-PowerMTA-BounceCategory: bad-mailbox

The BounceCategory is PowerMTA's guess from its own pattern list; it is kept
after the remote's reply in the diagnostic, not used as the reason.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost._via import read_with
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "powermta"
ORDER = Band.GATEWAY


def _categories(mail: Mail) -> list[str]:
    """Each recipient's X-PowerMTA-BounceCategory, in recipient order."""
    return [
        value.strip()
        for group in mail.status_groups
        for name, value in group
        if name.lower() == "x-powermta-bouncecategory"
    ]


def _is_powermta(mail: Mail) -> bool:
    return any(
        name.lower().startswith("x-powermta-") for group in mail.status_groups for name, _ in group
    )


def detect(mail: Mail) -> Report | None:
    if not mail.status_groups or not _is_powermta(mail):
        return None
    report = read_with(NAME, mail, (dsn.detect,))
    if report is None:
        return None
    categories = _categories(mail)
    if len(categories) == len(report.records):
        for rec, category in zip(report.records, categories, strict=True):
            if category and category not in rec.diagnostic:
                rec.diagnostic = f"{rec.diagnostic} (PowerMTA bounce category: {category})".strip()
    return report
