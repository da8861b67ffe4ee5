"""The phrase index must decide exactly as trying every phrase rule in turn would."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bounceback import parse
from bounceback.classify import builtin
from bounceback.classify.builtin import squeezed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"


def _every_rule(text: str) -> tuple[builtin.PhraseRule, str] | None:
    for rule in builtin.phrase_rules():
        found = rule.search(text)
        if found:
            return rule, found
    return None


def _diagnostics() -> list[str]:
    texts = []
    for path in sorted(FIXTURES.iterdir()):
        for record in parse(path.read_bytes()).records:
            if text := squeezed(record.diagnostic):
                texts.append(text)
    return texts


def test_real_diagnostics_get_the_same_rule_and_evidence() -> None:
    texts = _diagnostics()
    assert len(texts) > 100
    index = builtin.phrase_index()
    decided = 0
    for text in texts:
        expected = _every_rule(text)
        assert index.first(text) == expected, text
        decided += expected is not None
    assert decided > 50


def test_glued_and_overlapping_phrases_get_the_same_rule() -> None:
    # Phrases cut, glued to other words and to each other: keys inside longer words,
    # keys overlapping at word edges, several rules' keys in one word.
    phrases = [p for rule in builtin.phrase_rules() for p in rule.phrases]
    texts = _diagnostics()
    rnd = random.Random(7)
    index = builtin.phrase_index()
    for _ in range(5000):
        parts = []
        for _ in range(rnd.randint(1, 4)):
            pick = rnd.random()
            if pick < 0.4:
                parts.append(rnd.choice(phrases))
            elif pick < 0.7:
                text = rnd.choice(texts)
                start = rnd.randrange(len(text))
                parts.append(text[start : start + rnd.randint(1, 60)])
            else:
                parts.append(rnd.choice(phrases)[rnd.randint(0, 3) :])
        text = rnd.choice(["", " ", "x", "-"]).join(parts)
        assert index.first(text) == _every_rule(text), text


def test_a_key_inside_a_longer_word_still_counts() -> None:
    # "blacklisted" holds "listed"; "xxuser unknownyy" holds "user unknown".
    index = builtin.phrase_index()
    for text in ("ip blacklisted by spamhaus", "xxuser unknownyy", "mailboxfull"):
        assert index.first(text) == _every_rule(text)
    assert index.first("xxuser unknownyy") is not None


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"aup#in?-13[1-4]0\b", "aup#i"),
        (r"^\d{1,3}$", ""),
        (r"relay(?:ing)? (?:mail )?denied", "denied"),
        (r"(?<!not )listed (?:in|on)\b", "listed "),
        (r"a|bcdef", ""),
        (r"(?i)hello", ""),
        (r"[\]abc]xyz", "xyz"),
        (r"[]a]xyz", "xyz"),
        (r"ab{1,3}cde", "cde"),
        (r"abcd+e", "abcd"),
        (r"abc\.def", "abc"),
        (r"\x41bcd", ""),
        (r"ab{c|de}xyz", ""),
        (r"(a)b\1xyz", ""),
    ],
)
def test_pattern_literal_is_text_every_match_contains(pattern: str, literal: str) -> None:
    assert builtin._pattern_literal(re.compile(pattern)) == literal
