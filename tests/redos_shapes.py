"""Worst-case inputs for a regex, built from its own parse tree; and every pattern we ship.

A backtracking regex is slow when one of its repeats can take a long run of characters
and what follows it fails: it retries the run at every length, from every start. So for
each repeat in a pattern, ``attack_strings`` builds the shortest text that reaches it,
then a long run of each character (or unit) the repeat accepts, with and without a
character after it that nothing expects. A linear pattern searches each in microseconds;
a quadratic one takes seconds at 20,000 characters.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import re._constants as C
import re._parser as P
from collections.abc import Iterable, Iterator
from typing import Any

# Characters a run is made of when a repeat takes a class: separators the formats use,
# address and host characters, digits, letters and spaces.
CANDIDATES = "a5.-@ \t\n<>\"'():;=,/_[]#*+!?~\\%&|x"
KILL = "\x00"


def _in_class(ch: str, items: list[tuple[Any, Any]], flags: int) -> bool:
    o = ord(ch)
    ignore = bool(flags & re.I)
    negate = False
    hit = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            hit |= o == av or (ignore and ch.lower() == chr(av).lower())
        elif op is C.RANGE:
            lo, hi = av
            hit |= lo <= o <= hi or (ignore and lo <= ord(ch.swapcase()) <= hi)
        elif op is C.CATEGORY:
            hit |= _category(ch, av)
    return hit != negate


def _category(ch: str, cat: Any) -> bool:
    tests = {
        C.CATEGORY_DIGIT: ch.isdigit(),
        C.CATEGORY_NOT_DIGIT: not ch.isdigit(),
        C.CATEGORY_SPACE: ch.isspace(),
        C.CATEGORY_NOT_SPACE: not ch.isspace(),
        C.CATEGORY_WORD: ch.isalnum() or ch == "_",
        C.CATEGORY_NOT_WORD: not (ch.isalnum() or ch == "_"),
    }
    return tests.get(cat, False)


def _accepts(ch: str, node: tuple[Any, Any], flags: int) -> bool:
    op, av = node
    if op is C.LITERAL:
        return ch == chr(av) or (bool(flags & re.I) and ch.lower() == chr(av).lower())
    if op is C.NOT_LITERAL:
        return ch != chr(av)
    if op is C.ANY:
        return ch != "\n"
    if op is C.IN:
        return _in_class(ch, av, flags)
    return False


def _minimal(items: Iterable[tuple[Any, Any]], flags: int) -> str:
    """A short text the sequence matches (assertions and anchors taken as met)."""
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op in (C.NOT_LITERAL, C.ANY, C.IN):
            out.append(next((c for c in CANDIDATES if _accepts(c, (op, av), flags)), "a"))
        elif op is C.SUBPATTERN:
            out.append(_minimal(av[-1], flags))
        elif op is C.ATOMIC_GROUP:
            out.append(_minimal(av, flags))
        elif op is C.BRANCH:
            out.append(min((_minimal(b, flags) for b in av[1]), key=len))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, item = av
            out.append(_minimal(item, flags) * lo)
    return "".join(out)


def _repeats(items: list[tuple[Any, Any]], before: str, flags: int) -> Iterator[tuple[str, Any]]:
    """(the text before it, the repeated item) for every repeat, nested ones too."""
    for i, (op, av) in enumerate(items):
        prefix = before + _minimal(items[:i], flags)
        if op is C.SUBPATTERN:
            yield from _repeats(list(av[-1]), prefix, flags)
        elif op is C.ATOMIC_GROUP:
            yield from _repeats(list(av), prefix, flags)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from _repeats(list(av[1]), prefix, flags)
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from _repeats(list(branch), prefix, flags)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            _lo, hi, item = av
            if hi is C.MAXREPEAT or hi > 50:
                yield prefix, list(item)
            yield from _repeats(list(item), prefix, flags)


def attack_strings(pattern: re.Pattern[str], size: int = 20_000) -> set[str]:
    """Long runs of what each repeat of ``pattern`` takes, reached by the shortest route."""
    tree = P.parse(pattern.pattern, pattern.flags)
    flags = pattern.flags | tree.state.flags
    found: set[str] = set()
    for prefix, item in _repeats(list(tree), "", flags):
        units = [c for c in CANDIDATES if len(item) == 1 and _accepts(c, item[0], flags)]
        # A word character and another one taken in turn: word boundaries everywhere.
        word = [c for c in units if c.isalnum()]
        other = [c for c in units if not c.isalnum() and c != "\n"]
        if word and other:
            units.append(word[0] + other[0])
        unit = _minimal(item, flags)
        if unit and unit not in units:
            units.append(unit)
        for unit in units:
            run = unit * (size // len(unit))
            for text in (prefix + run, prefix + run + KILL, run + KILL):
                found.add(text)
    return found


# -- every pattern we ship ------------------------------------------------------------

PACKAGES = ("bounceback.parse", "bounceback.classify")


def _modules() -> Iterator[Any]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            yield importlib.import_module(info.name)


def _patterns_in(value: Any, depth: int = 0) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern):
        if isinstance(value.pattern, str):
            yield value
    elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _patterns_in(item, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)
    elif depth < 3 and hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _patterns_in(getattr(value, name, None), depth + 1)


def _attributes(value: Any) -> dict[str, Any]:
    """An object's attributes; a compiled (mypyc) class has no ``__dict__``."""
    try:
        return dict(vars(value))
    except TypeError:
        return {n: getattr(value, n) for n in dir(value) if not n.startswith("__")}


def shipped_patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern of parse and classify: module-level ones (alone or in
    tuples, lists and dicts), and those built from the data files (phrase rules,
    provider rules, the phrase index's trie)."""
    from bounceback.classify import builtin

    found: dict[str, re.Pattern[str]] = {}
    for module in _modules():
        for attr, value in vars(module).items():
            for pattern in _patterns_in(value):
                found.setdefault(f"{module.__name__}.{attr}: {pattern.pattern[:60]}", pattern)
    built: list[tuple[str, Any]] = [
        ("phrase_rules", builtin.phrase_rules()),
        ("provider_rules", builtin.provider_rules()),
        ("phrase_index", _attributes(builtin.phrase_index())),
    ]
    built.append(("status_table", builtin.status_table().refinements))
    for where, value in built:
        for pattern in _patterns_in(value):
            found.setdefault(f"data {where}: {pattern.pattern[:60]}", pattern)
    return found
