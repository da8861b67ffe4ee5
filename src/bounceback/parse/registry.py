"""The detectors, in the order they are tried.

Format-specific modules live in ``parse/lhost/`` (one per MTA or provider) and
are found by import, so adding a format is adding a file. Each module defines
``NAME``, optionally ``ORDER`` (a ``Band``, or a band plus or minus a few; lower
runs first, default ``Band.DEFAULT``), and ``detect(mail) -> Report | None``.

The standards and the catch-alls are not in a band: ARF runs before every
``lhost`` module (a complaint is never a bounce), and RFC 3464 fields, RFC 3834
auto-replies and the fallback's heuristics run after all of them, so that a
format's own reading of a message always wins over the generic one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from enum import IntEnum
from functools import cache
from typing import Protocol

from bounceback.model import Report
from bounceback.parse.mail import Mail


class Band(IntEnum):
    """Where a group of ``lhost`` detectors runs; the more specific a claim, the earlier.

    A detector whose gate another format's message could also pass goes after the
    detectors of the formats that resemble it; within a band, by name (an offset
    of a few orders two detectors of one band that must run in a set order).
    """

    # Failures dressed as another kind of message (a disposition notification that
    # says the message was deleted): claimed before anything reads them as what
    # they look like.
    DISGUISED = 30
    # One product's or carrier's own fixed wording (appliances, old MTAs, mobile
    # carriers): a sentence no other format prints.
    PRODUCT_TEXT = 40
    # Large providers' notices, known by their sender or fields (Amazon, Gmail).
    PROVIDER = 50
    # Hosted mail services and filtering gateways (Office 365, Outlook.com, Yahoo,
    # Barracuda...), which relay formats the bands below would also claim.
    GATEWAY = 60
    # Microsoft Exchange's own reports, after the hosted services built on it.
    EXCHANGE = 70
    # Providers known only by their domain, whose text is otherwise a standard
    # MTA's: after every format with wording of its own.
    PROVIDER_DOMAIN = 90
    # Rare formats with no reason to run earlier or later (the default).
    DEFAULT = 100
    # A bounce someone forwarded: the wrapper is read before the MTA formats
    # would claim the forwarded text as the forwarder's own.
    FORWARDED = 140
    # General-purpose MTAs (Postfix, Exim, Sendmail, qmail...), whose formats many
    # products above imitate or embed.
    MTA = 150
    # Address forms any format can carry (X.400): the last resort before the
    # standards' generic reading.
    ADDRESS_FORM = 160


class Detector(Protocol):
    NAME: str

    def detect(self, mail: Mail) -> Report | None: ...


@cache
def lhost_detectors() -> tuple[Detector, ...]:
    from bounceback.parse import lhost

    found = []
    for info in pkgutil.iter_modules(lhost.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bounceback.parse.lhost.{info.name}")
        found.append((getattr(module, "ORDER", Band.DEFAULT), info.name, module))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(module for _, _, module in found)


@cache
def detectors() -> tuple[Detector, ...]:
    from bounceback.parse import arf, autoreply, dsn, fallback

    return (arf, *lhost_detectors(), dsn, autoreply, fallback)


@cache
def detect_functions() -> tuple[Callable[[Mail], Report | None], ...]:
    """Each detector's ``detect``, in order: the loop ``parse`` runs for every
    message skips a module attribute lookup per detector."""
    return tuple(detector.detect for detector in detectors())
