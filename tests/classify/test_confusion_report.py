"""bench/confusion.py: how expected and predicted records are paired and judged."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "confusion.py"


@pytest.fixture(scope="module")
def confusion() -> ModuleType:
    spec = importlib.util.spec_from_file_location("confusion", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["confusion"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_pairs_by_recipient_case_blind_and_by_alternative(confusion: ModuleType) -> None:
    expected = [
        {"recipient": "Ann@Example.org", "reason": "userunknown", "hardbounce": True},
        {
            "recipient": "bob@example.org",
            "recipient_alt": ["robert@example.org"],
            "reason": "mailboxfull",
            "hardbounce": False,
        },
    ]
    predicted = [
        {"recipient": "robert@EXAMPLE.org", "reason": "mailboxfull", "hardbounce": False},
        {"recipient": "ann@example.org", "reason": "filtered", "hardbounce": False},
    ]
    pairs = confusion.pair_file("a.eml", expected, predicted)
    assert [p.predicted["recipient"] for p in pairs] == ["ann@example.org", "robert@EXAMPLE.org"]
    t = confusion.tally(pairs)
    assert (t.compared, t.reason_right, t.hard_right) == (2, 1, 1)
    assert [p.expected["recipient"] for p in t.dead_called_soft] == ["Ann@Example.org"]
    assert t.live_called_hard == []
    assert t.confusion[("userunknown", "filtered")] == 1


def test_alternative_answers_count_as_right(confusion: ModuleType) -> None:
    expected = [
        {
            "recipient": "a@example.org",
            "reason": "filtered",
            "hardbounce": False,
            "reason_alt": ["userunknown"],
            "hardbounce_alt": [True],
        }
    ]
    predicted = [{"recipient": "a@example.org", "reason": "userunknown", "hardbounce": True}]
    t = confusion.tally(confusion.pair_file("a.eml", expected, predicted))
    assert (t.reason_right, t.hard_right, len(t.live_called_hard)) == (1, 1, 0)


def test_live_address_called_hard_and_unfound_records(confusion: ModuleType) -> None:
    expected = [
        {"recipient": "a@example.org", "reason": "spamdetected", "hardbounce": False},
        {"recipient": "b@example.org", "reason": "userunknown", "hardbounce": True},
    ]
    predicted = [{"recipient": "a@example.org", "reason": "userunknown", "hardbounce": True}]
    t = confusion.tally(confusion.pair_file("a.eml", expected, predicted))
    assert (t.compared, t.missed) == (1, 1)
    assert [p.expected["recipient"] for p in t.live_called_hard] == ["a@example.org"]


def test_a_lone_record_without_recipient_takes_the_first_prediction(
    confusion: ModuleType,
) -> None:
    expected = [{"recipient": None, "reason": "feedback", "hardbounce": False}]
    predicted = [{"recipient": "", "reason": "feedback"}, {"recipient": "x@example.org"}]
    (pair,) = confusion.pair_file("a.eml", expected, predicted)
    assert pair.predicted is predicted[0]
    two = expected * 2
    assert [p.predicted for p in confusion.pair_file("a.eml", two, predicted)] == [None, None]


def test_records_sharing_a_recipient_take_its_predictions_in_turn(
    confusion: ModuleType,
) -> None:
    expected = [{"recipient": "a@example.org", "reason": "rejected"}] * 3
    predicted = [{"recipient": "a@example.org", "n": 1}, {"recipient": "A@example.org", "n": 2}]
    pairs = confusion.pair_file("a.eml", expected, predicted)
    assert [p.predicted["n"] for p in pairs] == [1, 2, 2]
