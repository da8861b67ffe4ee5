"""corpus/mta (DSNs made by real MTAs against a scripted remote) is well formed.

Cheap checks on the committed files; the MTAs themselves never run here.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from bounceback.classify.reasons import REASONS

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus" / "mta"
sys.path.insert(0, str(ROOT / "corpus" / "tools"))

from mta_dsn.scenarios import BY_NAME, SCENARIOS  # noqa: E402

STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")


def _records() -> list[dict[str, Any]]:
    lines = (CORPUS / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


RECORDS = _records()
BY_FILE: dict[str, list[dict[str, Any]]] = defaultdict(list)
for _rec in RECORDS:
    BY_FILE[_rec["file"]].append(_rec)


def test_every_message_has_records_and_every_record_a_message() -> None:
    on_disk = {p.name for p in (CORPUS / "emails").glob("*.eml")}
    assert on_disk == set(BY_FILE)
    assert len(on_disk) >= 60


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_records_are_well_formed(name: str) -> None:
    recs = BY_FILE[name]
    assert [r["index"] for r in recs] == list(range(1, len(recs) + 1))
    raw = (CORPUS / "emails" / name).read_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"] and msg["Date"], "a DSN with its own headers"
    for r in recs:
        assert r["recipient"].lower().encode() in raw.lower(), r["recipient"]
        assert STATUS.match(r["status"]), r["status"]
        assert r["replycode"] == "" or re.fullmatch(r"[45]\d\d", r["replycode"])
        assert r["reason"] in REASONS
        assert isinstance(r["hardbounce"], bool)
        assert r["hardbounce"] == REASONS[r["reason"]].hard
        assert name.startswith(r["mta"] + "-")


@pytest.mark.parametrize("name", sorted(BY_FILE))
def test_expectations_come_from_the_script(name: str) -> None:
    for r in BY_FILE[name]:
        sc = BY_NAME[r["scenario"]]
        assert r["recipient"] in sc.recipients()
        assert r["replycode"] in (sc.replycode, "")
        if sc.enhanced:
            assert r["status"] == sc.enhanced
        if r["notice"] == "delay":
            assert sc.temporary and r["reason"] == "expired" and r["status"][0] == "4"
        else:
            assert (r["reason"], r["hardbounce"]) == (sc.reason, sc.hardbounce)


def test_recipients_the_remote_accepted_are_never_expected() -> None:
    accepted = {f"{lp}@{sc.route.value}" for sc in SCENARIOS for lp in sc.accepted}
    assert accepted, "the script has a message with an accepted recipient"
    assert not accepted & {r["recipient"] for r in RECORDS}


def test_a_message_to_several_refused_recipients_expects_each_once() -> None:
    for name, recs in BY_FILE.items():
        sc = BY_NAME[recs[0]["scenario"]]
        wanted = [r for rider in sc.riders() for r in rider.recipients()]
        assert [r["recipient"] for r in recs] == wanted, name
