"""`bounceback parse` and `bounceback explain` on real bounces, through the Typer app."""

from __future__ import annotations

import json
import mailbox
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.cli.parse_cmd import JSON_KEYS, short_label

REQUIRED_KEYS = {
    "file",
    "recipient",
    "action",
    "status",
    "reply_code",
    "reason",
    "hardbounce",
    "permanent",
    "bounce_type",
    "diagnostic",
    "remote_mta",
    "original_message_id",
    "bounceback_id",
    "kind",
    "detector",
    "rule",
}
POSTFIX = "lhost-postfix-02.eml"  # a Postfix DSN for two unknown users
VACATION = "rfc3834-01.eml"  # an auto-reply: not a bounce
DISABLED = "rhost-google-01.eml"  # Gmail: "The email account that you tried to reach is disabled"

Email = Callable[[str], bytes]


def run(*args: str, stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_json_has_every_key_and_one_line_per_failed_recipient(tmp_path: Path, email: Email) -> None:
    path = write(tmp_path, POSTFIX, email(POSTFIX))
    result = run("parse", "--json", str(path))
    assert result.exit_code == 0
    rows = json_lines(result.stdout)
    assert [r["recipient"] for r in rows] == ["filtered@example.co.jp", "userunknown@example.co.jp"]
    for row in rows:
        assert REQUIRED_KEYS <= set(JSON_KEYS) <= row.keys()
        assert row["file"] == str(path)
        assert row["kind"] == "bounce"
        assert row["action"] == "failed"
        assert row["reply_code"] == "550"
        assert row["remote_mta"] == "mx.example.co.jp"
        assert row["permanent"] is True
        assert row["rule"]
    assert rows[1]["status"] == "5.1.1"
    assert rows[1]["reason"] == "userunknown"
    assert rows[1]["hardbounce"] is True
    assert rows[1]["bounce_type"] == "Invalid"


def test_bounceback_id_of_the_returned_message_is_printed(tmp_path: Path, email: Email) -> None:
    stamped = email(POSTFIX).replace(
        b"Subject: test\nFrom: kijitora@example.jp\n",
        b"Subject: test\nFrom: kijitora@example.jp\nX-Bounceback-ID: bb-123\n"
        b"Message-ID: <sent-1@example.jp>\n",
    )
    assert stamped != email(POSTFIX)
    rows = json_lines(run("parse", "--json", str(write(tmp_path, "s.eml", stamped))).stdout)
    assert {r["bounceback_id"] for r in rows} == {"bb-123"}
    assert {r["original_message_id"] for r in rows} == {"<sent-1@example.jp>"}


def test_non_bounces_print_nothing_unless_all(tmp_path: Path) -> None:
    path = write(
        tmp_path, "hello.eml", b"From: a@example.org\nTo: b@example.org\nSubject: hi\n\nhi\n"
    )
    assert run("parse", "--json", str(path)).stdout == ""
    rows = json_lines(run("parse", "--json", "--all", str(path)).stdout)
    assert len(rows) == 1
    assert rows[0]["kind"] == "not_bounce"
    assert rows[0]["recipient"] is None
    assert set(rows[0]) == set(JSON_KEYS)  # one schema for every line


def test_unreadable_message_is_reported_with_all_and_the_run_goes_on(
    tmp_path: Path, email: Email
) -> None:
    write(tmp_path, "a-empty.eml", b"")
    write(tmp_path, "b-postfix.eml", email(POSTFIX))
    plain = json_lines(run("parse", "--json", str(tmp_path)).stdout)
    assert {r["file"] for r in plain} == {str(tmp_path / "b-postfix.eml")}
    rows = json_lines(run("parse", "--json", "--all", str(tmp_path)).stdout)
    first = rows[0]
    assert first["file"] == str(tmp_path / "a-empty.eml")
    assert first["kind"] == "unparseable"
    assert first["error"] == "empty message"
    assert len(rows) == 3


def test_folder_maildir_mbox_and_stdin(tmp_path: Path, email: Email) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder, POSTFIX, email(POSTFIX))
    write(folder, DISABLED, email(DISABLED))
    write(folder, "README.md", b"# not a message\n")

    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(email(DISABLED))

    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add(email(POSTFIX))
    box.add(email(DISABLED))
    box.flush()

    args = [
        "parse",
        "--json",
        str(folder),
        str(tmp_path / "Maildir"),
        str(tmp_path / "bounces.mbox"),
    ]
    rows = json_lines(run(*args, "-", stdin=email(DISABLED)).stdout)
    files = [r["file"] for r in rows]
    mbox = str(tmp_path / "bounces.mbox")
    assert files[:3] == [str(folder / POSTFIX)] * 2 + [str(folder / DISABLED)]
    assert files[3].startswith(str(tmp_path / "Maildir" / "new") + "/")
    assert files[4:] == [f"{mbox}:1", f"{mbox}:1", f"{mbox}:2", "-"]
    assert rows[-1]["recipient"] == "shironeko@example.ne.jp"
    assert rows[-1]["reason"] == "suspend"
    assert rows[-1]["hardbounce"] is False


