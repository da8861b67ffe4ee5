"""Coverage-guided fuzzing of parse + classify with atheris (libFuzzer). Optional, not in CI.

    python3 -m venv /tmp/fuzz && /tmp/fuzz/bin/pip install atheris -e .
    mkdir -p /tmp/fuzz-corpus && cp tests/fixtures/emails/*.eml /tmp/fuzz-corpus/
    /tmp/fuzz/bin/python bench/fuzz_atheris.py /tmp/fuzz-corpus -max_total_time=600

The real bounces seed the corpus; libFuzzer keeps every input that reaches new code in
that folder. A crash is any exception out of parse() or classify(), or a result that is
not a Report; libFuzzer writes the input to crash-<sha1> for a regression test.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports(include=["bounceback"]):
    from bounceback import classify, parse
    from bounceback.model import Kind, Report


def test_one_input(data: bytes) -> None:
    report = parse(data)
    if not isinstance(report, Report) or report.kind not in set(Kind):
        raise AssertionError(f"parse returned {report!r}")
    if report.kind == Kind.UNPARSEABLE and not report.error:
        raise AssertionError("unparseable without a reason")
    classify(report)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
