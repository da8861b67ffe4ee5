"""Read a provider's or appliance's bounce with the MTA reader it is built on.

Many products send another MTA's notice (mail.ru runs Exim, Yandex Postfix,
McAfee's appliance a Sendmail-style DSN); their module identifies the product
by its own marks and lets that MTA's module read the records, so the result
names the product as its detector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bounceback.model import Report
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_address

Reader = Callable[[Mail], Report | None]


def read_with(name: str, mail: Mail, readers: Sequence[Reader]) -> Report | None:
    """The first reader's report, relabelled ``name``; None when none reads it."""
    for reader in readers:
        report = reader(mail)
        if report is not None:
            report.detector = name
            return report
    return None


def sender_domain(mail: Mail) -> str:
    """The lower-case domain of the notice's From address; '' when there is none."""
    address = find_address(mail.from_lc)
    return address.rpartition("@")[2].rstrip(">.")


def in_domains(domain: str, roots: Sequence[str]) -> bool:
    """Whether ``domain`` is one of ``roots`` or a host under one of them."""
    return any(domain == root or domain.endswith("." + root) for root in roots)
