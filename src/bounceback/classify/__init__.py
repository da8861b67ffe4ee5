"""classify: Report → Bounce, by user rules and the built-in rule pack."""

from bounceback.classify.decision import Decision
from bounceback.classify.engine import classify, classify_each, classify_record, decide_reason
from bounceback.classify.rules import (
    Rule,
    RuleError,
    RuleSet,
    combine,
    from_patterns,
    load,
    loads,
    make_rule,
    parse_pattern,
)

__all__ = [
    "Decision",
    "Rule",
    "RuleError",
    "RuleSet",
    "classify",
    "classify_each",
    "classify_record",
    "combine",
    "decide_reason",
    "from_patterns",
    "load",
    "loads",
    "make_rule",
    "parse_pattern",
]
