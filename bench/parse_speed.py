"""How fast bounceback reads bounces, against flufl.bounce and Sisimai, on one core.

The corpus is loaded into memory once; then, in the same run and one after another,
bounceback parses and classifies every message, flufl.bounce scans every message
(``scan_message`` on ``email.message_from_bytes``), and one Perl process runs Sisimai
(``Sisimai->make`` on each message, held in memory before its clock starts). Each is
repeated and the best run counts. Times are CPU seconds of the one process doing the
work (so other load on the machine does not skew them); wall seconds are shown too.

    ./run.sh compiled bench/parse_speed.py [CORPUS_DIR] [--repeat N] [--stages]
    .venv/bin/python bench/parse_speed.py --source ...   # the Python source instead

bounceback is measured as users install it: a regular install, whose parser and
classifier setup.py compiles with mypyc (`./run.sh compiled` builds one from the
checkout). Started where bounceback is the Python source (the editable .venv), the
script runs itself again through `./run.sh compiled`, unless --source. The first line
of the output says which build ran.

CORPUS_DIR defaults to ../shared/corpora/sisimai/emails beside the repository.
Sisimai needs the Debian package libsisimai-perl; without it that row is skipped.
"""

from __future__ import annotations

import argparse
import email
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flufl.bounce import scan_message

from bounceback import classify, is_compiled, parse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "sisimai" / "emails"
SISIMAI_SCRIPT = Path(__file__).resolve().parent / "sisimai_speed.pl"


@dataclass
class Timing:
    name: str
    cpu: float  # best CPU seconds for one pass over the corpus
    wall: float  # best wall seconds
    messages: int
    found: int  # records (bounceback, Sisimai) or addresses (flufl.bounce) found
    note: str = ""

    @property
    def rate(self) -> float:
        return self.messages / self.cpu if self.cpu else 0.0


def best_of(repeat: int, one_pass: Callable[[], int]) -> tuple[float, float, int]:
    """Best CPU and wall seconds of `repeat` passes, and what the last pass found."""
    best_cpu = best_wall = float("inf")
    found = 0
    for _ in range(repeat):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        found = one_pass()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall, found


def bounceback_pass(messages: list[bytes]) -> int:
    return sum(len(classify(parse(data))) for data in messages)


def flufl_pass(messages: list[bytes]) -> int:
    return sum(len(scan_message(email.message_from_bytes(data))) for data in messages)


def stages(messages: list[bytes], repeat: int) -> None:
    """Where bounceback's time goes: each step alone, cumulative, in messages/s."""
    from email.parser import BytesHeaderParser

    from bounceback.parse.mail import Mail
    from bounceback.parse.mime import parse_bytes

    headers = BytesHeaderParser()
    steps: list[tuple[str, Callable[[], int]]] = [
        (
            "headers only (BytesHeaderParser)",
            lambda: len([headers.parsebytes(d) for d in messages]),
        ),
        ("email.message_from_bytes", lambda: len([email.message_from_bytes(d) for d in messages])),
        # bounceback's own MIME parse: the same tree as the line above (parse/mime.py).
        ("mime.parse_bytes (same tree)", lambda: len([parse_bytes(d) for d in messages])),
        ("+ decoded view (Mail)", lambda: len([Mail.from_bytes(d) for d in messages])),
        ("+ detectors (parse)", lambda: len([parse(d) for d in messages])),
        ("+ classify", lambda: bounceback_pass(messages)),
    ]
    print(f"\n{'bounceback, step by step':32} {'msgs/s':>8} {'ms/msg':>7}")
    for name, one_pass in steps:
        cpu, _, _ = best_of(repeat, one_pass)
        print(f"{name:32} {len(messages) / cpu:8.0f} {1000 * cpu / len(messages):7.3f}")


def detector_costs(messages: list[bytes], top: int = 12) -> None:
    """CPU time each detector spends over the corpus, tried in order as parse tries them."""
    from bounceback.parse import registry
    from bounceback.parse.mail import Mail

    spent: dict[str, float] = {}
    claimed: dict[str, int] = {}
    for data in messages:
        mail = Mail.from_bytes(data)
        for detector in registry.detectors():
            started = time.process_time()
            report = detector.detect(mail)
            spent[detector.NAME] = spent.get(detector.NAME, 0.0) + time.process_time() - started
            if report is not None:
                claimed[detector.NAME] = claimed.get(detector.NAME, 0) + 1
                break
    total = sum(spent.values())
    print(f"\n{'detector':20} {'ms total':>9} {'share':>6} {'claimed':>8}")
    for name, cpu in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{name:20} {1000 * cpu:9.1f} {cpu / total:6.1%} {claimed.get(name, 0):8}")
    print(f"{'all ' + str(len(spent)):20} {1000 * total:9.1f}")