def test_missing_path_is_an_error_but_others_still_print(tmp_path: Path, email: Email) -> None:
    path = write(tmp_path, POSTFIX, email(POSTFIX))
    result = run("parse", "--json", str(tmp_path / "nope.eml"), str(path))
    assert result.exit_code == 1
    assert len(json_lines(result.stdout)) == 2
    assert "nope.eml: no such file or folder" in result.stderr


def test_user_rules_file_overrides_the_built_in_verdict(tmp_path: Path, email: Email) -> None:
    path = write(tmp_path, DISABLED, email(DISABLED))
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'patterns = ["The email account that you tried to reach is disabled==>Hard"]\n'
    )
    before = json_lines(run("parse", "--json", str(path)).stdout)
    after = json_lines(run("parse", "--json", "--rules", str(rules), str(path)).stdout)
    assert before[0]["hardbounce"] is False
    assert after[0]["hardbounce"] is True
    assert after[0]["rule"].startswith("user:")
    assert after[0]["reason"] == before[0]["reason"] == "suspend"


def test_bad_rules_file_exits_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("patterns = [")
    result = run("parse", "--rules", str(rules), str(tmp_path))
    assert result.exit_code == 2
    assert "error" in result.stderr


def test_table_lists_recipients_and_a_summary(tmp_path: Path, email: Email) -> None:
    write(tmp_path, POSTFIX, email(POSTFIX))
    write(tmp_path, VACATION, email(VACATION))
    write(tmp_path, "z-binary.eml", b"\x00\x01\xfe\xff" * 4096)
    result = run("parse", str(tmp_path))
    assert result.exit_code == 0
    assert "userunknown@example.co.jp" in result.stdout
    assert "userunknown" in result.stdout
    assert "z-binary.eml" not in result.stdout
    assert "3 messages, 3 records, 2 hard, 1 unparseable, 0 not bounces" in result.stdout
    shown = run("parse", "--all", str(tmp_path)).stdout
    assert "z-binary.eml" in shown
    assert "binary data" in shown


def test_short_label_keeps_the_file_name() -> None:
    assert short_label("samples/x.eml") == "samples/x.eml"
    assert short_label("/a/very/long/path/to/the/bounces/lhost-postfix-01.eml", 20).endswith(
        "postfix-01.eml"
    )
    assert len(short_label("/" + "x" * 50, 20)) == 20


def test_explain_says_what_was_found_and_which_rule_decided(tmp_path: Path, email: Email) -> None:
    path = write(tmp_path, POSTFIX, email(POSTFIX))
    result = run("explain", str(path))
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    assert "userunknown@example.co.jp" in out
    assert "detector: " in out
    assert "decided by rule" in out
    assert "HARD bounce" in out
    assert "message/delivery-status" in out  # where: the MIME structure
    assert "3 blocks of DSN fields" in out  # one per-message block, one per recipient


def test_explain_of_a_non_bounce_and_of_a_missing_file(tmp_path: Path, email: Email) -> None:
    path = write(tmp_path, VACATION, email(VACATION))
    assert "autoreply" in run("explain", str(path)).stdout
    missing = run("explain", str(tmp_path / "nope.eml"))
    assert missing.exit_code == 1
    assert "no such file" in missing.stdout


@pytest.mark.parametrize("args", [["parse", "--help"], ["explain", "--help"]])
def test_help(args: list[str]) -> None:
    assert run(*args).exit_code == 0


def test_the_shipped_samples_all_parse() -> None:
    samples = Path(__file__).resolve().parent.parent / "samples"
    rows = json_lines(run("parse", "--json", "--all", str(samples)).stdout)
    assert rows
    assert all(r["kind"] != "unparseable" for r in rows)
    assert all(r["recipient"] for r in rows)


def test_a_crashing_detector_becomes_an_unparseable_row(
    tmp_path: Path, email: Email, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bounceback.cli.parse_cmd as cmd

    def boom(data: bytes) -> None:
        raise RuntimeError("detector bug")

    monkeypatch.setattr(cmd, "parse", boom)
    path = write(tmp_path, POSTFIX, email(POSTFIX))
    rows = json_lines(run("parse", "--json", "--all", str(path)).stdout)
    assert rows[0]["kind"] == "unparseable"
    assert "detector bug" in rows[0]["error"]


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("script", ["run.sh", ".ci/run"])
def test_shell_entry_points_are_valid_bash(script: str) -> None:
    proc = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_run_sh_rejects_an_unknown_command_without_setting_anything_up() -> None:
    proc = subprocess.run(
        ["bash", str(ROOT / "run.sh"), "nonsense"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "usage: ./run.sh demo|test|setup" in proc.stderr


def test_explain_names_the_user_rule_and_the_verdict_it_replaced(
    tmp_path: Path, email: Email
) -> None:
    path = write(tmp_path, DISABLED, email(DISABLED))
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'patterns = ["The email account that you tried to reach is disabled==>Hard"]\n'
    )
    out = " ".join(run("explain", "--rules", str(rules), str(path)).stdout.split())
    assert "your rule" in out
    assert "built-in verdict before your rule: suspend" in out
    assert "HARD bounce" in out
