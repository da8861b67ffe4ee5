"""User rules through the CLI: `parse --rules` and `explain --rules` on a real bounce."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bounceback.cli import app

Email = Callable[[str], bytes]
# Microsoft: "550 5.7.1 Unfortunately, messages from [IP] weren't sent ... block list".
MICROSOFT = "lhost-exim-54.eml"
RULES = """patterns = ["Unfortunately, messages from==>Hard"]

[[rules]]
id = "quota-text"
section = "body"
text = "Mailbox has exceeded the limit"
type = "soft"
bounce_type = "Quota"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def rows(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def microsoft(tmp_path: Path, email: Email) -> Path:
    path = tmp_path / MICROSOFT
    path.write_bytes(email(MICROSOFT))
    return path


def test_parse_with_rules_makes_the_block_hard_and_names_the_rule(
    tmp_path: Path, microsoft: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    (before,) = rows(run("parse", "--json", str(microsoft)))
    (after,) = rows(run("parse", "--json", "--rules", str(rules), str(microsoft)))
    assert (before["reason"], before["hardbounce"], before["rule"]) == (
        "blocked",
        False,
        "phrase:blocked",
    )
    assert (after["reason"], after["hardbounce"], after["permanent"], after["rule"]) == (
        "blocked",
        True,
        True,
        "user:pattern-1",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("patterns = [", "not valid TOML"),
        ('patterns = ["no arrow here"]', "pattern 1: expected 'text==>Hard'"),
        ('[[rules]]\ntext = "x"\ntype = "maybe"\n', "rule 1: type must be hard, soft or both"),
    ],
)
def test_a_bad_rules_file_is_a_clear_error_and_exit_2(
    tmp_path: Path, microsoft: Path, content: str, message: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(content, encoding="utf-8")
    for command in ("parse", "explain"):
        result = run(command, "--rules", str(rules), str(microsoft))
        assert result.exit_code == 2
        err = " ".join(result.stderr.split())
        assert "rules.toml" in err
        assert message in err
        assert result.stdout == ""


def test_a_missing_rules_file_exits_2(tmp_path: Path, microsoft: Path) -> None:
    result = run("parse", "--rules", str(tmp_path / "absent.toml"), str(microsoft))
    assert result.exit_code == 2
    assert "absent.toml" in result.stderr


def test_explain_names_the_deciding_rule(tmp_path: Path, microsoft: Path) -> None:
    out = " ".join(run("explain", str(microsoft)).stdout.split())
    assert "decided by rule phrase:blocked" in out
    assert "weren't sent" in out  # the evidence: the phrase that matched
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    out = " ".join(run("explain", "--rules", str(rules), str(microsoft)).stdout.split())
    assert "decided by rule user:pattern-1" in out
    assert "HARD bounce" in out
    # The built-in verdict the user's rule overrode is still shown.
    assert "phrase:blocked" in out


@pytest.mark.parametrize(
    ("name", "words"),
    [
        # Gmail's NXDOMAIN with a temporary 4.0.0: the DNS lookup failed for now.
        (
            "rhost-gsuite-05.eml",
            "context:hostunknown>networkerror: the SMTP stage or status code turned "
            "hostunknown into networkerror",
        ),
        # Postfix gave up on a host that answered "421 Service not available".
        ("lhost-postfix-49.eml", "queue:expired: the queue gave up or is still trying"),
        # au's "550 <address>: User unknown" to an ezweb.ne.jp address.
        ("rhost-gsuite-09.eml", "provider:au: au's own reply wording means it"),
    ],
)
def test_explain_says_why_context_or_provider_decided(
    tmp_path: Path, email: Email, name: str, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(email(name))
    # The panel wraps long lines between borders: drop the borders, squeeze the rest.
    out = " ".join(run("explain", str(path)).stdout.replace("│", " ").split())
    assert f"decided by rule {words}" in out
