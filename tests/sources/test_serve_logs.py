"""Log tailing under ``bounceback serve``: a Server with [[sources.pmta]] and
[[sources.postfix_log]] picks up lines appended while it runs, and follows a
rename rotation (lines still written to the old file after the rename, then a new
file) without losing or repeating a line."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bounceback import config as config_mod
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.model import SourceEvent
from bounceback.serve import Server
from bounceback.serve_config import serve_config
from bounceback.sources.pmta import PmtaCsv
from bounceback.sources.postfix_log import PostfixLog
from bounceback.sources.tail import TailReader

DATA = Path(__file__).resolve().parent / "data"


def lines_of(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)


def append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.writelines(lines)


def expected_events(tmp_path: Path, kind: str, text: str) -> int:
    """How many events the line parser alone makes of ``text`` (the oracle)."""
    path = tmp_path / f"oracle-{kind}-{len(os.listdir(tmp_path))}"
    path.write_text(text, encoding="utf-8")
    parser: PmtaCsv | PostfixLog = PmtaCsv() if kind == "pmta" else PostfixLog()
    lines = TailReader(path, path.with_suffix(".state")).read()
    return sum(isinstance(parser.feed(line), SourceEvent) for line in lines)


def stored(ledger: Ledger) -> dict[str, int]:
    m = t.messages.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(m.source, func.count()).group_by(m.source))
        return {str(source): int(n) for source, n in rows}


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Server, Ledger, Path, Path]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    acct, maillog = logs / "acct.csv", logs / "mail.log"
    pmta_lines, postfix_lines = lines_of("acct-bounces.csv"), lines_of("mail.log")
    acct.write_text("".join(pmta_lines[:3]), encoding="utf-8")  # header + 2 rows
    maillog.write_text("".join(postfix_lines[:4]), encoding="utf-8")
    config_path = tmp_path / "bounceback.toml"
    config_path.write_text(
        f"""
poll_interval = 0.2

[database]
url = "sqlite:///{tmp_path / "ledger.db"}"

[[sources.pmta]]
name = "pmta"
path = "logs/acct.csv"

[[sources.postfix_log]]
name = "postfix"
path = "logs/mail.log"
""",
        encoding="utf-8",
    )
    config = config_mod.load(config_path, env={})
    ledger = Ledger.open(config)
    server = Server(serve_config(config), ledger, "pollers")
    server.start()
    try:
        yield server, ledger, acct, maillog
    finally:
        server.stop()
        ledger.close()


def test_appended_and_rotated_lines_are_applied_once(
    running: tuple[Server, Ledger, Path, Path], tmp_path: Path
) -> None:
    server, ledger, acct, maillog = running
    pmta_lines, postfix_lines = lines_of("acct-bounces.csv"), lines_of("mail.log")
    header, rows = pmta_lines[0], pmta_lines[1:]
    want_pmta = expected_events(tmp_path, "pmta", "".join(pmta_lines[:3]))
    want_postfix = expected_events(tmp_path, "postfix", "".join(postfix_lines[:4]))
    assert want_pmta == 2 and want_postfix >= 1
    wait_for(lambda: stored(ledger).get("pmta", 0) == want_pmta)
    wait_for(lambda: stored(ledger).get("postfix-log", 0) == want_postfix)

    # Lines appended while serve runs, one of them in two writes (a half line waits).
    append(acct, rows[2:4])
    half = postfix_lines[7]
    append(maillog, [*postfix_lines[4:7], half[:30]])
    time.sleep(0.5)
    append(maillog, [half[30:]])
    want_pmta = expected_events(tmp_path, "pmta", header + "".join(rows[:4]))
    want_postfix = expected_events(tmp_path, "postfix", "".join(postfix_lines[:8]))
    assert (want_pmta, want_postfix) == (4, 2)
    wait_for(lambda: stored(ledger).get("pmta", 0) == want_pmta)
    wait_for(lambda: stored(ledger).get("postfix-log", 0) == want_postfix)

    # Rotation by rename: the writer finishes in the old file, then a new one starts.
    acct.rename(acct.with_name("acct.csv.1"))
    late = [row.replace("@", "+late@", 1) for row in rows[:2]]
    append(acct.with_name("acct.csv.1"), rows[4:] + late)  # bad rows, then two more
    fresh = [row.replace("@", "+rotated@", 1) for row in rows[:2]]
    acct.write_text(header + "".join(fresh), encoding="utf-8")
    maillog.rename(maillog.with_name("mail.log.1"))
    append(maillog.with_name("mail.log.1"), postfix_lines[8:9])
    maillog.write_text("".join(postfix_lines[9:]), encoding="utf-8")
    want_pmta = expected_events(tmp_path, "pmta", header + "".join(rows + late + fresh))
    want_postfix = expected_events(tmp_path, "postfix", "".join(postfix_lines))
    assert (want_pmta, want_postfix) == (8, 5)
    wait_for(lambda: stored(ledger).get("pmta", 0) == want_pmta)
    wait_for(lambda: stored(ledger).get("postfix-log", 0) == want_postfix)

    time.sleep(0.6)  # three more poll intervals: nothing is read twice
    assert stored(ledger) == {"pmta": want_pmta, "postfix-log": want_postfix}
    text = server.metrics.text()
    assert f'bounceback_messages_total{{outcome="unmatched",source="pmta"}} {want_pmta}' in text
    assert server.metrics.health_json()["ok"] is True
