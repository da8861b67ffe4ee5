"""Where bounceback's classification disagrees with a corpus: a confusion report.

For any corpus in the shared format (``emails/*.eml`` and ``expected.jsonl``, see
../shared/corpora/README.md), parse and classify every message in this process
(``bounceback.parse`` and ``bounceback.classify``, the source or the compiled build,
whichever ``bounceback`` imports), pair each expected record with a predicted one and
print:

- expected reason x predicted reason: the disagreeing pairs, most frequent first
  (``--matrix`` prints the whole matrix of the reasons that occur);
- hard/soft errors split in two: a dead address called soft (a suppression missed)
  and a live address called hard (a good contact lost), counts and % of the
  compared records; ``--verbose`` lists the files and the rule that decided.

Pairing: by file, then by recipient (case-insensitive; an address in the expected
record's ``recipient_alt`` counts as its recipient). A file's one expected record
without a recipient is paired with the file's first prediction. A prediction counts as
right when it equals the expected ``reason`` or one in ``reason_alt``, and for
hard/soft the expected ``hardbounce`` or one in ``hardbounce_alt``.

    PYTHONPATH=src .venv/bin/python bench/confusion.py \\
        --corpus ../shared/corpora/sisimai [--corpus OTHER ...] [--verbose] [--matrix]

Only what a corpus may be shown for: never run it on a reserved collection.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Pair:
    """One expected record and the prediction that stands for it (None: not found)."""

    file: str
    expected: Row
    predicted: Row | None


def _low(value: object) -> str:
    return str(value or "").strip().lower()


def pair_file(file: str, expected: Sequence[Row], predicted: Sequence[Row]) -> list[Pair]:
    """Pair one file's expected records with its predictions.

    A prediction whose recipient is an expected record's recipient, or one of its
    ``recipient_alt``, stands for that record. Expected records sharing a recipient take
    its predictions in turn, the last one standing for any beyond their number (a
    report that names an address once for two expected records, as the scorer counts
    it). The only expected record of a file, when it names no recipient, takes the
    file's first prediction.
    """
    owner: dict[str, str] = {}  # an address that counts -> the expected recipient
    for row in expected:
        main = _low(row.get("recipient"))
        if main:
            owner.setdefault(main, main)
            for alt in row.get("recipient_alt") or ():
                if _low(alt):
                    owner.setdefault(_low(alt), main)
    by_recipient: dict[str, list[Row]] = {}
    for row in predicted:
        address = _low(row.get("recipient"))
        if address:
            by_recipient.setdefault(owner.get(address, address), []).append(row)
    taken: Counter[str] = Counter()
    pairs = []
    for row in expected:
        main = _low(row.get("recipient"))
        found: Row | None = None
        if main:
            candidates = by_recipient.get(main, [])
            if candidates:
                found = candidates[min(taken[main], len(candidates) - 1)]
                taken[main] += 1
        elif len(expected) == 1 and predicted:
            found = predicted[0]
        pairs.append(Pair(file, row, found))
    return pairs


def reason_ok(pair: Pair) -> bool:
    assert pair.predicted is not None
    allowed = [pair.expected.get("reason"), *(pair.expected.get("reason_alt") or ())]
    return (pair.predicted.get("reason") or "") in allowed


def hard_ok(pair: Pair) -> bool:
    assert pair.predicted is not None
    allowed = [pair.expected.get("hardbounce"), *(pair.expected.get("hardbounce_alt") or ())]
    return bool(pair.predicted.get("hardbounce")) in allowed


@dataclass(slots=True)
class Tally:
    compared: int = 0
    missed: int = 0
    reason_right: int = 0
    hard_compared: int = 0
    hard_right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_called_soft: list[Pair] = field(default_factory=list)
    live_called_hard: list[Pair] = field(default_factory=list)
    wrong_reason: list[Pair] = field(default_factory=list)


def tally(pairs: Iterable[Pair]) -> Tally:
    t = Tally()
    for pair in pairs:
        if pair.predicted is None:
            t.missed += 1
            continue
        t.compared += 1
        expected_reason = str(pair.expected.get("reason") or "(none)")
        predicted_reason = str(pair.predicted.get("reason") or "(none)")
        right = reason_ok(pair)
        t.reason_right += right
        t.confusion[(expected_reason, predicted_reason if not right else expected_reason)] += 1
        if not right:
            t.wrong_reason.append(pair)
        if isinstance(pair.expected.get("hardbounce"), bool):
            t.hard_compared += 1
            if hard_ok(pair):
                t.hard_right += 1
            elif pair.expected["hardbounce"]:
                t.dead_called_soft.append(pair)
            else:
                t.live_called_hard.append(pair)
    return t


def predictions(corpus: Path) -> tuple[dict[str, list[Row]], int]:
    """bounceback's records for every message of the corpus, by file; and the count."""
    from bounceback.classify import classify
    from bounceback.inputs import iter_items
    from bounceback.parse import parse

    found: dict[str, list[Row]] = {}
    emails = sorted((corpus / "emails").glob("*.eml"))
    for path in emails:
        rows = found.setdefault(path.name, [])
        # As `bounceback parse` reads a file: one that is an mbox gives each message.
        items = [item for item in iter_items([str(path)]) if not item.error]
        bounces = [b for item in items for b in classify(parse(item.data))]
        for bounce in bounces:
            rows.append(
                {
                    "recipient": bounce.record.recipient,
                    "reason": bounce.reason,
                    "hardbounce": bounce.hardbounce,
                    "rule": bounce.rule,
                    "status": bounce.status,
                    "diagnostic": bounce.record.diagnostic,
                    "command": bounce.record.smtp_command,
                }
            )
    return found, len(emails)


