"""The project's seed examples (issue 2, section 3), end to end: DSN bytes → parse → classify.

Each diagnostic is wrapped in a minimal RFC 3464 report, the form an MTA returns it
in, so the test covers what a real bounce goes through.
"""

from __future__ import annotations

import pytest

from bounceback.classify import classify, from_patterns, loads
from bounceback.model import Bounce
from bounceback.parse import parse
from support.samples import MICROSOFT_BLOCK_LIST, SEED_EXAMPLES
from support.samples import minimal_dsn as dsn

MICROSOFT = MICROSOFT_BLOCK_LIST


def one(diagnostic: str, rules_toml: str | None = None) -> Bounce:
    rules = loads(rules_toml) if rules_toml is not None else None
    bounces = classify(parse(dsn(diagnostic)), rules)
    assert len(bounces) == 1
    return bounces[0]


@pytest.mark.parametrize(("diagnostic", "hard", "reason", "bounce_type"), SEED_EXAMPLES)
def test_seed_examples_come_out_as_the_issue_shows(
    diagnostic: str, hard: bool, reason: str, bounce_type: str
) -> None:
    bounce = one(diagnostic)
    assert (bounce.hardbounce, bounce.reason, bounce.bounce_type) == (hard, reason, bounce_type)
    assert bounce.rule.startswith("phrase:")  # decided by the built-in wording


def test_microsoft_block_becomes_hard_with_the_users_pattern_rule() -> None:
    rules = 'patterns = ["550 5.7.1 Unfortunately, messages from==>Hard"]\n'
    bounce = one(MICROSOFT, rules)
    assert bounce.hardbounce is True
    assert bounce.permanent is True
    assert bounce.rule == "user:pattern-1"
    # The rule decides hard or soft; the reason stays what the evidence says, but a
    # type the policy never acts on (Sender) gives way: Hard is the user's decision
    # that the address is dead, and it must act as every hard bounce does.
    assert (bounce.reason, bounce.bounce_type) == ("blocked", "Invalid")


def test_the_pattern_rule_leaves_other_bounces_alone() -> None:
    rules = from_patterns(["550 5.7.1 Unfortunately, messages from==>Hard"])
    bounce = classify(parse(dsn("552 5.2.2 Mailbox has exceeded the limit")), rules)[0]
    assert (bounce.hardbounce, bounce.rule) == (False, "phrase:mailboxfull")


def test_seed_statuses_come_from_the_diagnostic_or_the_reason() -> None:
    assert one("552 5.2.2 Mailbox has exceeded the limit").status == "5.2.2"
    # No code in the text: the status is the one the reason stands for.
    assert one("550 No such recipient").status == "5.1.1"
    assert one("domain name does not exist").status == "5.1.2"
