"""No pattern of the parser or the classifier backtracks: each searches its worst inputs fast.

Every compiled pattern of bounceback.parse and bounceback.classify (module level, the
phrase tries and the patterns of the data files; tests/redos_shapes.py collects them)
is searched over the inputs built from its own repeats: 20,000 characters of what each
repeat takes, reached by the shortest route, with and without a character nothing
expects after them. A linear pattern does that in well under a millisecond; one that
backtracks takes seconds (quadratic) or forever (exponential). ``search`` is the test
because it is the worst case: a pattern used with ``match`` is anchored with ``^``.
"""

from __future__ import annotations

import re
import time

import pytest

from bounceback.ledger.deadline import TooSlow, cpu_deadline
from redos_shapes import attack_strings, shipped_patterns

LIMIT = 0.2  # CPU seconds for one search; a linear one takes microseconds
PATTERNS = shipped_patterns()


def slowest_search(pattern: re.Pattern[str]) -> tuple[float, str]:
    """The longest CPU time one attack string took, and a picture of that string."""
    worst = (0.0, "")
    for text in attack_strings(pattern):
        started = time.process_time()
        try:
            with cpu_deadline(5 * LIMIT):  # an exponential pattern must not hang the suite
                pattern.search(text)
        except TooSlow:
            return float("inf"), f"{text[:40]!r}...{text[-10:]!r}"
        took = time.process_time() - started
        if took > worst[0]:
            worst = (took, f"{text[:40]!r}...{text[-10:]!r} ({len(text)} chars)")
    return worst


def test_every_pattern_is_found() -> None:
    # Module-level patterns of every detector, plus the data files' (phrase rules,
    # providers, refinements) and the phrase index's trie.
    assert len(PATTERNS) > 200
    sources = {name.split(":")[0].rsplit(".", 1)[0] for name in PATTERNS}
    assert {"bounceback.parse.lhost.sendmail", "bounceback.parse.mime"} <= sources
    assert any(name.startswith("data phrase_rules") for name in PATTERNS)
    assert any(name.startswith("data provider_rules") for name in PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_pattern_backtracks(name: str) -> None:
    took, text = slowest_search(PATTERNS[name])
    assert took < LIMIT, f"{PATTERNS[name].pattern!r} took {took:.2f} s on {text}"


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+b",  # nested repeats: exponential
        r"^<?([^\s<>]*@[^\s<>]+?|[^\s<>]+)>?\.\.\.",  # the old Sendmail reply line: quadratic
        r"^\s*-{3,}\s*(.*?)\s*-{3,}\s*$",  # the old Sendmail section line: cubic
        r"(?m)^\s*error:",  # "\s*" across lines from every line start: quadratic
        r"\b[\w.-]*daemon\b",  # a run of word characters tried from every start
    ],
)
def test_the_check_catches_backtracking_patterns(pattern: str) -> None:
    took, _ = slowest_search(re.compile(pattern))
    assert took >= LIMIT
