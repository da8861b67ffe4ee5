"""The appliance and regional detectors claim their own format and nothing else.

Every detector runs on every fixture message; one that is not of its format
must get None, so an early detector cannot steal another format's message.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"

# Module name → the corpus family its fixtures belong to (None: no fixture of its own).
MODULES: dict[str, str | None] = {
    "activehunter": "activehunter",
    "biglobe": "biglobe",
    "deliveryfailure": "x2",
    "domino": "domino",
    "einsundeins": "einsundeins",
    "exchange2003": "exchange2003",
    "ezweb": "ezweb",
    "fml": "fml",
    "forwarded": "x5",
    "gmx": "gmx",
    "imailserver": "imailserver",
    "kddi": "kddi",
    "mailfoundry": "mailfoundry",
    "mailmarshal": "mailmarshal",
    "messagingserver": "messagingserver",
    "mfilter": "mfilter",
    "mimecast": "mimecast",
    "mxlogic": "mxlogic",
    "netscape": None,
    "notes": "notes",
    "trendmicro": "trendmicro",
    "verizon": "verizon",
    "x1": "x1",
    "x3": "x3",
    "x4": "x4",
    "x6": "x6",
    "yahoolegacy": "x2",
    "zoho": "zoho",
}


def _family(path: Path) -> str:
    parts = path.stem.split("-")
    return parts[1] if len(parts) > 2 else parts[0]


MAILS = sorted(FIXTURES.glob("*.eml"))


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_claims_only_its_own_format(module_name: str) -> None:
    module = importlib.import_module(f"bounceback.parse.lhost.{module_name}")
    family = MODULES[module_name]
    own = 0
    for path in MAILS:
        report = module.detect(Mail.from_bytes(path.read_bytes()))
        if _family(path) == family:
            own += report is not None
        else:
            assert report is None, f"{module_name} claimed {path.name}"
    assert own or family is None, f"no fixture of {family} was claimed by {module_name}"
