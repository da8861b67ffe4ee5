"""The built-in pack as a list (every rule id a bounce can name is in it), overriding
one of its rules by id, and ignore rules (not a bounce)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from bounceback.classify import RuleError, classify, classify_each, loads
from bounceback.classify.pack import as_json, check_id, find, ids, pack, to_toml
from bounceback.parse import parse

Email = Callable[[str], bytes]
BLOCKED = "lhost-exim-54.eml"  # "... on our block list": phrase:blocked, soft, Sender


def test_every_rule_id_the_corpus_produces_is_listed(corpus_dir: Path) -> None:
    produced = {
        bounce.rule
        for path in sorted(corpus_dir.glob("*.eml"))
        for bounce in classify(parse(path.read_bytes()))
    }
    assert len(produced) > 30  # many stages decide somewhere in the corpus
    assert produced <= ids(), sorted(produced - ids())


def test_the_fixture_messages_rule_ids_are_listed(email: Email) -> None:
    folder = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
    produced = {b.rule for p in folder.glob("*.eml") for b in classify(parse(p.read_bytes()))}
    assert produced and produced <= ids(), sorted(produced - ids())


def test_an_entry_says_what_it_matches_and_decides() -> None:
    listed = [r.id for r in pack()]
    assert len(listed) == len(set(listed))
    blocked = find("phrase:blocked")
    assert blocked is not None and blocked.reason == "blocked" and blocked.hard == "soft"
    assert blocked.count > len(blocked.examples) > 0
    unknown = find("status:5.1.1")
    assert unknown is not None and (unknown.reason, unknown.hard) == ("userunknown", "hard")
    assert find("default") is not None and find("default").hard == "depends"  # type: ignore[union-attr]
    assert any(i.startswith("context:") for i in ids())
    assert any(i.startswith("provider:") for i in ids())


def test_the_exports_are_read_only_and_complete() -> None:
    doc = tomllib.loads(to_toml())
    assert doc["read_only"] is True
    assert [r["id"] for r in doc["builtin"]] == [r["id"] for r in as_json()]
    assert "READ-ONLY" in to_toml().splitlines()[1]
    with pytest.raises(RuleError):
        loads(to_toml())  # not a rules file: it can never be loaded as one


def test_a_user_rule_overrides_a_builtin_rule_by_id(email: Email) -> None:
    report = parse(email(BLOCKED))
    [plain] = classify(report)
    assert (plain.rule, plain.hardbounce) == ("phrase:blocked", False)
    rules = loads(
        '[[rules]]\nid = "blocked-is-dead"\nsection = "rule"\n'
        'text = "phrase:blocked"\ntype = "hard"\nbounce_type = "Invalid"\n'
    )
    [over] = classify(report, rules)
    assert (over.rule, over.hardbounce, over.bounce_type) == (
        "user:blocked-is-dead",
        True,
        "Invalid",
    )
    assert over.reason == "blocked"  # the reason stays what the evidence says
    # Another built-in rule's id does not match this record.
    other = loads('[[rules]]\nsection = "rule"\ntext = "status:5.1.1"\ntype = "hard"\n')
    assert classify(report, other)[0].rule == "phrase:blocked"


def test_an_override_names_a_rule_the_pack_has() -> None:
    with pytest.raises(RuleError, match="rule 1: 'phrase:nosuch' is not a built-in rule id"):
        loads('[[rules]]\nsection = "rule"\ntext = "phrase:nosuch"\ntype = "hard"\n')
    assert check_id("status:5.1.1") == "status:5.1.1"
    with pytest.raises(ValueError, match=r"e\.g\. phrase:"):
        check_id("phrase:nosuch")


def test_an_ignore_rule_drops_the_record(email: Email) -> None:
    report = parse(email(BLOCKED))
    by_text = loads('[[rules]]\nid = "not-ours"\ntext = "on our block list"\ntype = "ignore"\n')
    assert classify(report, by_text) == []
    assert classify_each(report, by_text) == [None] * len(report.records)
    by_id = loads('[[rules]]\nsection = "rule"\ntext = "phrase:blocked"\ntype = "ignore"\n')
    assert classify(report, by_id) == []
    # Ignore rules come first: a hard rule on the same text does not outrank them.
    both = loads(
        '[[rules]]\nid = "h"\ntext = "on our block list"\ntype = "hard"\n'
        '[[rules]]\nid = "i"\ntext = "on our block list"\ntype = "ignore"\n'
    )
    assert classify(report, both) == []
    # A rule that does not match leaves the bounce.
    miss = loads('[[rules]]\ntext = "NOT IN THIS MESSAGE"\ntype = "ignore"\n')
    assert len(classify(report, miss)) == 1


def test_patterns_cannot_ignore() -> None:
    with pytest.raises(RuleError, match="expected 'text==>Hard'"):
        loads('patterns = ["on our block list==>Ignore"]\n')


def test_the_fixed_steps_match_the_engine() -> None:
    # The message kinds the engine decides by alone: each has its listed id and reason.
    from bounceback.classify.engine import _KIND_REASONS

    for kind, name in _KIND_REASONS.items():
        listed = find(f"kind:{kind}")
        assert listed is not None and listed.reason == name
