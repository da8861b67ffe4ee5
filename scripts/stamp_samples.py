"""Make the demo's sample bounces look like bounces of mail this ledger sent.

``./run.sh serve`` runs this once per new ledger. For each sample bounce about one
recipient it logs a send to that recipient (campaign ``demo``), as the sending code
would with ``bounceback.stamp``, and writes a copy of the bounce with a
``Delivered-To:`` line naming the send's signed return path, as the receiving MTA
adds it. With signed VERP configured (samples/serve.toml), only such a bounce proves
a send of ours and acts on the contact; a bounce that proves none is kept as
"unverified" (docs/security.md). A sample about several recipients is copied as it
is: a signed return path names one send, so it stays unverified, and shows what
that looks like.

    python scripts/stamp_samples.py CONFIG SAMPLES_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import bounceback
from bounceback.config import load
from bounceback.ledger import Ledger
from bounceback.ledger.stamping import register_send


def main(config_file: str, samples: str, out: str) -> int:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.eml"):
        old.unlink()
    ledger = Ledger.open(load(config_file))
    stamped = kept = 0
    try:
        for path in sorted(Path(samples).glob("*.eml")):
            data = path.read_bytes()
            bounces = bounceback.classify(bounceback.parse(data))
            recipients = {b.recipient.lower() for b in bounces if b.recipient}
            if len(recipients) == 1:
                _, return_path = register_send(ledger, recipients.pop(), "demo")
                if return_path:
                    newline = b"\r\n" if b"\r\n" in data[:2000] else b"\n"
                    data = b"Delivered-To: " + return_path.encode() + newline + data
                    stamped += 1
            else:
                kept += 1
            (target / path.name).write_bytes(data)
    finally:
        ledger.close()
    print(f"{stamped} samples stamped with the return path of a new send, {kept} left as they are")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
