"""The per-message parse deadline (bounceback.ledger.deadline), through the real interfaces.

BOUNCEBACK_PARSE_DEADLINE makes the limit small; the "slow" message is one that is
honestly slower than that (several MB of recipient lines: linear, but long), so the
normal messages around it finish far inside the limit and the slow one far outside.
"""

from __future__ import annotations

import json
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.config import Config, ConfigError, load
from bounceback.ledger import Ledger
from bounceback.ledger.deadline import (
    ENV,
    Guard,
    TooSlow,
    cpu_deadline,
    limit,
    run_within,
)
from bounceback.model import RawMessage
from bounceback.sources.smtpd import ReceiverThread, SmtpdConfig, ledger_sink
from support.samples import dsn

DEADLINE = 0.25


def slow_bounce(serial: int = 1) -> bytes:
    """A DSN of 120,000 recipient groups (8.9 MB): about 3 s of CPU to parse, every
    step of it linear (the report keeps 1,000 recipients, but every group is read)."""
    groups = "".join(
        f"Final-Recipient: rfc822; u{i}@example.org\nAction: failed\nStatus: 5.1.1\n\n"
        for i in range(120_000)
    )
    return (
        "From: MAILER-DAEMON@mx.example.org\nTo: sender@example.com\n"
        f"Message-ID: <slow-{serial}@mx.example.org>\n"
        "Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain\n\nDelivery failed.\n\n"
        "--b1\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.example.org\n\n{groups}--b1--\n"
    ).encode()


@pytest.fixture(scope="module", autouse=True)
def slow_enough() -> None:
    """The tests below rely on slow_bounce() taking far longer than their deadlines."""
    from bounceback.classify import classify
    from bounceback.parse import parse

    data = slow_bounce()
    started = time.process_time()
    classify(parse(data))
    took = time.process_time() - started
    assert took > 4 * DEADLINE, f"slow_bounce() parses in {took:.2f} s: make it slower"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()
    env = {"BOUNCEBACK_DATABASE_URL": db_url, ENV: str(DEADLINE)}

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.stdout

    return invoke


def test_process_quarantines_the_slow_message_and_applies_the_others(
    cli: Any, tmp_path: Path
) -> None:
    cli("db", "upgrade")
    (tmp_path / "contacts.csv").write_text(
        "email,name,kind,campaign\ndead@example.org,Dead,contact,spring\n"
        "gone@example.org,Gone,contact,spring\n"
    )
    cli("contacts", "import", str(tmp_path / "contacts.csv"), "--json")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(dsn("dead@example.org", "5.1.1", serial=1))
    (inbox / "2.eml").write_bytes(slow_bounce())
    (inbox / "3.eml").write_bytes(dsn("gone@example.org", "5.1.1", serial=3))

    summary = json.loads(cli("process", str(inbox), "--json"))

    assert (summary["processed"], summary["matched"], summary["quarantined"]) == (3, 2, 1)
    for email in ("dead@example.org", "gone@example.org"):
        assert json.loads(cli("contacts", "show", email, "--json"))["bounced"]
    kept = json.loads(cli("quarantine", "--json"))
    assert len(kept) == 1
    assert f"too slow: parse took > {DEADLINE:g} s" in json.dumps(kept)


def test_the_worker_processes_of_jobs_keep_the_deadline(cli: Any, tmp_path: Path) -> None:
    cli("db", "upgrade")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(slow_bounce())
    (inbox / "2.eml").write_bytes(dsn("someone@example.org", "5.1.1", serial=2))
    summary = json.loads(cli("process", str(inbox), "--jobs", "2", "--json"))
    assert (summary["processed"], summary["quarantined"], summary["unmatched"]) == (2, 1, 1)


# -- the mechanisms -----------------------------------------------------------------


def test_the_cpu_timer_stops_a_backtracking_regex() -> None:
    import re

    started = time.process_time()
    with pytest.raises(TooSlow), cpu_deadline(0.2):
        re.search(r"(a+)+b", "a" * 40)  # exponential: would run for years
    assert time.process_time() - started < 2


def test_with_other_threads_running_the_timer_counts_wall_time() -> None:
    started = time.monotonic()
    with pytest.raises(TooSlow), cpu_deadline(0.2, wall=True):
        time.sleep(30)  # no CPU used: only a wall-time timer stops it
    assert time.monotonic() - started < 5


