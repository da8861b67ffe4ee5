"""A floor under the built-in pack's agreement with the corpus expectations.

Not the benchmark (that is eval_corpus.py): a guard that an edit to the phrase
data or the evidence order does not quietly lose a large share of the corpus.
Skipped where the shared corpus is not present.
"""

from __future__ import annotations

import json
from pathlib import Path

from bounceback.classify import classify
from bounceback.parse import parse


def test_reason_and_hardness_agree_with_the_corpus(corpus_dir: Path) -> None:
    expected: dict[str, list[dict[str, object]]] = {}
    for line in (corpus_dir.parent / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            expected.setdefault(row["file"], []).append(row)
    compared = reason_ok = hard_ok = 0
    for name, rows in expected.items():
        path = corpus_dir / name
        if not path.exists():
            continue
        found = {b.recipient.lower(): b for b in classify(parse(path.read_bytes()))}
        for row in rows:
            bounce = found.get(str(row["recipient"] or "").lower())
            if bounce is None:
                continue
            compared += 1
            reason_ok += bounce.reason == row["reason"]
            hard_ok += bounce.hardbounce == row["hardbounce"]
    assert compared > 400
    assert reason_ok / compared > 0.85, f"reason {reason_ok}/{compared}"
    assert hard_ok / compared > 0.92, f"hard/soft {hard_ok}/{compared}"
