"""The SMTP receiver, spoken to with smtplib on loopback, the ledger on SQLite."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from certs import self_signed

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.match.verp import VerpSigner
from bounceback.model import RawMessage
from bounceback.sources.smtpd import ReceiverThread, SmtpdConfig, ledger_sink

DOMAIN = "bounces.sender.example"
KEYS = {"k1": b"0123456789abcdef-secret-key"}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
# On the wire lines end in CRLF.
DSN = (FIXTURES / "lhost-postfix-02.eml").read_bytes().replace(b"\n", b"\r\n")
RECIPIENT = "userunknown@example.co.jp"  # one of the DSN's failed recipients


def make_ledger(path: Path) -> Ledger:
    return make_ledger_at(f"sqlite:///{path / 'ledger.db'}")


def make_ledger_at(url: str) -> Ledger:
    config = Config(database_url=url, lock_timeout_ms=5000)
    config.verp.domain = DOMAIN
    config.verp.active_key = "k1"
    config.verp.keys = dict(KEYS)
    return Ledger.open(config)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = make_ledger(tmp_path)
    yield opened
    opened.close()


def receiver(ledger: Ledger, **options: object) -> ReceiverThread:
    config = SmtpdConfig(host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
    return ReceiverThread(config, ledger_sink(ledger), ledger.signer)


def verp(ledger: Ledger, email: str) -> str:
    if ledger.contact_view(email) is None:
        ledger.add_contact(email)
    send_id = ledger.record_send(email, "spring")
    assert ledger.signer is not None
    return ledger.signer.address(send_id)


def client(port: int) -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
    smtp.ehlo("mta.test")
    return smtp


def test_verified_verp_is_stored_and_matched_by_the_envelope(ledger: Ledger) -> None:
    ledger.add_campaign("spring")
    rcpt = verp(ledger, "neko@example.org")
    # The DSN names other addresses and no Return-Path: only the RCPT can match it.
    with receiver(ledger) as rx, client(rx.port) as smtp:
        assert smtp.has_extn("size")
        smtp.mail("")
        assert smtp.rcpt(rcpt)[0] == 250
        code, text = smtp.data(DSN)
        assert code == 250, text
    view = ledger.contact_view("neko@example.org")
    assert view is not None and view["history"]
    assert {h["match_method"] for h in view["history"]} == {"verp"}
    # Two failed recipients, both tied to neko's send by the token: one bounced address.
    assert ledger.campaign_stats("spring")["hard_bounces"] == 1


def test_unknown_foreign_forged_and_expired_recipients_get_550(ledger: Ledger) -> None:
    ledger.add_contact("neko@example.org")
    send_id = ledger.record_send("neko@example.org")
    forger = VerpSigner({"k1": b"a guessed secret key!"}, "k1", DOMAIN)
    assert ledger.signer is not None
    old = ledger.signer.address(send_id, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=90))
    refused = [
        f"postmaster@{DOMAIN}",
        f"bounce+42@{DOMAIN}",
        "someone@elsewhere.example",
        ledger.signer.address(send_id).replace(DOMAIN, "elsewhere.example"),
        forger.address(send_id),
        old,
    ]
    with receiver(ledger) as rx, client(rx.port) as smtp:
        smtp.mail("")
        for address in refused:
            code, text = smtp.rcpt(address)
            assert (code, text[:5]) == (550, b"5.1.1"), address
        assert smtp.docmd("DATA")[0] == 503  # no recipient was accepted
    assert ledger.messages("quarantined") == [] and ledger.messages("matched") == []


def test_catch_all_address_is_accepted(ledger: Ledger) -> None:
    with receiver(ledger, catch_all=[f"Bounces@{DOMAIN}"]) as rx, client(rx.port) as smtp:
        smtp.mail("")
        assert smtp.rcpt(f"bounces@{DOMAIN}")[0] == 250
        assert smtp.data(DSN)[0] == 250
    assert len(ledger.messages("unmatched")) == 1


def test_forged_dsn_through_the_catch_all_silences_nobody(ledger: Ledger) -> None:
    """With signed VERP configured, a DSN that proves no send is kept but never acts."""
    ledger.add_contact(RECIPIENT)
    ledger.record_send(RECIPIENT)
    with receiver(ledger, catch_all=[f"bounces@{DOMAIN}"]) as rx, client(rx.port) as smtp:
        smtp.mail("")
        assert smtp.rcpt(f"bounces@{DOMAIN}")[0] == 250
        assert smtp.data(DSN)[0] == 250
    view = ledger.contact_view(RECIPIENT)
    assert view is not None and view["email"] == RECIPIENT and not view["bounced"]
    assert view["history"][0]["effects"] == {"unverified": True}
    assert not ledger.is_suppressed(RECIPIENT)


def test_unsigned_send_ids_are_taken_only_where_the_site_opted_in(ledger: Ledger) -> None:
    ledger.add_contact(RECIPIENT)
    send_id = ledger.record_send(RECIPIENT)
    with receiver(ledger) as rx, client(rx.port) as smtp:
        smtp.mail("")
        assert smtp.rcpt(f"id.{send_id}@{DOMAIN}")[0] == 550
    ledger.config.verp.accept_unsigned = True  # what [verp] accept_unsigned = true sets
    with receiver(ledger, unsigned_domain=DOMAIN) as rx, client(rx.port) as smtp:
        smtp.mail("")
        assert smtp.rcpt(f"id.{send_id}@elsewhere.example")[0] == 550
        assert smtp.rcpt(f"bounce+id.{send_id}@{DOMAIN}")[0] == 250
        assert smtp.data(DSN)[0] == 250
    view = ledger.contact_view(RECIPIENT)
    assert view is not None and view["history"][0]["match_method"] == "civicrm"
    assert view["bounced"] and ledger.is_suppressed(RECIPIENT)


def test_size_declared_or_counted_beyond_the_limit_is_552(ledger: Ledger) -> None:
    rcpt = verp(ledger, "neko@example.org")
    with receiver(ledger, max_message_bytes=20_000) as rx, client(rx.port) as smtp:
        assert smtp.esmtp_features["size"] == "20000"
        code, text = smtp.mail("", ["SIZE=50000"])
        assert (code, text[:5]) == (552, b"5.3.4")
        # A client that lies about the size: the bytes are counted in DATA.
        smtp.mail("", ["SIZE=1000"])
        smtp.rcpt(rcpt)
        code, text = smtp.data(DSN + (b"y" * 78 + b"\r\n") * 1000)
        assert (code, text[:5]) == (552, b"5.3.4")
        assert smtp.noop()[0] == 250  # the session goes on
    assert ledger.messages("unmatched") == [] and ledger.messages("matched") == []


def test_a_100_mb_message_is_refused_without_holding_it_in_memory(ledger: Ledger) -> None:
    rcpt = verp(ledger, "neko@example.org")
    with receiver(ledger, max_message_bytes=1_000_000) as rx:
        sock = socket.create_connection(("127.0.0.1", rx.port), timeout=30)
        replies = sock.makefile("rb")

        def command(line: bytes) -> bytes:
            sock.sendall(line + b"\r\n")
            reply = replies.readline()
            while reply[3:4] == b"-":
                reply = replies.readline()
            return reply

        replies.readline()
        command(b"EHLO big.test")
        command(b"MAIL FROM:<>")  # no SIZE: the client does not say
        command(b"RCPT TO:<" + rcpt.encode() + b">")
        assert command(b"DATA").startswith(b"354")
        megabyte = (b"y" * 78 + b"\r\n") * 12_800
        before = rss_mb()
        for _ in range(100):
            sock.sendall(megabyte)
        assert command(b".").startswith(b"552 5.3.4")
        assert rss_mb() - before < 30  # read and dropped, never kept
        assert command(b"QUIT").startswith(b"221")
        sock.close()
    assert ledger.messages("matched") == []


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def test_nonsense_commands_are_refused_and_the_session_survives(ledger: Ledger) -> None:
    rcpt = verp(ledger, "neko@example.org")
    with receiver(ledger) as rx, client(rx.port) as smtp:
        assert smtp.docmd("XYZZY", "plugh")[0] == 500
        assert smtp.docmd("RCPT TO:<" + rcpt + ">")[0] == 503  # before MAIL
        assert smtp.docmd("DATA")[0] == 503
        assert smtp.docmd("MAIL", "FROM:garbage <<>>")[0] == 501
        smtp.send(b"\x00\x01\xff\xfe binary junk\r\n")
        assert smtp.getreply()[0] == 500
        smtp.mail("")
        assert smtp.rcpt(rcpt)[0] == 250
        assert smtp.data(DSN)[0] == 250


def test_one_connection_carries_many_messages(ledger: Ledger) -> None:
    # MTAs reuse a connection: command limits must not cut a busy one off.
    rcpt = verp(ledger, "neko@example.org")
    with receiver(ledger) as rx, client(rx.port) as smtp:
        for _ in range(250):
            smtp.mail("")
            smtp.rcpt(rcpt)
            assert smtp.data(DSN)[0] == 250
    assert len(ledger.messages("matched")) == 1  # the same bytes: one message


def test_connections_per_client_are_limited(ledger: Ledger) -> None:
    with receiver(ledger, max_connections_per_client=2) as rx:
        first, second = client(rx.port), client(rx.port)
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", rx.port, timeout=10)
        assert refused.value.smtp_code == 421
        first.quit()
        time.sleep(0.2)
        third = client(rx.port)  # a slot is free again
        assert third.noop()[0] == 250
        for smtp in (second, third):
            smtp.quit()


def test_message_rate_per_client_is_limited(ledger: Ledger) -> None:
    with receiver(ledger, rate_per_client=0.01, rate_burst=2) as rx, client(rx.port) as smtp:
        assert smtp.mail("")[0] == 250
        smtp.rset()
        assert smtp.mail("")[0] == 250
        smtp.rset()
        code, text = smtp.mail("")
        assert (code, text[:5]) == (450, b"4.7.1")


def test_full_queue_answers_451_and_nothing_is_lost(ledger: Ledger) -> None:
    rcpt = verp(ledger, "neko@example.org")
    release, entered = threading.Event(), threading.Event()
    real = ledger_sink(ledger)

    def slow(raws: list[RawMessage]) -> list[str]:
        entered.set()
        release.wait(10)
        return real(raws)

    config = SmtpdConfig(host="127.0.0.1", port=0, max_pending=1, batch_size=1)
    rx = ReceiverThread(config, slow, ledger.signer).start()

    def send(body: bytes) -> tuple[int, bytes]:
        with client(rx.port) as smtp:
            smtp.mail("")
            smtp.rcpt(rcpt)
            return smtp.data(body)

    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(send, DSN)  # in the sink
            assert entered.wait(5)
            second = pool.submit(send, DSN.replace(b"kijitora", b"kijineko"))  # queued
            committer = rx._committer
            assert committer is not None
            for _ in range(100):
                if committer.queue.full():
                    break
                time.sleep(0.02)
            code, text = send(DSN.replace(b"kijitora", b"shironeko"))
            assert (code, text[:5]) == (451, b"4.3.2")
            assert not first.done() and not second.done()  # no 250 before the commit
            release.set()
            assert first.result(10)[0] == 250 and second.result(10)[0] == 250
    finally:
        release.set()
        rx.stop()
    assert len(ledger.messages("matched")) == 2


def test_a_commit_that_fails_answers_451(ledger: Ledger) -> None:
    rcpt = verp(ledger, "neko@example.org")

    def broken(raws: list[RawMessage]) -> list[str]:
        return ["error"] * len(raws)

    config = SmtpdConfig(host="127.0.0.1", port=0)
    with ReceiverThread(config, broken, ledger.signer) as rx, client(rx.port) as smtp:
        smtp.mail("")
        smtp.rcpt(rcpt)
        code, text = smtp.data(DSN)
        assert (code, text[:5]) == (451, b"4.3.0")


def test_starttls_with_a_configured_certificate(ledger: Ledger, tmp_path: Path) -> None:
    import ssl

    cert, key = self_signed(tmp_path)
    rcpt = verp(ledger, "neko@example.org")
    with receiver(ledger, tls_cert=cert, tls_key=key) as rx, client(rx.port) as smtp:
        assert smtp.has_extn("starttls")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        assert smtp.starttls(context=context)[0] == 220
        smtp.ehlo("mta.test")
        smtp.mail("")
        assert smtp.rcpt(rcpt)[0] == 250
        assert smtp.data(DSN)[0] == 250
    assert len(ledger.messages("matched")) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a real Postfix writes the DSN -----------------------------------------------------

POSTFIX = Path("/usr/sbin/postfix")

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
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
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
showq     unix  n - n - - showq
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.sender.test
mydomain = sender.test
myorigin = mta.sender.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
relayhost = [127.0.0.1]:{remote}
transport_maps = inline:{{ {{{domain}=smtp:[127.0.0.1]:{receiver}}} }}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
biff = no
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


class RejectingMX:
    """The fake remote MX: refuses one chosen recipient with 550 5.1.1."""

    def __init__(self, refused: str) -> None:
        self.refused = refused

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        if address.lower() == self.refused:
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def test_real_postfix_bounce_reaches_the_ledger_matched_by_verp(ledger: Ledger) -> None:
    import os
    import subprocess
    import tempfile

    from aiosmtpd.controller import Controller

    if not POSTFIX.exists():
        if os.environ.get("CI"):
            pytest.fail("Postfix is not installed (Debian package postfix)")
        pytest.skip("Postfix is not installed (apt-get install postfix)")
    if os.geteuid() != 0:
        pytest.skip("a throwaway Postfix needs root (its queue is owned by the postfix user)")

    member = "nobody@remote.test"
    rcpt = verp(ledger, member)
    mx = Controller(RejectingMX(member), hostname="127.0.0.1", port=free_port())
    mx.start()
    rx = receiver(ledger).start()
    # Postfix's daemons run as the postfix user: the directory must be reachable.
    base = Path(tempfile.mkdtemp(prefix="bb-postfix-"))
    base.chmod(0o755)
    port = free_port()
    (base / "main.cf").write_text(
        MAIN_CF.format(dir=base, remote=mx.port, domain=DOMAIN, receiver=rx.port)
    )
    (base / "master.cf").write_text(MASTER_CF.format(port=port))
    (base / "queue").mkdir(mode=0o755)  # postfix check makes the rest
    (base / "data").mkdir()
    shutil.chown(base / "data", "postfix")

    def postfix(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(POSTFIX), "-c", str(base), *args], capture_output=True, text=True, timeout=30
        )

    try:
        checked = postfix("check")
        assert checked.returncode == 0, checked.stderr
        started = postfix("start")
        assert started.returncode == 0, started.stderr
        for _ in range(100):
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("Postfix did not listen")
        with smtp:
            smtp.sendmail(
                rcpt, [member], b"Subject: spring news\r\nFrom: news@sender.test\r\n\r\nHi\r\n"
            )
        history: list[dict[str, object]] = []
        for _ in range(300):
            view = ledger.contact_view(member)
            history = view["history"] if view else []
            if history:
                break
            time.sleep(0.1)
        log = (base / "maillog").read_text() if (base / "maillog").exists() else ""
        assert history, log
        assert history[0]["match_method"] == "verp"
        assert history[0]["hardbounce"] and history[0]["status"] == "5.1.1"
    finally:
        pid_file = base / "queue" / "pid" / "master.pid"
        if postfix("stop").returncode != 0 and pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), 15)
        rx.stop()
        mx.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_cli_smtpd_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    (tmp_path / "bounceback.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n\n'
        f'[verp]\ndomain = "{DOMAIN}"\nactive_key = "k1"\n\n'
        f'[verp.keys]\nk1 = "{KEYS["k1"].decode()}"\n'
    )
    env = {**os.environ, "BOUNCEBACK_CONFIG": str(tmp_path / "bounceback.toml")}
    env.pop("BOUNCEBACK_DATABASE_URL", None)
    ledger = make_ledger_at(f"sqlite:///{tmp_path / 'cli.db'}")
    rcpt = verp(ledger, "neko@example.org")
    port = free_port()
    command = str(Path(sys.executable).parent / "bounceback")
    cli = [command, "smtpd", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                smtp = client(port)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("bounceback smtpd did not listen")
        with smtp:
            smtp.mail("")
            assert smtp.rcpt(f"nobody@{DOMAIN}")[0] == 550
            assert smtp.rcpt(rcpt)[0] == 250
            assert smtp.data(DSN)[0] == 250
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    view = ledger.contact_view("neko@example.org")
    assert view is not None and view["history"][0]["match_method"] == "verp"
    ledger.close()
