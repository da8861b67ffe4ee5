"""Forged bounces silence nobody (docs/security.md): through the CLI, on both databases.

With signed VERP configured, a bounce that proves no send of ours is kept, shown as
unverified and changes nothing about the contact; a signed one still acts. The
unsigned CiviCRM ``id.<n>@`` return path is refused unless the config opts in, and
then only on the site's own return-path domain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.config import load
from bounceback.ledger import Ledger
from support.samples import dsn

DOMAIN = "bounces.sender.example"
MEMBER = "member@example.org"


def config_text(*, verp: bool = True, accept_unsigned: bool = False) -> str:
    if not verp:
        return ""
    return (
        "[verp]\n"
        f'domain = "{DOMAIN}"\n'
        'active_key = "k1"\n'
        f"accept_unsigned = {'true' if accept_unsigned else 'false'}\n"
        "[verp.keys]\n"
        'k1 = "a secret long enough for a test"\n'
    )


class Site:
    """A ledger with one member who was sent one message, driven through the CLI."""

    def __init__(self, db_url: str, tmp_path: Path, text: str) -> None:
        self.path = tmp_path / "bounceback.toml"
        self.path.write_text(text)
        self.env = {"BOUNCEBACK_DATABASE_URL": db_url, "BOUNCEBACK_CONFIG": str(self.path)}
        self.inbox = tmp_path / "inbox"
        self.inbox.mkdir()
        config = load(self.path, env=self.env)
        ledger = Ledger.open(config)
        try:
            ledger.add_campaign("spring")
            ledger.add_contact(MEMBER)
            self.send_id = ledger.record_send(MEMBER, "spring")
            self.signed = ledger.signer.address(self.send_id) if ledger.signer else ""
        finally:
            ledger.close()

    def cli(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.stdout

    def bounce(self, return_path: str, serial: int) -> None:
        """A "user unknown" DSN naming the member, mailed to ``return_path``."""
        data = dsn(MEMBER, "5.1.1", return_path=return_path, serial=serial)
        (self.inbox / f"{serial}.eml").write_bytes(data)
        self.cli("process", str(self.inbox), "--json")

    def member(self) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(self.cli("contacts", "show", MEMBER, "--json"))
        return view


def suppressed(site: Site) -> bool:
    result = CliRunner().invoke(app, ["suppression", "check", MEMBER], env=site.env)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 0


def untouched(site: Site) -> dict[str, Any]:
    """The member's view, asserting no bounce acted on them."""
    view = site.member()
    assert view["email"] == MEMBER and not view["bounced"] and not view["on_hold"]
    assert view["bulk_mail"] != "do_not_allow"
    assert not suppressed(site)
    return view


@pytest.fixture
def verp_site(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.chdir(tmp_path)
    return Site(db_url, tmp_path, config_text())


def test_forged_dsn_to_the_plain_bounce_address_is_kept_unverified(verp_site: Site) -> None:
    # No token, no id of ours: only the recipient names the member.
    verp_site.bounce(f"bounces@{DOMAIN}", serial=1)
    view = untouched(verp_site)
    [event] = view["history"]
    assert event["reason"] == "userunknown" and event["effects"] == {"unverified": True}
    # A genuine bounce (signed return path) still acts at once.
    verp_site.bounce(verp_site.signed, serial=2)
    after = verp_site.member()
    assert after["bounced"] and after["bounced_address"] == MEMBER and suppressed(verp_site)


def test_forged_unsigned_send_id_is_refused_by_default(verp_site: Site) -> None:
    verp_site.bounce(f"id.{verp_site.send_id}@{DOMAIN}", serial=1)
    [event] = untouched(verp_site)["history"]
    assert event["effects"] == {"unverified": True}


def test_unsigned_send_id_acts_only_where_the_site_opted_in(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site = Site(db_url, tmp_path, config_text(accept_unsigned=True))
    site.bounce(f"id.{site.send_id}@elsewhere.example", serial=1)  # not our domain
    untouched(site)
    site.bounce(f"bounce+id.{site.send_id}@{DOMAIN}", serial=2)  # CiviCRM's own form
    view = site.member()
    assert view["history"][0]["match_method"] == "civicrm"
    assert view["bounced"] and suppressed(site)


def test_without_signed_verp_the_recipient_is_trusted(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented trade-off: a site that signs nothing has only the address."""
    monkeypatch.chdir(tmp_path)
    site = Site(db_url, tmp_path, config_text(verp=False))
    site.bounce("bounces@sender.example", serial=1)
    assert site.member()["bounced"] and suppressed(site)


def test_unsigned_ids_need_the_return_path_domain(tmp_path: Path) -> None:
    path = tmp_path / "bounceback.toml"
    path.write_text("[verp]\naccept_unsigned = true\n")
    with pytest.raises(ValueError, match=r"verp\.accept_unsigned"):
        load(path, env={})
