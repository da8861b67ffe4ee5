"""A decided bounce's rule id (``Bounce.rule``, ``events.rule``) taken apart once.

The id reads ``KIND:DETAIL``: ``status:5.1.1``, ``phrase:userunknown``, ``user:db-7``
(a rule stored in the ledger), ``user:my-rule`` (one from a rules file), ``default:``.
"""

from __future__ import annotations

from dataclasses import dataclass

USER = "user"  # the kind of a person's rule (a file's or the ledger's)
STORED_PREFIX = "db-"  # a rule stored in the ledger: user:db-<row id>


@dataclass(frozen=True, slots=True)
class RuleRef:
    kind: str
    detail: str

    @classmethod
    def parse(cls, rule: str) -> RuleRef:
        kind, _, detail = rule.partition(":")
        return cls(kind, detail)

    @classmethod
    def user(cls, rule_id: str) -> RuleRef:
        return cls(USER, rule_id)

    @property
    def is_user(self) -> bool:
        """A person's rule decided (not a built-in one)."""
        return self.kind == USER

    @property
    def user_rule(self) -> str | None:
        """The person's rule id (``db-7``, ``my-rule``), None for a built-in rule."""
        return self.detail if self.is_user else None

    @property
    def stored_id(self) -> int | None:
        """The ledger row id of a stored rule (``user:db-7`` is 7), else None."""
        number = self.detail.removeprefix(STORED_PREFIX) if self.is_user else ""
        if number == self.detail or not number.isdigit():
            return None
        return int(number)

    def __str__(self) -> str:
        return f"{self.kind}:{self.detail}"
