"""The built-in rule pack is data: every name in it must be one the engine knows."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

from bounceback.classify import builtin
from bounceback.classify.reasons import BOUNCE_TYPES, REASONS

DATA = resources.files("bounceback.classify").joinpath("data")


def test_every_reason_file_names_a_known_reason() -> None:
    names = [e.name for e in DATA.joinpath("reasons").iterdir() if e.name.endswith(".toml")]
    assert len(names) >= 25
    unknown = {n[: -len(".toml")] for n in names} - set(REASONS)
    assert not unknown


def test_status_table_maps_only_to_known_reasons() -> None:
    table = builtin.status_table()
    code = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
    assert all(code.match(c) for c in table.codes)
    used = {*table.codes.values(), *table.subjects.values(), *table.reply_codes.values()}
    for refinement in table.refinements:
        used |= {*refinement.reasons, refinement.to}
    # "status-code": the reason the record's own status code stands for.
    assert used <= set(REASONS) | {"undefined", "status-code"}
    assert table.decisive <= set(table.codes)
    assert all(re.fullmatch(r"[245]\d\d", c) for c in table.reply_codes)


def test_phrases_are_lower_case_squeezed_and_not_repeated() -> None:
    for entry in DATA.joinpath("reasons").iterdir():
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        tiers = (data, data.get("early", {}), data.get("address", {}), data.get("late", {}))
        for table in tiers:
            phrases = table.get("phrases", [])
            assert len(phrases) == len(set(phrases)), entry.name
            for phrase in phrases:
                assert phrase == " ".join(phrase.lower().split()), (entry.name, phrase)
            for pattern in table.get("patterns", []):
                # Matched against lower-case text: no capitals outside escapes like \S.
                bare = re.sub(r"\\.", "", pattern)
                assert bare == bare.lower(), (entry.name, pattern)
                re.compile(pattern)


def test_rules_are_ordered_early_normal_late() -> None:
    rules = builtin.phrase_rules()
    priorities = [r.priority for r in rules]
    assert priorities == sorted(priorities)
    assert rules[0].priority < 0  # early wording first
    assert rules[-1].priority >= builtin.LATE_OFFSET  # generic wording last


def test_trie_regex_matches_exactly_its_phrases() -> None:
    phrases = ["mailbox full", "mailbox is full", "mail", "quota", "over quota", "a.b (c)"]
    regex = re.compile(builtin.trie_regex(phrases))
    for phrase in phrases:
        assert regex.fullmatch(phrase), phrase
    for other in ("mailbox", "mailbox is", "quot", "over", "a-b (c)", ""):
        assert not regex.fullmatch(other), other


def test_every_reason_has_a_hold_category() -> None:
    for reason in REASONS.values():
        assert reason.bounce_type in BOUNCE_TYPES or reason.name == "delivered"
        assert reason.status == "" or re.match(r"^[245]\.\d+\.\d+$", reason.status)


def test_provider_rules_name_known_reasons_and_match_lower_case_text() -> None:
    rules = builtin.provider_rules()
    assert rules
    for rule in rules:
        assert rule.reason in REASONS, rule.name
        assert rule.domains and all(d == d.lower() and "." in d for d in rule.domains)
        bare = re.sub(r"\\.", "", rule.regex.pattern)
        assert bare == bare.lower(), rule.name


def test_refinements_name_known_tiers() -> None:
    for refinement in builtin.status_table().refinements:
        assert refinement.tiers | refinement.unless_tiers <= {"early", "address", "late"}
