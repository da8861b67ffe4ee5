"""The modules that read a product's bounce with another MTA's reader.

Each runs before the reader it reuses, so it must claim its own product's
notices and nothing else: every fixture of another family gets None.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bounceback.parse.lhost._via import in_domains
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"

# module → the corpus family of its fixtures
MODULES = {
    "amavis": "amavis",
    "aol": "aol",
    "apple": "apple",
    "barracuda": "barracuda",
    "bigfoot": "bigfoot",
    "exchange2007": "exchange2007",
    "mailru": "mailru",
    "mcafee": "mcafee",
    "powermta": "powermta",
    "surfcontrol": "surfcontrol",
    "yandex": "yandex",
}

MAILS = sorted(FIXTURES.glob("*.eml"))


def _family(path: Path) -> str:
    parts = path.stem.split("-")
    return parts[1] if len(parts) > 2 else parts[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_claims_its_own_family_only(name: str) -> None:
    module = importlib.import_module(f"bounceback.parse.lhost.{name}")
    own = 0
    for path in MAILS:
        report = module.detect(Mail.from_bytes(path.read_bytes()))
        if _family(path) == MODULES[name]:
            assert report is not None, path.name
            assert report.detector == name
            own += 1
        else:
            assert report is None, path.name
    assert own, f"no fixture for {name}"


def test_in_domains_matches_hosts_under_a_root_only() -> None:
    assert in_domains("corp.mail.ru", ("mail.ru",))
    assert in_domains("mail.ru", ("mail.ru",))
    assert not in_domains("gmail.ru", ("mail.ru",))
    assert not in_domains("mail.ru.example.com", ("mail.ru",))