def test_in_another_thread_the_child_is_killed_and_replaced() -> None:
    guard = Guard(size=2)
    outcomes: list[object] = []

    def call(seconds: float) -> None:
        try:  # the pool's limit is wall time: sleeping children are "slow" too
            outcomes.append(guard.run(0.5, (time.sleep, seconds)))
        except TooSlow as slow:
            outcomes.append(str(slow))

    try:
        threads = [threading.Thread(target=call, args=(s,)) for s in (30.0, 0.01)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(map(str, outcomes)) == ["None", "too slow: parse took > 0.5 s"]
        assert guard.run(5, (len, "abc")) == 3  # a fresh child took the killed one's place
    finally:
        guard.close()


def test_run_within_uses_the_pool_off_the_main_thread() -> None:
    found: list[int] = []
    thread = threading.Thread(target=lambda: found.append(run_within(5, len, "abc")))
    thread.start()
    thread.join(60)
    assert found == [3]


def test_the_limit_comes_from_the_environment_then_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    path = tmp_path / "bounceback.toml"
    path.write_text("[policy]\nparse_deadline_seconds = 2.5\n")
    assert limit(load(path, env={}).policy.parse_deadline_seconds) == 2.5
    monkeypatch.setenv(ENV, "0.1")
    assert limit(2.5) == 0.1
    path.write_text('[policy]\nparse_deadline_seconds = "soon"\n')
    with pytest.raises(ConfigError, match="parse_deadline_seconds"):
        load(path, env={})


# -- the SMTP receiver ----------------------------------------------------------------


def smtp_ledger(path: Path) -> tuple[Ledger, str]:
    """A ledger with VERP on, and the signed return path of one send to neko."""
    config = Config(database_url=f"sqlite:///{path / 'ledger.db'}", lock_timeout_ms=5000)
    config.verp.domain, config.verp.active_key = "bounces.sender.example", "k1"
    config.verp.keys = {"k1": b"0123456789abcdef-secret-key"}
    ledger = Ledger.open(config)
    ledger.add_contact("neko@example.org")
    assert ledger.signer is not None
    return ledger, ledger.signer.address(ledger.record_send("neko@example.org"))


def deliver(port: int, rcpt: str, body: bytes) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo("mta.test")
        smtp.mail("")
        smtp.rcpt(rcpt)
        return int(smtp.data(body.replace(b"\n", b"\r\n"))[0])


def test_the_smtp_receiver_answers_others_while_one_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "0.5")
    ledger, rcpt = smtp_ledger(tmp_path)
    sink = ledger_sink(ledger)
    release, parsing = threading.Event(), threading.Event()

    def prepare(raw: RawMessage) -> None:
        if b"slow-1@" in raw.data:  # held until the normal message has its answer
            parsing.set()
            release.wait(60)
        sink.prepare(raw)

    config = SmtpdConfig(host="127.0.0.1", port=0)
    rx = ReceiverThread(config, sink, ledger.signer, prepare=prepare).start()
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(deliver, rx.port, rcpt, slow_bounce())
            assert parsing.wait(60)
            normal = deliver(rx.port, rcpt, dsn("neko@example.org", "5.1.1", serial=2))
            assert normal == 250 and not held.done()  # answered while the other is parsed
            release.set()
            assert held.result(60) == 250
    finally:
        release.set()
        rx.stop()
    view = ledger.contact_view("neko@example.org")
    ledger.close()
    assert view is not None and view["history"][0]["reason"] == "userunknown"


def test_the_smtp_receiver_quarantines_a_message_past_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "0.5")  # the pool's limit: wall seconds
    ledger, rcpt = smtp_ledger(tmp_path)
    with ReceiverThread(
        SmtpdConfig(host="127.0.0.1", port=0), ledger_sink(ledger), ledger.signer
    ) as rx:
        assert deliver(rx.port, rcpt, slow_bounce()) == 250  # kept, so acknowledged
        assert deliver(rx.port, rcpt, dsn("neko@example.org", "5.1.1", serial=2)) == 250
    kept = ledger.messages("quarantined")
    view = ledger.contact_view("neko@example.org")
    ledger.close()
    assert [m["error"] for m in kept] == ["too slow: parse took > 0.5 s"]
    assert view is not None and view["history"][0]["reason"] == "userunknown"


def test_the_pool_works_for_a_script_read_from_stdin() -> None:
    # multiprocessing's spawn would re-import __main__, which such a script lacks.
    import subprocess
    import sys

    script = (
        "import threading\n"
        "from bounceback.ledger.deadline import run_within\n"
        "out = []\n"
        "t = threading.Thread(target=lambda: out.append(run_within(5, len, 'abcd')))\n"
        "t.start(); t.join(60)\n"
        "print(out)\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "[4]", done.stderr
