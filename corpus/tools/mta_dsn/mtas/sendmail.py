"""Sendmail from Debian's sendmail-bin .deb, unpacked; sendmail.cf built with m4 from
sendmail-cf's macros, run with sendmail -C.

Messages are injected on the command line (sendmail -odq) and a queue-runner
process (sendmail -q) delivers them: no listening daemon is needed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from email.message import EmailMessage
from types import MappingProxyType

from .. import timing
from ..scenarios import Notice, Scenario, Stage
from . import MTA, count_files, with_hostname

MC = """\
divert(-1)
divert(0)dnl
include(`{cf}/m4/cf.m4')dnl
VERSIONID(`bounce corpus')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mta-sendmail.example.org')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confTO_QUEUEWARN', `{warn}s')dnl
define(`confTO_QUEUERETURN', `{life}s')dnl
define(`confTO_CONNECT', `{timeout}s')dnl
define(`confTO_ICONNECT', `{timeout}s')dnl
define(`confTO_INITIAL', `{timeout}s')dnl
define(`confTO_HELO', `{timeout}s')dnl
define(`confMIN_QUEUE_AGE', `0')dnl
define(`QUEUE_DIR', `{work}/mqueue')dnl
define(`confPID_FILE', `{work}/sendmail.pid')dnl
define(`STATUS_FILE', `{work}/statistics')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confHOSTS_FILE', `{work}/hosts')dnl
define(`confSERVICE_SWITCH_FILE', `{work}/service.switch')dnl
define(`confCW_FILE', `-o {work}/local-host-names')dnl
define(`ALIAS_FILE', `')dnl
define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe,MapInUnsafeDirPath')dnl
define(`confLOG_LEVEL', `9')dnl
FEATURE(`nocanonify')dnl
FEATURE(`mailertable', `hash {work}/mailertable')dnl
MAILER(`smtp')dnl
MAILER_DEFINITIONS
{mailers}
"""

HOSTNAME = "mta-sendmail.example.org"

# One esmtp-like mailer per port: sendmail's mailertable names a host, not a port.
MAILER = (
    "Mport{port},\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, "
    "E=\\r\\n, L=990, T=DNS/RFC822/SMTP, A=TCP $h {port}"
)


class Sendmail(MTA):
    name = "sendmail"
    # Sendmail's own codes: 4.4.1 connection refused, 4.4.2 timed out, and 4.4.7
    # (delivery time expired) on the final notice whatever the last reply was.
    connection_status = MappingProxyType({Stage.REFUSED: "4.4.1", Stage.SILENT: "4.4.2"})

    @classmethod
    def reported_status(cls, sc: Scenario, notice: Notice) -> str:
        if sc.temporary and notice is Notice.FINAL:
            return "4.4.7"
        if sc.stage is Stage.GREETING:
            return "4.5.0"  # no EHLO yet, so the banner's code is not trusted
        if sc.stage is Stage.RCPT and not sc.enhanced and sc.replycode == "550":
            return "5.1.1"  # its own code for a bare 550 to RCPT
        return super().reported_status(sc, notice)

    def start(self) -> None:
        sm = self.root / "root-sendmail"
        self.binary = str(sm / "usr/libexec/sendmail/sendmail")
        cf = sm / "usr/share/sendmail/cf"
        (self.work / "mqueue").mkdir(mode=0o700, parents=True, exist_ok=True)
        dest = self.ports.destinations()
        (self.work / "service.switch").write_text("hosts files\naliases files\n")
        (self.work / "local-host-names").write_text("")
        (self.work / "hosts").write_text(f"127.0.0.1 {HOSTNAME} localhost\n")
        (self.work / "mailertable").write_text(
            "".join(f"{d}\tport{p}:[{h}]\n" for d, (h, p) in dest.items())
        )
        mc = MC.format(
            cf=cf,
            work=self.work,
            warn=timing.DELAY_WARNING,
            life=timing.QUEUE_LIFETIME,
            timeout=timing.TIMEOUT,
            mailers="\n".join(MAILER.format(port=p) for p in sorted({p for _, p in dest.values()})),
        )
        (self.work / "sendmail.mc").write_text(mc)
        m4 = self.root / "root-m4/usr/bin/m4"
        out = self.run(m4 if m4.exists() else "m4", self.work / "sendmail.mc")
        self.cf = self.work / "sendmail.cf"
        self.cf.write_text(out.stdout)
        self.run(
            sm / "usr/libexec/sendmail/makemap",
            "-C",
            self.cf,
            "hash",
            self.work / "mailertable",
            stdin_file=self.work / "mailertable",
        )
        self.proc = subprocess.Popen(
            [*self.named(), self.binary, "-C", str(self.cf), f"-q{timing.RETRY}s"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def submit(self, msg: EmailMessage, sender: str, rcpts: list[str]) -> None:
        self.run(
            *self.named(),
            self.binary,
            "-C",
            self.cf,
            "-odq",
            "-f",
            sender,
            *rcpts,
            input=msg.as_bytes(),
        )

    @staticmethod
    def named() -> list[str]:
        # A host name with a dot: sendmail sleeps a minute at start when the machine's
        # short name cannot be qualified (no DNS here).
        return with_hostname(HOSTNAME)

    def queue_size(self) -> int:
        return count_files(self.work / "mqueue")

    def stop(self) -> None:
        pid_file = self.work / "sendmail.pid"
        pids = {self.proc.pid}
        if pid_file.exists():
            first = pid_file.read_text().split()[0]
            if first.isdigit():
                pids.add(int(first))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        self.proc.wait(10)
