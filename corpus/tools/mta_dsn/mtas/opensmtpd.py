"""OpenSMTPD from Debian's opensmtpd .deb, unpacked, run with smtpd -f config.

Its spool (/var/spool/smtpd) and control socket (/var/run/smtpd.sock) are compiled
in, so only one OpenSMTPD may run on the machine while this one does.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import time
from pathlib import Path

from .. import timing
from ..remote import free_port
from ..scenarios import Notice, Scenario
from . import MTA, count_files, with_hostname

SPOOL = Path("/var/spool/smtpd")


class OpenSMTPD(MTA):
    name = "opensmtpd"

    @classmethod
    def reported_status(cls, sc: Scenario, notice: Notice) -> str:
        # OpenSMTPD 6.8 writes generic codes (5.0.0 failed, 4.0.0 delayed) and keeps
        # the remote's reply in the text; its expiry notice says 4.4.7 (and, as it
        # happens, "Action: delayed" and "delayed for more than 0 seconds").
        if notice is Notice.DELAY:
            return "4.0.0"
        return "4.4.7" if sc.temporary else "5.0.0"

    def start(self) -> None:
        if SPOOL.exists() and any(SPOOL.glob("queue/*")):
            raise RuntimeError(f"{SPOOL} already holds a queue: is another OpenSMTPD running?")
        self.submit_port = free_port()
        lines = [
            f"queue ttl {timing.QUEUE_LIFETIME}s",
            f"bounce warn-interval {timing.DELAY_WARNING}s",
            f"listen on 127.0.0.1 port {self.submit_port} hostname mta-opensmtpd.example.org",
        ]
        for i, (domain, (host, port)) in enumerate(self.ports.destinations().items()):
            lines.append(
                f'action "to{i}" relay host smtp://{host}:{port} helo mta-opensmtpd.example.org'
            )
            lines.append(f'match from any for domain "{domain}" action "to{i}"')
        self.conf = self.work / "smtpd.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.smtpd = self.root / "root-opensmtpd/usr/sbin/smtpd"
        self.smtpctl = self.root / "root-opensmtpd/usr/sbin/smtpctl"
        # smtpctl talks to the daemon only when setgid opensmtpq (dpkg-deb -x ran
        # before that group existed).
        os.chown(self.smtpctl, 0, grp.getgrnam("opensmtpq").gr_gid)
        self.smtpctl.chmod(0o2555)
        self.run(self.smtpd, "-n", "-f", self.conf)
        self.log = open(self.work / "smtpd.log", "w")  # noqa: SIM115 - open while smtpd runs
        self.proc = subprocess.Popen(
            [
                *with_hostname("mta-opensmtpd.example.org"),
                str(self.smtpd),
                "-d",
                "-v",
                "-f",
                str(self.conf),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(2)
        self.kicked = time.time()

    def kick(self) -> None:
        # Its own backoff (400 s, then 1600 s, ...) is far longer than our queue lifetime.
        if time.time() - self.kicked >= timing.RETRY:
            self.kicked = time.time()
            self.run(self.smtpctl, "schedule", "all", check=False)

    def queue_size(self) -> int:
        return count_files(SPOOL / "queue", SPOOL / "incoming")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(SPOOL, ignore_errors=True)
