"""The detectors, in the order they are tried.

Format-specific modules live in ``parse/lhost/`` (one per MTA or provider) and
are found by import, so adding a format is adding a file. Each module defines
``NAME``, optionally ``ORDER`` (lower runs first, default 100), and
``detect(mail) -> Report | None``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from typing import Protocol

from bounceback.model import Report
from bounceback.parse.mail import Mail


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
        found.append((getattr(module, "ORDER", 100), info.name, module))
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