def expectations(corpus: Path) -> dict[str, list[Row]]:
    by_file: dict[str, list[Row]] = {}
    text = (corpus / "expected.jsonl").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{corpus}/expected.jsonl line {number}: {exc}") from exc
        by_file.setdefault(str(row["file"]), []).append(row)
    return by_file


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.2f}% ({part}/{whole})" if whole else "   n/a"


def _line(pair: Pair) -> str:
    p = pair.predicted or {}
    diagnostic = " ".join(str(p.get("diagnostic") or "").split())[:110]
    return (
        f"    {pair.file} <{pair.expected.get('recipient')}> expected "
        f"{pair.expected.get('reason')}, got {p.get('reason')} [{p.get('rule')}; "
        f"{p.get('status') or '-'} {p.get('command') or '-'}] {diagnostic}"
    )


def report(corpus: Path, t: Tally, messages: int, args: argparse.Namespace) -> None:
    print(f"== {corpus}  ({messages} messages)")
    print(f"compared records     {t.compared} (expected but not found: {t.missed})")
    print(f"reason               {_pct(t.reason_right, t.compared)}")
    print(f"hard/soft            {_pct(t.hard_right, t.hard_compared)}")
    print(f"  dead called soft   {_pct(len(t.dead_called_soft), t.hard_compared)}")
    if args.verbose:
        for pair in t.dead_called_soft:
            print(_line(pair))
    print(f"  live called hard   {_pct(len(t.live_called_hard), t.hard_compared)}")
    if args.verbose:
        for pair in t.live_called_hard:
            print(_line(pair))
    wrong = [(k, n) for k, n in t.confusion.most_common() if k[0] != k[1]]
    print(f"expected -> predicted reason, disagreements ({sum(n for _, n in wrong)}):")
    for (expected, predicted), n in wrong[: args.top]:
        print(f"  {n:4d}  {expected:>16} -> {predicted}")
    if args.verbose:
        print("wrong reasons:")
        for pair in t.wrong_reason:
            print(_line(pair))
    if args.matrix:
        _matrix(t)
    print()


def _matrix(t: Tally) -> None:
    names = sorted({name for key in t.confusion for name in key})
    short = [name[:6] for name in names]
    print("matrix: rows expected, columns predicted")
    print(" " * 16 + " ".join(f"{s:>6}" for s in short))
    for row in names:
        cells = [t.confusion.get((row, col), 0) for col in names]
        print(f"{row:>15} " + " ".join(f"{c:>6}" if c else "     ." for c in cells))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", action="append", required=True, type=Path)
    ap.add_argument("--verbose", "-v", action="store_true", help="list the files of each error")
    ap.add_argument("--matrix", action="store_true", help="print the whole confusion matrix")
    ap.add_argument("--top", type=int, default=25, help="disagreeing pairs listed")
    args = ap.parse_args(argv)
    for corpus in args.corpus:
        if not (corpus / "expected.jsonl").is_file() or not (corpus / "emails").is_dir():
            print(f"{corpus}: not a corpus (needs emails/ and expected.jsonl)", file=sys.stderr)
            return 2
        expected = expectations(corpus)
        predicted, messages = predictions(corpus)
        pairs = [
            pair
            for file, rows in expected.items()
            for pair in pair_file(file, rows, predicted.get(file, []))
        ]
        report(corpus, tally(pairs), messages, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
