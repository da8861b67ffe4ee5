"""Exim 4 from Debian's exim4-daemon-light .deb, unpacked, run with exim -C config."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal

from .. import timing
from ..remote import free_port
from ..scenarios import Notice, Scenario
from . import MTA

CONFIG = """\
primary_hostname = mta-exim.example.org
qualify_domain = example.org
spool_directory = {work}/spool
log_file_path = {work}/log/%slog
pid_file_path = {work}/exim.pid
exim_path = {exim}
local_interfaces = 127.0.0.1
daemon_smtp_ports = {port}
host_lookup =
smtp_accept_queue_per_connection = 0
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt
delay_warning = {warn}s:1d
timeout_frozen_after = {life}s
ignore_bounce_errors_after = {life}s
retry_data_expire = 1h
tls_advertise_hosts =
keep_environment = LD_LIBRARY_PATH

begin acl
acl_check_rcpt:
  accept hosts = 127.0.0.1
  deny

begin routers
scripted:
  driver = manualroute
  domains = {domains}
  transport = scripted_smtp
  route_data = ${{lookup{{$domain}}lsearch{{{work}/hosts}}}}
  self = send

begin transports
scripted_smtp:
  driver = smtp
  port = ${{lookup{{$domain}}lsearch{{{work}/ports}}}}
  connect_timeout = {timeout}s
  command_timeout = {timeout}s
  hosts_avoid_tls = *
  hosts_try_chunking =
  hosts_try_fastopen =
  # Every route is 127.0.0.1 (ports differ): never pass a queued message down a
  # connection opened for another port.
  connection_max_messages = 1

begin retry
*  *  F,{life}s,{retry}s

begin rewrite
"""


class Exim(MTA):
    name = "exim"

    @classmethod
    def reported_status(cls, sc: Scenario, notice: Notice) -> str:
        # Exim 4.96 writes a generic Status (5.0.0 failed, 4.0.0 delayed) and keeps the
        # remote's enhanced code in Diagnostic-Code only.
        return "4.0.0" if notice is Notice.DELAY else "5.0.0"

    def binary(self) -> list[str]:
        return [str(self.root / "root-exim/usr/sbin/exim4"), "-C", str(self.work / "exim.conf")]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LD_LIBRARY_PATH": str(self.root / "root-exim/usr/lib/x86_64-linux-gnu"),
        }

    def start(self) -> None:
        for d in ("spool", "log"):
            (self.work / d).mkdir(parents=True, exist_ok=True)
            shutil.chown(self.work / d, "Debian-exim", "Debian-exim")
        self.submit_port = free_port()
        dest = self.ports.destinations()
        (self.work / "ports").write_text("".join(f"{d}: {p}\n" for d, (_, p) in dest.items()))
        (self.work / "hosts").write_text("".join(f"{d}: {h}\n" for d, (h, _) in dest.items()))
        (self.work / "exim.conf").write_text(
            CONFIG.format(
                exim=self.binary()[0],
                work=self.work,
                port=self.submit_port,
                domains=" : ".join(dest),
                warn=timing.DELAY_WARNING,
                life=timing.QUEUE_LIFETIME,
                retry=timing.RETRY,
                timeout=timing.TIMEOUT,
            )
        )
        self.run(*self.binary(), "-bV", env=self.env())
        self.run(*self.binary(), "-bd", f"-q{timing.RETRY}s", env=self.env())

    def queue_size(self) -> int:
        out = self.run(*self.binary(), "-bpc", env=self.env(), check=False).stdout.strip()
        return int(out) if out.isdigit() else 0

    def stop(self) -> None:
        pid_file = self.work / "exim.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
