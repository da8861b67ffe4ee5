"""Print what parse and classify make of each input, one JSON line per input.

Run by tests/compiled/test_same_answers.py in two interpreters, the compiled package
and the Python source, which must print the same lines. The inputs are the files
given, then seeded random mutations of them (the same for both, given the seed).

    python tests/compiled/outputs.py --expect compiled|pure --seed N --mutations M FILE...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

# Bytes that steer a parser into its rarer paths: line ends, MIME syntax, 8-bit text.
_SPICE = [b"\r\n", b"\n", b"\n\n", b"--", b":", b";", b"=?", b"?=", b"\x1b$B", b"\xff\xfe", b"\x00"]


def mutations(samples: list[bytes], seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 4)):
            if not data:
                break
            at = rng.randrange(len(data))
            span = rng.randint(1, 200)
            move = rng.randrange(5)
            if move == 0:
                del data[at : at + span]
            elif move == 1:
                data[at:at] = data[at : at + span]
            elif move == 2:
                data[at:at] = rng.choice(_SPICE)
            elif move == 3:
                data[at] = rng.randrange(256)
            else:
                del data[at:]
        yield bytes(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", choices=["compiled", "pure"], required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mutations", type=int, default=0)
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()

    import bounceback

    compiled = bounceback.is_compiled()
    if compiled != (args.expect == "compiled"):
        sys.exit(f"expected the {args.expect} build, imported {bounceback.__file__}")
    samples = [path.read_bytes() for path in args.files]
    inputs = [*samples, *mutations(samples, args.seed, args.mutations)]
    out = sys.stdout
    for data in inputs:
        report = bounceback.parse(data)
        bounces = bounceback.classify(report)
        line = [dataclasses.asdict(report), [dataclasses.asdict(b) for b in bounces]]
        out.write(json.dumps(line, default=str, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
