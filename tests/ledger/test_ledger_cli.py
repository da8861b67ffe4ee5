"""The ledger commands end to end, with BOUNCEBACK_DATABASE_URL, on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger.db import HEAD
from support.samples import dsn


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # no stray ./bounceback.toml
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env={"BOUNCEBACK_DATABASE_URL": db_url})
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.stdout

    return invoke


def test_the_whole_flow(cli: Any, tmp_path: Path) -> None:
    assert f"revision {HEAD}" in cli("db", "upgrade")
    (tmp_path / "contacts.csv").write_text(
        "email,name,kind,campaign\n"
        "dead@example.org,Dead,contact,spring\n"
        "full@example.org,Full,lead,spring\n"
        "oops,Broken,contact,spring\n"
    )
    out = json.loads(cli("contacts", "import", str(tmp_path / "contacts.csv"), "--json", code=1))
    assert out["imported"] == 2 and out["errors"][0].startswith("line 4")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(dsn("dead@example.org", "5.1.1", serial=1))
    (inbox / "2.eml").write_bytes(
        dsn("full@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=2)
    )
    (inbox / "3.eml").write_bytes(dsn("stranger@example.org", "5.1.1", serial=3))
    (inbox / "4.eml").write_bytes(b"Subject: lunch?\r\n\r\nnoon\r\n")
    (inbox / "5.eml").write_bytes(b"\x00\x01\x02")
    summary = json.loads(cli("process", str(inbox), "--json"))
    expected = {"processed": 5, "matched": 2, "unmatched": 1, "ignored": 1, "quarantined": 1}
    assert {k: summary[k] for k in expected} == expected and summary["duplicates"] == 0
    again = json.loads(cli("process", str(inbox), "--json"))
    assert again["duplicates"] == 5 and again["matched"] == 0

    show = json.loads(cli("contacts", "show", "dead@example.org", "--json"))
    assert show["bounced"] and show["bounced_address"] == "dead@example.org"
    assert show["history"][0]["reason"] == "userunknown"
    cli("contacts", "show", "nobody@example.org", code=1)

    cli("suppression", "check", "dead@example.org")
    cli("suppression", "check", "full@example.org", code=1)
    cli("suppression", "add", "full@example.org", "--reason", "asked")
    assert {r["email"] for r in json.loads(cli("suppression", "list", "--json"))} == {
        "dead@example.org",
        "full@example.org",
    }
    cli("suppression", "remove", "full@example.org")
    cli("suppression", "remove", "full@example.org", code=1)

    holds = json.loads(cli("holds", "list", "--json"))
    assert [h["email"] for h in holds] == ["dead@example.org"]
    assert json.loads(cli("holds", "list", "--type", "Quota", "--json")) == []
    stats = json.loads(cli("campaigns", "stats", "spring", "--json"))
    assert (stats["sent"], stats["hard_bounces"], stats["soft_bounces"]) == (2, 1, 1)
    resend = json.loads(cli("resend-list", "spring", "--json"))
    assert [r["email"] for r in resend] == ["full@example.org"]
    cli("campaigns", "add", "autumn", "--status", "draft")
    cli("campaigns", "set-status", "autumn", "closed")
    assert json.loads(cli("campaigns", "stats", "autumn", "--json"))["closed"] is True
    cli("campaigns", "stats", "winter", code=2)

    assert len(json.loads(cli("unmatched", "--json"))) == 1
    assert len(json.loads(cli("quarantine", "--json"))) == 1
    retried = json.loads(cli("quarantine", "--retry", "--json"))
    assert (retried["processed"], retried["quarantined"]) == (1, 1)  # still garbage
    assert len(json.loads(cli("quarantine", "--json"))) == 1
    assert json.loads(cli("health", "--json"))["warnings"] == []

    cli("contacts", "unhold", "dead@example.org")
    assert not json.loads(cli("contacts", "show", "dead@example.org", "--json"))["on_hold"]
    cli("contacts", "set-email", "full@example.org", "full2@example.org")
    assert json.loads(cli("contacts", "show", "full2@example.org", "--json"))["name"] == "Full"


def test_replay_and_undo_commands(cli: Any, tmp_path: Path) -> None:
    cli("contacts", "add", "full@example.org")
    message = tmp_path / "full.eml"
    message.write_bytes(dsn("full@example.org", "5.2.2", "552 5.2.2 Mailbox full"))
    cli("process", str(message), "--json")
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nsection = "body"\ntext = "Mailbox full"\ntype = "hard"\n')
    preview = json.loads(cli("replay", "--rules", str(rules), "--dry-run", "--json"))
    assert preview["events_changed"] == 1 and preview["dry_run"]
    cli("suppression", "check", "full@example.org", code=1)
    cli("replay", "--rules", str(rules), "--since", "1d")
    cli("suppression", "check", "full@example.org")
    undone = json.loads(cli("undo", "--since", "1d", "--until", "2099-01-01", "--json"))
    assert undone["events_changed"] == 1
    cli("suppression", "check", "full@example.org", code=1)
    cli("undo", "--since", "yesterday", "--until", "now", code=2)


def test_sends_import_command(cli: Any, tmp_path: Path) -> None:
    sends = tmp_path / "sends.csv"
    sends.write_text("email,campaign,message_id\na@example.org,spring,<1@s>\n,spring,<2@s>\n")
    out = json.loads(cli("sends", "import", str(sends), "--json", code=1))
    assert out["imported"] == 1 and "3" in out["errors"][0]


def test_thresholds_command(cli: Any) -> None:
    assert json.loads(cli("holds", "thresholds", "--json"))["Quota"] == 3
    changed = json.loads(
        cli("holds", "thresholds", "--set", "Quota=5", "--set", "Away=0", "--json")
    )
    assert (changed["Quota"], changed["Away"]) == (5, None)
    assert json.loads(cli("holds", "thresholds", "--json"))["Quota"] == 5
    cli("holds", "thresholds", "--set", "Nonsense=2", code=2)


def test_two_processes_on_the_same_mail_apply_it_once(
    db_url: str, tmp_path: Path, cli: Any
) -> None:
    import os
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(60):
        cli("contacts", "add", f"u{n}@example.org")
        text = "552 5.2.2 Mailbox full"
        (inbox / f"{n}.eml").write_bytes(dsn(f"u{n}@example.org", "5.2.2", text, serial=n))
    env = {**os.environ, "BOUNCEBACK_DATABASE_URL": db_url}
    cli_main = "from bounceback.cli import app; app()"
    command = [sys.executable, "-c", cli_main, "process", str(inbox), "--json"]
    runs = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [json.loads(run.communicate(timeout=120)[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sum(r["matched"] for r in results) == 60
    assert sum(r["duplicates"] for r in results) == 60
    show = json.loads(cli("contacts", "show", "u5@example.org", "--json"))
    assert show["bounce_counts"] == {"Quota": 1} and len(show["history"]) == 1
