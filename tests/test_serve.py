"""``bounceback serve`` as a real process: Maildir poller, SMTP receiver and HTTP app
(Postmark webhook, /health, /metrics) on loopback, stopped by SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bounceback import config as config_mod
from bounceback.config import ConfigError
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.serve import open_mailbox
from bounceback.serve_config import serve_config
from bounceback.web.auth import create_api_key

EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"
BIN = Path(sys.executable).parent / "bounceback"
MAILDIR_MESSAGES = ("lhost-sendmail-02.eml", "lhost-exim-02.eml")
POSTMARK_BOUNCE: dict[str, Any] = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Description": "The server was unable to deliver your message.",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jane@example.com",
    "From": "news@news.example.org",
    "BouncedAt": "2026-11-20T09:14:02Z",
    "Subject": "November news",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Setup:
    root: Path
    config: Path
    http: int
    smtp: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def ledger(self) -> Ledger:
        return Ledger.open(config_mod.load(self.config, env={}))


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    maildir = tmp_path / "mail" / "bounces"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i, name in enumerate(MAILDIR_MESSAGES):
        (maildir / "new" / f"17639000{i:02d}.M1P1.test").write_bytes((EMAILS / name).read_bytes())
    http, smtp = free_port(), free_port()
    config = tmp_path / "bounceback.toml"
    config.write_text(
        f"""
poll_interval = 0.3

[database]
url = "sqlite:///{tmp_path / "ledger.db"}"

[verp]
domain = "bounces.sender.example"
active_key = "k1"

[verp.keys]
k1 = "0123456789abcdef-secret-key"

[[sources.maildir]]
name = "bounces"
path = "mail/bounces"

[smtpd]
listen = "127.0.0.1:{smtp}"

[webhooks.postmark]
user = "hook"
password = "s3cret"

