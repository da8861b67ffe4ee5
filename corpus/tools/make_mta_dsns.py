#!/usr/bin/env python3
"""Make DSNs with real MTAs against a scripted remote; write corpus/mta.

    sudo python corpus/tools/make_mta_dsns.py --mta postfix --mta exim \
        --root /tmp/mtadebs --out corpus/mta

See corpus/tools/README.md. The expected records come from the script
(mta_dsn/scenarios.py), not from reading the DSNs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import shutil
import signal
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mta_dsn import timing
from mta_dsn.mtas import MTA
from mta_dsn.remote import Received, World
from mta_dsn.scenarios import BY_NAME, BY_TAG, SCENARIOS, Notice, Scenario, neutral

DRIVERS = {
    "postfix": "postfix:Postfix",
    "exim": "exim:Exim",
    "opensmtpd": "opensmtpd:OpenSMTPD",
    "sendmail": "sendmail:Sendmail",
}


def driver(name: str) -> type[MTA]:
    import importlib

    module, cls = DRIVERS[name].split(":")
    found: type[MTA] = getattr(importlib.import_module(f"mta_dsn.mtas.{module}"), cls)
    return found


def test_message(sc: Scenario) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Corpus Sender <{sc.sender}>"
    msg["To"] = ", ".join(sc.envelope_recipients())
    tag = neutral(sc.name)
    msg["Subject"] = f"Test message {tag}"
    msg["Date"] = format_datetime(_now())
    msg["Message-ID"] = make_msgid(tag, domain="sink.example.org")
    msg.set_content(f"This is a test message for the bounce corpus ({tag}).\n")
    return msg


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def submit(mta: MTA) -> None:
    for sc in SCENARIOS:
        if sc.alone:
            mta.submit(test_message(sc), sc.sender, sc.envelope_recipients())


def wait_for_queue(mta: MTA, world: World, deadline: float) -> None:
    """Wait until the MTA has given up on everything and delivered its DSNs."""
    quiet_since = None
    started = time.time()
    while time.time() < deadline:
        mta.kick()
        n = mta.queue_size()
        now = time.time()
        if n == 0:
            quiet_since = quiet_since or now
            if now - quiet_since >= 6:
                return
        else:
            quiet_since = None
        print(
            f"  [{mta.name}] {int(now - started):4d}s queue={n} dsns={len(world.sink.messages)}",
            flush=True,
        )
        time.sleep(3)
    print(f"  [{mta.name}] deadline reached with messages still queued", file=sys.stderr)


def records(mta: type[MTA], sc: Scenario, file: str, notice: Notice) -> list[dict[str, object]]:
    """The expected records for one DSN: from the script, never from the DSN."""
    out: list[dict[str, object]] = []
    for rider in sc.riders():
        for rcpt in rider.recipients():
            rec: dict[str, object] = {
                "file": file,
                "index": len(out) + 1,
                "recipient": rcpt,
                "status": mta.expected_status(rider, notice),
                "replycode": rider.replycode,
                "reason": rider.reason if notice is not Notice.DELAY else "expired",
                "hardbounce": rider.hardbounce if notice is not Notice.DELAY else False,
                "mta": mta.name,
                "scenario": rider.name,
                "notice": notice.value,
                "scripted_reply": rider.reply.replace("\r\n", " | "),
            }
            reported = mta.reported_status(rider, notice)
            if reported != rec["status"]:
                # The DSN's own Status: field says this; reading it is not wrong either.
                rec["status_alt"] = [reported]
            out.append(rec)
    return out


STATUS_FIELD = re.compile(rb"^Status:\s*([245]\.\d+\.\d+)", re.M | re.I)


def check_reported(mta: type[MTA], name: str, data: bytes, recs: list[dict[str, object]]) -> None:
    """Warn when the DSN's Status: fields are not what the driver says this MTA writes:
    a sign the MTA was misconfigured, never a source of expectations."""
    found = sorted({m.decode() for m in STATUS_FIELD.findall(data)})
    wanted = sorted(
        {mta.reported_status(BY_NAME[str(r["scenario"])], Notice(r["notice"])) for r in recs}
    )
    if found and found != wanted:
        print(f"  [{mta.name}] {name}: Status {found}, driver expects {wanted}", file=sys.stderr)


def save(mta: MTA, got: list[Received], out: Path) -> int:
    """Write the DSNs as <mta>-<scenario>[-delay[-N]|-expired].eml; return how many."""
    by_scenario: dict[str, list[Received]] = {}
    for r in got:
        owner = BY_TAG.get(r.rcpt.split("@")[0].removeprefix("sender-"))
        by_scenario.setdefault(owner.name if owner else r.rcpt, []).append(r)
    saved = 0
    for sc in SCENARIOS:
        dsns = sorted(by_scenario.pop(sc.name, []), key=lambda r: r.at)
        if not sc.alone:
            continue
        if not dsns:
            print(f"  [{mta.name}] no DSN for {sc.name}", file=sys.stderr)
            continue
        if not sc.temporary:
            names = [f"{mta.name}-{sc.name}.eml"]
            if len(dsns) > 1:
                print(
                    f"  [{mta.name}] {len(dsns)} DSNs for {sc.name}; keeping the last",
                    file=sys.stderr,
                )
                dsns = dsns[-1:]
        else:
            # Arrival order: every notice before the last is a delay warning.
            names = [
                f"{mta.name}-{sc.name}-delay{'' if i == 0 else f'-{i + 1}'}.eml"
                for i in range(len(dsns) - 1)
            ]
            names.append(f"{mta.name}-{sc.name}-expired.eml")
        for name, r in zip(names, dsns, strict=True):
            (out / "emails" / name).write_bytes(r.data)
            saved += 1
    for tag in by_scenario:
        print(f"  [{mta.name}] unexpected DSN(s) for {tag}", file=sys.stderr)
    return saved


FILE_NAME = re.compile(
    r"^(?P<mta>[a-z]+)-(?P<scenario>[a-z0-9-]+?)"
    r"(?:-(?P<notice>delay|expired)(?:-\d+)?)?\.eml$"
)


def write_expected(out: Path) -> int:
    """Rebuild expected.jsonl for every message in emails/ from its name and the script."""
    rows: list[dict[str, object]] = []
    for path in sorted((out / "emails").glob("*.eml")):
        m = FILE_NAME.match(path.name)
        if not m or m["mta"] not in DRIVERS or m["scenario"] not in BY_NAME:
            print(f"  cannot tell the scenario of {path.name}", file=sys.stderr)
            continue
        mta = driver(m["mta"])
        notice = Notice.DELAY if m["notice"] == "delay" else Notice.FINAL
        recs = records(mta, BY_NAME[m["scenario"]], path.name, notice)
        check_reported(mta, path.name, path.read_bytes(), recs)
        rows.extend(recs)
    (out / "expected.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--mta",
        action="append",
        choices=sorted(DRIVERS),
        default=[],
        help="run this MTA (repeat for several); none: only rewrite expected.jsonl",
    )
    ap.add_argument(
        "--root",
        type=Path,
        default=Path("/tmp/mtadebs"),
        help="where the MTA .debs are unpacked (root-exim/, root-opensmtpd/, ...)",
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "mta")
    ap.add_argument("--keep", action="store_true", help="keep the MTA work dirs")
    args = ap.parse_args()
    # A plain kill must still stop the MTAs (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    (args.out / "emails").mkdir(parents=True, exist_ok=True)
    if args.mta:
        run_mtas(args.mta, args.root, args.out, args.keep)
    print(f"expected.jsonl: {write_expected(args.out)} records")
    return 0


def run_mtas(names: list[str], root: Path, out: Path, keep: bool) -> None:
    world = World()
    world.start()
    try:
        for name in names:
            work = Path(tempfile.mkdtemp(prefix=f"mtadsn-{name}-"))
            work.chmod(0o755)
            mta = driver(name)(work, world.ports, root)
            print(f"[{name}] work dir {work}", flush=True)
            mta.start()
            try:
                time.sleep(2)
                world.sink.take()
                submit(mta)
                wait_for_queue(mta, world, time.time() + 3 * timing.QUEUE_LIFETIME + 120)
                time.sleep(2)
            finally:
                mta.stop()
            for old in (out / "emails").glob(f"{name}-*.eml"):
                old.unlink()
            n = save(mta, world.sink.take(), out)
            print(f"[{name}] {n} DSNs", flush=True)
            if not keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        world.stop()


if __name__ == "__main__":
    sys.exit(main())
