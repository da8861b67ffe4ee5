"""classify: Report → Bounce, by user rules and the built-in rule pack."""

from bounceback.classify.engine import Decision, classify, decide_reason
from bounceback.classify.rules import Rule, RuleError, RuleSet, load, loads

__all__ = ["Decision", "Rule", "RuleError", "RuleSet", "classify", "decide_reason", "load", "loads"]