[http]
listen = "127.0.0.1:{http}"
""",
        encoding="utf-8",
    )
    return Setup(tmp_path, config, http, smtp)


@pytest.fixture
def start(setup: Setup) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def run(*extra: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNCEBACK_")}
        proc = subprocess.Popen(
            [str(BIN), "serve", "--config", str(setup.config), *extra],
            cwd=setup.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"{setup.url}/health", timeout=1).status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("serve did not answer /health")

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def messages_by_source(setup: Setup) -> dict[str, int]:
    ledger = setup.ledger()
    try:
        m = t.messages.c
        with ledger.engine.connect() as conn:
            rows = conn.execute(select(m.source, func.count()).group_by(m.source))
            return {str(source): int(n) for source, n in rows}
    finally:
        ledger.close()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of ``name`` whose labels include ``labels`` (summed)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_serve_runs_every_part_and_stops_on_sigterm(setup: Setup, start: Any) -> None:
    ledger = setup.ledger()
    try:
        ledger.add_campaign("spring")
        ledger.add_contact("neko@example.org")
        send_id = ledger.record_send("neko@example.org", "spring")
        assert ledger.signer is not None
        rcpt = ledger.signer.address(send_id)
        api_key = create_api_key(ledger, "prometheus", "read")
    finally:
        ledger.close()
    proc = start()

    # The Maildir poller drains both messages into the ledger and moves them on.
    wait_for(lambda: messages_by_source(setup).get("maildir", 0) == len(MAILDIR_MESSAGES))
    assert wait_for(lambda: not os.listdir(setup.root / "mail" / "bounces" / "new"))

    # A DSN to a VERP address: 250 only once it is in the ledger.
    dsn = (EMAILS / "lhost-postfix-02.eml").read_bytes().replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", setup.smtp, timeout=10) as smtp:
        smtp.ehlo("mta.test")
        smtp.mail("")
        assert smtp.rcpt(rcpt)[0] == 250
        assert smtp.rcpt("nobody@elsewhere.example")[0] == 550
        code, _ = smtp.data(dsn)
        assert code == 250
    ledger = setup.ledger()
    try:
        view = ledger.contact_view("neko@example.org")
        assert view is not None and view["history"], view
    finally:
        ledger.close()

    # A Postmark webhook: basic auth checked; wrong credentials change nothing.
    body = json.dumps(POSTMARK_BOUNCE).encode()
    good = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"hook:guess").decode()
    url = f"{setup.url}/webhooks/postmark"
    headers = {"Content-Type": "application/json"}
    assert httpx.post(url, content=body, headers={**headers, "Authorization": bad}).status_code in (
        401,
        403,
    )
    answer = httpx.post(url, content=body, headers={**headers, "Authorization": good})
    assert answer.status_code == 200, answer.text

    health = httpx.get(f"{setup.url}/health").json()
    assert health["ok"] is True
    assert health["sources"]["bounces"]["last_poll"]
    # /metrics wants an API key (issue 5: only /health and signed webhooks are open).
    assert httpx.get(f"{setup.url}/metrics").status_code == 401
    wrong = {"Authorization": "Bearer bb_00000000_not-a-key"}
    assert httpx.get(f"{setup.url}/metrics", headers=wrong).status_code == 401
    answer = httpx.get(f"{setup.url}/metrics", headers={"Authorization": f"Bearer {api_key}"})
    assert answer.status_code == 200
    text = answer.text
    assert metric(text, "bounceback_messages_total", source="bounces") == len(MAILDIR_MESSAGES)
    assert metric(text, "bounceback_messages_total", source="smtp", outcome="matched") == 1
    assert metric(text, "bounceback_smtp_messages_total", result="accepted") == 1
    assert metric(text, "bounceback_smtp_rejections_total", code="550") == 1
    assert metric(text, "bounceback_messages_total", source="webhooks") == 1
    assert "# TYPE bounceback_poll_errors_total counter" in text

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert "event=stopped" in out


def test_only_http_serves_no_smtp_and_polls_nothing(setup: Setup, start: Any) -> None:
    proc = start("--only", "http")
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", setup.smtp), timeout=2):
        pass
    time.sleep(1)  # three poll intervals: a poller would have taken the messages
    assert len(os.listdir(setup.root / "mail" / "bounces" / "new")) == len(MAILDIR_MESSAGES)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    def settings(text: str) -> Any:
        path = tmp_path / "c.toml"
        path.write_text(text, encoding="utf-8")
        return serve_config(config_mod.load(path, env={}))

    got = settings('[[sources.imap]]\nhost = "imap.example"\nuser = "u"\npurpose = "both"\n')
    assert got.mailboxes[0].purpose == "both" and got.mailboxes[0].config.host == "imap.example"
    assert settings('[[sources.maildir]]\npath = "m"\n').mailboxes[0].config.path == tmp_path / "m"
    with pytest.raises(ConfigError, match=r"sources\.maildir\[0\]\.purpose"):
        settings('[[sources.maildir]]\npath = "m"\npurpose = "replies"\n')
    with pytest.raises(ConfigError, match=r"sources\.imap\[0\]\.user: required"):
        settings('[[sources.imap]]\nhost = "h"\n')
    with pytest.raises(ConfigError, match=r"smtpd\.listen"):
        settings('[smtpd]\nlisten = "nowhere"\n')
    with pytest.raises(ConfigError, match=r"sources\.pop3\[0\]\.hots: unknown key"):
        settings('[[sources.pop3]]\nhots = "h"\nuser = "u"\n')
    with pytest.raises(ConfigError, match=r"webhooks\.mailgun\.signing_key"):
        settings("[webhooks.mailgun]\nmax_age = 60\n")


def test_a_mailbox_purpose_reaches_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "l.db"}"\n'
        '[[sources.maildir]]\npath = "replies"\npurpose = "activities"\n',
        encoding="utf-8",
    )
    config = config_mod.load(path, env={})
    spec = serve_config(config).mailboxes[0]
    source = open_mailbox(spec)  # creates the missing Maildir
    reply = (EMAILS / "reply-human-01.eml").read_bytes()
    (tmp_path / "replies" / "new" / "1763900000.M1P1.test").write_bytes(reply)
    ledger = Ledger.open(config)
    try:
        # A human reply is filed under "activities"; under "bounces" it would be ignored.
        assert source.poll(ledger).summary.filed == 1
    finally:
        ledger.close()


@pytest.mark.parametrize("name", ["bounceback.example.toml", "samples/serve.toml"])
def test_shipped_configs_are_valid(name: str) -> None:
    root = Path(__file__).resolve().parent.parent
    settings = serve_config(config_mod.load(root / name, env={}))
    assert settings.http_listen is not None and settings.smtpd is not None
    assert settings.mailboxes


def test_smtp_rejections_are_counted_by_code(tmp_path: Path) -> None:
    """550 (no such bounce address), 552 (too big) and 451 (queue full) each show in
    bounceback_smtp_rejections_total with their code."""
    from bounceback.serve import Server
    from bounceback.serve_config import ServeConfig
    from bounceback.sources.smtpd import SmtpdConfig

    config = config_mod.Config(database_url=f"sqlite:///{tmp_path / 'l.db'}")
    ledger = Ledger.open(config)
    smtpd = SmtpdConfig(
        port=0, catch_all=["bounces@sender.example"], max_message_bytes=20_000, max_pending=1
    )
    server = Server(ServeConfig(smtpd=smtpd), ledger, "smtp")
    gate, inside = threading.Event(), threading.Event()
    real = ledger.commit

    def held(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        gate.wait(10)  # the committer is busy: the queue fills
        return real(*args, **kwargs)

    ledger.commit = held  # type: ignore[method-assign]
    server.start()
    port = server._receiver.port
    dsn = (EMAILS / "lhost-postfix-02.eml").read_bytes().replace(b"\n", b"\r\n")

    def deliver() -> int:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo("mta.test")
            smtp.mail("")
            smtp.rcpt("bounces@sender.example")
            try:
                return int(smtp.data(dsn)[0])
            except smtplib.SMTPDataError as exc:  # raised on anything but 250
                return int(exc.smtp_code)

    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo("mta.test")
            smtp.mail("")
            assert smtp.rcpt("someone@elsewhere.example")[0] == 550
            smtp.rset()
            assert smtp.mail("", ["SIZE=50000"])[0] == 552
        with ThreadPoolExecutor(3) as pool:
            first = pool.submit(deliver)  # taken by the committer, which waits
            assert inside.wait(10)
            second = pool.submit(deliver)  # waits in the queue (max_pending = 1)
            time.sleep(0.5)
            assert deliver() == 451  # the queue is full: back-pressure
            gate.set()
            assert (first.result(10), second.result(10)) == (250, 250)
    finally:
        gate.set()
        server.stop()
        ledger.close()
    text = server.metrics.text()
    assert metric(text, "bounceback_smtp_rejections_total", code="550") == 1
    assert metric(text, "bounceback_smtp_rejections_total", code="552") == 1
    assert metric(text, "bounceback_smtp_rejections_total", code="451") == 1
    assert metric(text, "bounceback_smtp_messages_total", result="accepted") == 2


def test_the_demo_samples_all_match_the_demo_contacts(tmp_path: Path) -> None:
    """What ./run.sh serve sets up: samples/contacts.csv knows every recipient of the
    sample bounces it drops into the demo Maildir, so the demo ledger fills."""
    root = Path(__file__).resolve().parent.parent
    env = {"BOUNCEBACK_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    config = config_mod.load(root / "samples" / "serve.toml", env=env)
    ledger = Ledger.open(config)
    try:
        imported = ledger.import_contacts((root / "samples" / "contacts.csv").read_text())
        assert imported.errors == []
        samples = sorted((root / "samples").glob("*.eml"))
        outcomes = [ledger.process_bytes(p.read_bytes(), p.name).outcome for p in samples]
    finally:
        ledger.close()
    assert len(samples) >= 10 and outcomes == ["matched"] * len(samples)
