"""User rules: both forms, their order, the TOML file, and the errors a bad file gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bounceback.classify import RuleError, classify, load, loads, parse_pattern
from bounceback.model import Bounce, DeliveryRecord, Kind, Report
from bounceback.parse import parse

Email = Callable[[str], bytes]
# Gmail: "550-5.2.1 The email account that you tried to reach is disabled."
DISABLED = "rhost-google-01.eml"


def report(diagnostic: str = "", body: str = "", subject: str = "", from_: str = "") -> Report:
    rec = DeliveryRecord(
        recipient="kijitora@example.jp", action="failed", status="5.0.0", diagnostic=diagnostic
    )
    return Report(
        kind=Kind.BOUNCE,
        detector="test",
        records=[rec],
        subject=subject,
        from_=from_,
        to="bounces@example.com",
        body=body,
    )


def one(rep: Report, rules_toml: str) -> Bounce:
    return classify(rep, loads(rules_toml))[0]


def test_gmail_disabled_account_is_soft_until_a_hard_body_rule_matches(email: Email) -> None:
    rep = parse(email(DISABLED))
    assert classify(rep)[0].hardbounce is False
    rules = """
[[rules]]
id = "disabled-is-dead"
section = "body"
text = "tried to reach is disabled"
type = "hard"
bounce_type = "Invalid"
"""
    bounce = classify(rep, loads(rules))[0]
    assert (bounce.hardbounce, bounce.permanent) == (True, True)
    assert (bounce.rule, bounce.bounce_type, bounce.reason) == (
        "user:disabled-is-dead",
        "Invalid",
        "suspend",
    )


def test_hard_rules_are_tried_first_then_soft_then_both() -> None:
    rules = """
[[rules]]
section = "body"
text = "Mailbox"
type = "both"

[[rules]]
section = "body"
text = "Mailbox is full"
type = "soft"

[[rules]]
section = "body"
text = "full"
type = "hard"
"""
    bounce = one(report("552 Mailbox is full"), rules)
    assert (bounce.rule, bounce.hardbounce) == ("user:rule-3", True)
    # Without the hard rule, soft wins over the earlier "both" rule.
    soft_first = rules.rsplit("[[rules]]", 1)[0]
    assert one(report("552 Mailbox is full"), soft_first).rule == "user:rule-2"


def test_a_both_match_is_soft() -> None:
    rules = '[[rules]]\nsection = "body"\ntext = "No such user"\ntype = "both"\n'
    bounce = one(report("550 No such user"), rules)
    assert (bounce.rule, bounce.hardbounce, bounce.permanent) == ("user:rule-1", False, False)
    assert bounce.reason == classify(report("550 No such user"))[0].reason  # evidence's stays


def test_section_text_is_case_sensitive() -> None:
    rules = '[[rules]]\nsection = "body"\ntext = "mailbox is full"\ntype = "hard"\n'
    assert one(report("552 Mailbox is full"), rules).rule == "phrase:mailboxfull"
    assert one(report("552 mailbox is full"), rules).rule == "user:rule-1"


def test_each_section_looks_at_its_own_text() -> None:
    rep = report(
        "550 5.1.1 unknown",
        body="The following address failed",
        subject="Undeliverable: offer",
        from_="postmaster@outlook.example",
    )
    for section, text in (
        ("body", "address failed"),
        ("body", "5.1.1 unknown"),  # the diagnostic counts as body text too
        ("subject", "Undeliverable"),
        ("from", "postmaster@outlook"),
        ("to", "bounces@example.com"),
    ):
        rules = f'[[rules]]\nsection = "{section}"\ntext = "{text}"\ntype = "soft"\n'
        assert one(rep, rules).rule == "user:rule-1", section
    rules = '[[rules]]\nsection = "subject"\ntext = "address failed"\ntype = "soft"\n'
    assert one(rep, rules).rule.startswith("user:") is False


def test_text_wrapped_over_lines_still_matches() -> None:
    rules = '[[rules]]\nsection = "body"\ntext = "Mailbox has exceeded the limit"\ntype = "soft"\n'
    rep = report(body="Delivery failed:\n  Mailbox has exceeded\n    the limit\n")
    assert one(rep, rules).rule == "user:rule-1"


def test_pattern_lines() -> None:
    rule = parse_pattern("550 5.7.1 Unfortunately, messages from==>Hard", 3)
    assert (rule.id, rule.section, rule.type) == ("pattern-3", "diagnostic", "hard")
    assert rule.text == "550 5.7.1 Unfortunately, messages from"
    assert parse_pattern("Over quota ==> soft").type == "soft"
    for bad in ("no arrow", "text==>Maybe", "==>Hard"):
        with pytest.raises(RuleError):
            parse_pattern(bad)


def test_patterns_match_the_diagnostic_only() -> None:
    rules = 'patterns = ["Over quota==>Hard"]\n'
    assert one(report("552 Over quota"), rules).rule == "user:pattern-1"
    assert one(report("552 full", body="Over quota"), rules).rule.startswith("user:") is False


def test_the_design_example_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """patterns = [
  "550 5.7.1 Unfortunately, messages from==>Hard",
]

[[rules]]
id = "quota-text"
section = "body"
text = "Mailbox has exceeded the limit"
type = "soft"
bounce_type = "Quota"
""",
        encoding="utf-8",
    )
    rules = load(path)
    assert [(r.id, r.type) for r in rules.rules] == [("pattern-1", "hard"), ("quota-text", "soft")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("patterns = [", "not valid TOML"),
        ('patterns = "x==>Hard"', "patterns must be a list"),
        ("patterns = [1]", "pattern 1: must be a string"),
        ('patterns = ["x==>Later"]', "pattern 1: expected"),
        ('[[rules]]\ntext = "x"\n', "rule 1: type must be hard, soft or both"),
        ('[[rules]]\ntext = "x"\ntype = "never"\n', "rule 1: type must be hard, soft or both"),
        ('[[rules]]\ntype = "hard"\n', "rule 1: text is missing or empty"),
        ('[[rules]]\ntext = "x"\ntype = "hard"\nsection = "header"\n', "rule 1: section must be"),
        (f'[[rules]]\ntext = "{"x" * 101}"\ntype = "hard"\n', "101 characters, the limit is 100"),
        ('[[rules]]\ntext = "x"\ntype = "hard"\nbounce_type = "Gone"\n', "bounce_type 'Gone'"),
        ('[[rules]]\ntext = "x"\ntype = "hard"\ncolour = "red"\n', "unknown keys colour"),
        ('pattern = ["x==>Hard"]\n', "unknown top-level keys pattern"),
        (
            '[[rules]]\nid = "a"\ntext = "x"\ntype = "hard"\n[[rules]]\nid = "a"\ntext = "y"\n'
            'type = "soft"\n',
            "duplicate rule ids: a",
        ),
    ],
)
def test_bad_rules_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        loads(text)


def test_a_missing_file_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read the rules file"):
        load(tmp_path / "nope.toml")


def test_rules_survive_pickling_to_a_parse_child() -> None:
    """The deadline's child processes get the rules pickled; the compiled build's frozen
    classes must come back whole too."""
    import pickle

    from bounceback.classify.rules import loads

    rules = loads(
        'patterns = ["550 5.7.1 Unfortunately==>Hard"]\n'
        '[[rules]]\nsection = "body"\ntext = "over quota"\ntype = "soft"\nbounce_type = "Quota"\n'
    )
    copy = pickle.loads(pickle.dumps(rules))
    assert copy == rules and [r.id for r in copy.rules] == [r.id for r in rules.rules]
