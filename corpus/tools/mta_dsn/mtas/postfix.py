"""Postfix, as installed from Debian, run with its own config_directory (postfix -c)."""

from __future__ import annotations

import shutil
from types import MappingProxyType

from .. import timing
from ..remote import free_port
from ..scenarios import Stage
from . import MTA, count_files

# Every daemon unchrooted: the private queue has no copies of /etc for a chroot.
MASTER_CF = """\
{listen}  inet  n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix(MTA):
    name = "postfix"
    # Postfix's own codes when there was no reply: 4.4.1 no answer, 4.4.2 timed out.
    connection_status = MappingProxyType({Stage.REFUSED: "4.4.1", Stage.SILENT: "4.4.2"})

    def start(self) -> None:
        conf = self.work / "etc"
        queue = self.work / "queue"
        data = self.work / "data"
        for d in (conf, queue, data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postfix")
        self.submit_port = free_port()
        routes = {d: f"smtp:[{h}]:{p}" for d, (h, p) in self.ports.destinations().items()}
        transport = ", ".join(f"{d}={t}" for d, t in routes.items())
        main_cf = f"""\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mta-postfix.example.org
mydomain = example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
transport_maps = inline:{{ {transport} }}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
maximal_queue_lifetime = {timing.QUEUE_LIFETIME}s
bounce_queue_lifetime = {timing.QUEUE_LIFETIME}s
delay_warning_time = {timing.DELAY_WARNING}s
queue_run_delay = {timing.RETRY}s
minimal_backoff_time = {timing.RETRY}s
maximal_backoff_time = {timing.RETRY}s
smtp_connect_timeout = {timing.TIMEOUT}s
smtp_helo_timeout = {timing.TIMEOUT}s
smtp_connection_cache_on_demand = no
syslog_name = postfix-mtadsn
maillog_file = {self.work}/maillog
maillog_file_prefixes = {self.work}
meta_directory = /etc/postfix
"""
        (conf / "main.cf").write_text(main_cf)
        (conf / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.submit_port}"))
        self.conf = conf
        self.queue = queue
        self.run("postfix", "-c", conf, "check", check=False)
        self.run("postfix", "-c", conf, "start")

    def queue_size(self) -> int:
        q = self.queue
        return count_files(q / "incoming", q / "active", q / "deferred", q / "maildrop", q / "hold")

    def stop(self) -> None:
        self.run("postfix", "-c", self.conf, "stop", check=False)
