"""What the tools bounceback replaces promise their users, through the CLI on both databases.

- Octeth: a pattern line that says Hard acts as every hard bounce does.
- XPOR / CiviCRM: auto-replies never count toward the consecutive count or
  disable_after; Away holds only at its own threshold.
- OpenCRM: a rule can recognise a bounce no detector knew; its "to" section reads
  To, Cc, Bcc and where the bounce was delivered.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bounceback.cli import app
from support.samples import dsn

MEMBER = "member@example.org"


class Site:
    def __init__(self, db_url: str, tmp_path: Path, config: str, rules: str = "") -> None:
        (tmp_path / "rules.toml").write_text(rules)
        path = tmp_path / "bounceback.toml"
        path.write_text(config + ('\n[rules]\nrules_file = "rules.toml"\n' if rules else ""))
        self.env = {"BOUNCEBACK_DATABASE_URL": db_url, "BOUNCEBACK_CONFIG": str(path)}
        self.inbox = tmp_path / "inbox"
        self.inbox.mkdir()
        self.count = 0
        (tmp_path / "contacts.csv").write_text(f"email,name\n{MEMBER},Member\n")
        self.cli("contacts", "import", str(tmp_path / "contacts.csv"))

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout

    def process(self, data: bytes) -> dict[str, Any]:
        self.count += 1
        (self.inbox / f"{self.count}.eml").write_bytes(data)
        summary: dict[str, Any] = json.loads(self.cli("process", str(self.inbox), "--json"))
        return summary

    def member(self) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(self.cli("contacts", "show", MEMBER, "--json"))
        return view


@pytest.fixture
def site_with(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    return lambda config="", rules="": Site(db_url, tmp_path, config, rules)


def test_a_hard_pattern_acts_as_every_hard_bounce(site_with: Any) -> None:
    # Octeth's own example: the built-in verdict is a block of the sender (never counts).
    site = site_with(rules='patterns = ["550 5.7.1 Unfortunately, messages from==>Hard"]\n')
    diagnostic = "550 5.7.1 Unfortunately, messages from [192.0.2.9] weren't sent."
    site.process(dsn(MEMBER, "5.7.1", diagnostic))
    view = site.member()
    [event] = view["history"]
    assert event["hardbounce"] and event["rule"] == "user:pattern-1"
    assert view["bounced"] and view["email"] is None and view["bounced_address"] == MEMBER
    assert view["bulk_mail"] == "do_not_allow"
    assert "suppressed" in event["effects"]


def autoreply(serial: int) -> bytes:
    message = EmailMessage()
    message["From"] = MEMBER
    message["To"] = "news@sender.example"
    message["Subject"] = "Out of office: Spring news"
    message["Auto-Submitted"] = "auto-replied"
    message["Message-ID"] = f"<away-{serial}@example.org>"
    message.set_content("I am away until Monday and will read your mail then.\n")
    return bytes(message)


def test_auto_replies_never_disable_a_contact(site_with: Any) -> None:
    site = site_with(config="[policy]\ndisable_after = 2\n[policy.thresholds]\nAway = 3\n")
    for serial in range(1, 4):
        site.process(autoreply(serial))
    view = site.member()
    assert [e["bounce_type"] for e in view["history"]] == ["Away"] * 3
    assert view["bounce_counts"] == {"Away": 3} and view["consecutive_bounces"] == 0
    assert not view["disabled"]
    assert view["on_hold"] and view["hold_type"] == "Away"  # its own threshold, 3 here


GATEWAY_NOTICE = b"""\
From: Gateway <gateway@relay.example.net>
To: news@sender.example
Cc: list-owner@sender.example
Subject: Notice GW-17
Message-ID: <gw-17@relay.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain

Item refused by the relay gateway: destination account closed (GW-17).

--b1
Content-Type: message/rfc822

From: News <news@sender.example>
To: member@example.org
Subject: Spring news
Message-ID: <spring-1@sender.example>

