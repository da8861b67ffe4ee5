"""The compiled build (mypyc, setup.py) answers exactly as the Python source does.

Compiled code checks declared types as it runs: an annotation that is wrong (a Header
where the stubs say str) raises TypeError there and nowhere else, and parse() would
quietly make that message `unparseable`. So in an interpreter where bounceback is
compiled (`./run.sh compiled -m pytest tests/compiled`, as CI runs it), this runs the
compiled package and the source (src/ first on PYTHONPATH) over the corpus, the
fixtures and seeded mutations of them, and compares every field of every answer.
In the editable (pure) install it is skipped, unless BOUNCEBACK_EXPECT_COMPILED=1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bounceback

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpora" / "sisimai" / "emails"
SCRIPT = Path(__file__).with_name("outputs.py")
MUTATIONS = int(os.environ.get("BOUNCEBACK_COMPILED_MUTATIONS", "3000"))

pytestmark = pytest.mark.skipif(
    not bounceback.is_compiled() and os.environ.get("BOUNCEBACK_EXPECT_COMPILED") != "1",
    reason="bounceback is not compiled here (editable install): ./run.sh compiled -m pytest",
)


def _inputs() -> list[str]:
    files = sorted((ROOT / "tests" / "fixtures").rglob("*.eml"))
    files += sorted((ROOT / "samples").glob("*.eml"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.glob("*.eml"))
    return [str(p) for p in files]


def _answers(expect: str, seed: int, files: list[str]) -> list[str]:
    env = dict(os.environ)
    if expect == "pure":
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, str(SCRIPT), "--expect", expect, "--seed", str(seed)]
    cmd += ["--mutations", str(MUTATIONS), *files]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_is_compiled() -> None:
    assert bounceback.is_compiled(), "BOUNCEBACK_EXPECT_COMPILED=1, but this is the Python source"


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_answers_as_the_source_does(seed: int) -> None:
    files = _inputs()
    assert len(files) > 100
    compiled = _answers("compiled", seed, files)
    pure = _answers("pure", seed, files)
    assert len(compiled) == len(pure) == len(files) + MUTATIONS
    differ = [(i, c, p) for i, (c, p) in enumerate(zip(compiled, pure, strict=True)) if c != p]
    where = [files[i] if i < len(files) else f"mutation {i - len(files)}" for i, _, _ in differ]
    assert not differ, f"{len(differ)} answers differ, first: {where[:5]}\n{differ[0][1][:600]}"
