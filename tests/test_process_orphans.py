"""``bounceback process --jobs N`` killed with SIGKILL: its parsing workers go with it
(they used to run on for minutes, holding their memory)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"
BIN = Path(sys.executable).parent / "bounceback"
PROC = Path("/proc")

pytestmark = pytest.mark.skipif(not PROC.is_dir(), reason="reads the process table in /proc")


def children(pid: int) -> set[int]:
    found = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (its new parent has not reaped it yet)


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    sources = sorted(EMAILS.glob("*.eml"))
    for n in range(4000):  # enough to keep two workers busy for a while
        shutil.copy(sources[n % len(sources)], folder / f"{n:05d}.eml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNCEBACK_")}
    env["BOUNCEBACK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ledger.db'}"
    parent = subprocess.Popen(
        [str(BIN), "process", "--jobs", "2", "--json", str(folder)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            assert parent.poll() is None, "process ended before its workers were seen"
            workers = {
                pid
                for pid in children(parent.pid)
                if b"spawn_main" in (PROC / str(pid) / "cmdline").read_bytes()
            }
            time.sleep(0.1)
        assert len(workers) == 2, f"workers not seen: {workers}"
        time.sleep(1.0)  # well into the run: the workers are parsing
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if alive(pid)]
        assert not left, f"workers still running 5 s after their parent was killed: {left}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in workers:  # the test's own workers, should they have outlived it
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