Hello!
--b1--
"""


def test_a_rule_recognises_a_bounce_no_detector_knew(site_with: Any, tmp_path: Path) -> None:
    rules = (
        '[[rules]]\nsection = "body"\ntext = "destination account closed (GW-17)"\ntype = "hard"\n'
    )
    site = site_with(rules=rules)
    notice = tmp_path / "notice.eml"
    notice.write_bytes(GATEWAY_NOTICE)
    # No detector knows it: without the rule it is no bounce at all.
    [alone] = map(json.loads, site.cli("parse", str(notice), "--json", "--all").splitlines())
    assert alone["kind"] == "not_bounce"
    assert site.process(GATEWAY_NOTICE)["matched"] == 1
    view = site.member()
    [event] = view["history"]
    assert event["kind"] == "bounce" and event["hardbounce"] and event["rule"] == "user:rule-1"
    assert view["bounced"]
    explained = site.cli("explain", str(notice), "--rules", str(tmp_path / "rules.toml"))
    assert "user-rule" in explained and "rule-1" in explained


def test_the_to_section_reads_cc_and_the_envelope_recipient(site_with: Any) -> None:
    rules = '[[rules]]\nsection = "to"\ntext = "list-owner@sender.example"\ntype = "soft"\n'
    site = site_with(rules=rules)
    summary = site.process(GATEWAY_NOTICE)
    assert summary["matched"] == 1
    [event] = site.member()["history"]
    assert not event["hardbounce"] and event["rule"] == "user:rule-1"


def test_campaign_counts_bounced_addresses_not_events(site_with: Any, tmp_path: Path) -> None:
    site = site_with()
    (tmp_path / "spring.csv").write_text(
        f"email,name,campaign\n{MEMBER},Member,spring\nother@example.org,Other,spring\n"
    )
    site.cli("contacts", "import", str(tmp_path / "spring.csv"))
    full = "552 5.2.2 Mailbox full"
    for serial in range(1, 5):  # 8 soft bounces of 2 sends
        site.process(dsn(MEMBER, "5.2.2", full, serial=serial))
        site.process(dsn("other@example.org", "5.2.2", full, serial=10 + serial))
    stats = json.loads(site.cli("campaigns", "stats", "spring", "--json"))
    assert (stats["sent"], stats["hard_bounces"], stats["soft_bounces"]) == (2, 0, 2)
    assert stats["bounce_rate"] == 1.0
    site.process(dsn(MEMBER, "5.1.1", serial=20))  # the soft-bounced address turns dead
    stats = json.loads(site.cli("campaigns", "stats", "spring", "--json"))
    assert (stats["hard_bounces"], stats["soft_bounces"]) == (1, 1)
    # Undo recounts from what is left: the hard bounce goes, the address is soft again.
    site.cli("undo", "--since", "2000-01-01", "--until", "2100-01-01", "--reason", "userunknown")
    stats = json.loads(site.cli("campaigns", "stats", "spring", "--json"))
    assert (stats["hard_bounces"], stats["soft_bounces"]) == (0, 2)


def test_a_resend_row_takes_reason_and_time_from_one_bounce(site_with: Any, tmp_path: Path) -> None:
    site = site_with()
    (tmp_path / "spring.csv").write_text(f"email,name,campaign\n{MEMBER},Member,spring\n")
    site.cli("contacts", "import", str(tmp_path / "spring.csv"))
    site.process(dsn(MEMBER, "5.3.4", "552 5.3.4 Message too big for the mailbox", serial=1))
    site.process(dsn(MEMBER, "5.2.2", "552 5.2.2 Mailbox full", serial=2))
    [full] = [e for e in site.member()["history"] if e["reason"] == "mailboxfull"]
    [row] = json.loads(site.cli("resend-list", "spring", "--json"))
    assert (row["reason"], row["last_bounce_at"]) == ("mailboxfull", full["at"])