def peak_memory(messages: list[bytes]) -> int:
    """Peak bytes Python allocates while bounceback does one pass (corpus excluded)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    bounceback_pass(messages)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def rss_peak_kb() -> int:
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def sisimai(paths: list[Path], repeat: int) -> Timing | None:
    if shutil.which("perl") is None:
        return None
    probe = subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, check=False)
    if probe.returncode != 0:
        print("Sisimai not installed (apt-get install libsisimai-perl): skipped", file=sys.stderr)
        return None
    out = subprocess.run(
        ["perl", str(SISIMAI_SCRIPT), str(repeat), *map(str, paths)],
        capture_output=True,
        check=True,
        text=True,
    )
    result = json.loads(out.stdout)
    return Timing(
        f"Sisimai {result['version']} (Perl)",
        result["cpu"],
        result["wall"],
        result["messages"],
        result["records"],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=5, help="passes per tool; the best counts")
    ap.add_argument("--no-sisimai", action="store_true")
    ap.add_argument(
        "--stages", action="store_true", help="also time bounceback step by step, and its detectors"
    )
    ap.add_argument(
        "--source",
        action="store_true",
        help="measure bounceback as this interpreter has it, even as Python source",
    )
    args = ap.parse_args(argv)
    if not args.source and not is_compiled():
        # What users install is compiled (setup.py); an editable .venv has the source.
        print(
            "bounceback is Python source here (an editable install); measuring the compiled "
            "build instead: ./run.sh compiled bench/parse_speed.py (--source: this one)",
            file=sys.stderr,
        )
        sys.stderr.flush()
        here = str(Path(__file__).resolve())
        rest = sys.argv[1:] if argv is None else argv
        os.execvp("bash", ["bash", str(ROOT / "run.sh"), "compiled", here, *rest])

    paths = sorted(p for p in args.corpus.glob("*.eml") if p.is_file())
    if not paths:
        print(f"no .eml files in {args.corpus}", file=sys.stderr)
        return 2
    messages = [p.read_bytes() for p in paths]
    size = sum(map(len, messages))
    build = "compiled (mypyc)" if is_compiled() else "Python source (not compiled)"
    print(f"bounceback: {build}, {sys.modules['bounceback'].__file__}")
    print(f"corpus: {len(messages)} messages, {size / 1e6:.1f} MB, from {args.corpus}")
    print(f"best of {args.repeat} passes each, CPU seconds of one process (one core)\n")

    bounceback_pass(messages)  # warm up: imports, compiled patterns, rule data
    cpu, wall, found = best_of(args.repeat, lambda: bounceback_pass(messages))
    name = "bounceback (compiled)" if is_compiled() else "bounceback (Python source)"
    ours = Timing(name, cpu, wall, len(messages), found)
    rss = rss_peak_kb()
    peak = peak_memory(messages)

    flufl_pass(messages)
    cpu, wall, found = best_of(args.repeat, lambda: flufl_pass(messages))
    peers = [Timing("flufl.bounce (scan_message)", cpu, wall, len(messages), found)]
    if not args.no_sisimai and (theirs := sisimai(paths, args.repeat)):
        peers.append(theirs)

    print(f"{'parser':32} {'msgs/s':>8} {'ms/msg':>7} {'wall s':>7} {'found':>6}  bounceback is")
    for t in [ours, *peers]:
        ratio = "" if t is ours else f"{ours.rate / t.rate:.2f}x as fast"
        print(
            f"{t.name:32} {t.rate:8.0f} {1000 * t.cpu / t.messages:7.3f} "
            f"{t.wall:7.3f} {t.found:6}  {ratio}"
        )
    print(
        f"\nbounceback peak memory: {peak / 1e6:.1f} MB allocated during a pass (tracemalloc), "
        f"process peak RSS {rss / 1024:.0f} MB with the corpus loaded"
    )
    print("found: records (bounceback, Sisimai) or addresses (flufl.bounce)")
    if args.stages:
        stages(messages, args.repeat)
        detector_costs(messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
