"""A user's first hour, following the README: the demo, signed return paths by hand, the
SMTP receiver, the API's front page and docs, config mistakes and the small commands.

Everything goes through the real interfaces: the CLI (typer's CliRunner, or a
subprocess), HTTP (TestClient) and SMTP sessions (smtplib).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.config import ConfigError, load
from bounceback.ledger import Ledger
from bounceback.serve import Server
from bounceback.serve_config import ServeConfig, serve_config
from bounceback.sources.smtpd import ReceiverThread, ledger_sink
from bounceback.web import WebContext, mount
from bounceback.web.auth import create_api_key
from support.samples import dsn

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "samples" / "serve.toml"
EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"


class Demo:
    """The demo config (samples/serve.toml) on a database of the test's own."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.env = {
            "BOUNCEBACK_CONFIG": str(DEMO_CONFIG),
            "BOUNCEBACK_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        }

    def cli(self, *args: str, code: int = 0, stdin: str | None = None) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env, input=stdin)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.cli(*args, "--json", code=code).stdout)

    def ledger(self) -> Ledger:
        return Ledger.open(load(DEMO_CONFIG, env=self.env))


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.chdir(tmp_path)  # no stray ./bounceback.toml or ./bounceback.db
    site = Demo(tmp_path)
    site.cli("contacts", "import", str(ROOT / "samples" / "contacts.csv"))
    return site


# --- the demo feed ------------------------------------------------------------------------
def test_the_demo_feed_makes_its_bounces_prove_a_send(demo: Demo) -> None:
    """run.sh's feed: a send per sample bounce, its signed return path as Delivered-To.
    The bounces about one recipient then act; one about two proves no single send and
    stays unverified, as a forged one would."""
    out = demo.root / "stamped"
    env = {**os.environ, **demo.env}
    script = ROOT / "scripts" / "stamp_samples.py"
    done = subprocess.run(
        [sys.executable, str(script), str(DEMO_CONFIG), str(ROOT / "samples"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "samples stamped" in done.stdout
    stamped = sorted(out.glob("*.eml"))
    assert len(stamped) == len(list((ROOT / "samples").glob("*.eml")))
    exim = (out / "lhost-exim-07.eml").read_bytes()
    assert exim.startswith(b"Delivered-To: bounce+demo.")
    summary = demo.json("process", str(out))
    assert summary["matched"] == len(stamped) and summary["quarantined"] == 0
    [acted] = demo.json("contacts", "show", "shiba@example.com")["history"]
    assert acted["match_method"] == "verp" and "unverified" not in (acted["effects"] or {})
    two = demo.json("contacts", "show", "userunknown@example.co.jp")["history"]
    assert [event["effects"] for event in two] == [{"unverified": True}]
    shown = " ".join(demo.cli("contacts", "show", "userunknown@example.co.jp").stdout.split())
    assert "(unverified)" in shown and "unverified — it proves no send of ours" in shown


# --- sends add, verp address / check ---------------------------------------------------------
def test_sends_add_gives_a_return_path_that_verp_check_ties_to_the_send(demo: Demo) -> None:
    send = demo.json("sends", "add", "shiba@example.com", "--campaign", "demo")
    assert send["bounceback_id"].startswith(f"bb.{send['send_id']}.")
    address = send["return_path"]
    assert address.startswith("bounce+demo.") and address.endswith("@bounces.example.org")
    checked = demo.cli("verp", "check", address).stdout
    assert f"verifies: send {send['send_id']} " in checked
    shown = demo.json("sends", "show", str(send["send_id"]))
    assert (shown["email"], shown["campaign"], shown["return_path"]) == (
        "shiba@example.com",
        "demo",
        address,
    )
    quiet = demo.cli("sends", "add", "shiba@example.com", "--quiet").stdout.strip()
    assert (
        quiet.startswith("bounce+demo.")
        and "verifies: send" in demo.cli("verp", "check", quiet).stdout
    )
    made = demo.cli("verp", "address", str(send["send_id"])).stdout.strip()
    assert f"verifies: send {send['send_id']} " in demo.cli("verp", "check", made).stdout
    # One letter changed: the signature no longer holds.
    local, _, domain = address.partition("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    assert "does not verify" in demo.cli("verp", "check", forged, code=1).stdout
    assert (
        "does not verify" in demo.cli("verp", "check", "bounces@bounces.example.org", code=1).stdout
    )
    demo.cli("sends", "show", "999", code=1)
    assert "not an email address" in demo.cli("sends", "add", "nobody", code=2).output


def test_verp_commands_need_verp_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain.toml").write_text('[database]\nurl = "sqlite:///x.db"\n')
    result = CliRunner().invoke(app, ["verp", "address", "1", "--config", "plain.toml"])
    assert result.exit_code == 2 and "[verp] needs domain" in result.output
    assert not (tmp_path / "x.db").exists()


def test_verp_check_names_an_unsigned_id_only_where_the_config_trusts_it(tmp_path: Path) -> None:
    text = DEMO_CONFIG.read_text()
    trusting = tmp_path / "trusting.toml"
    trusting.write_text(
        text.replace('active_key = "demo"', 'active_key = "demo"\naccept_unsigned = true')
    )
    address = "id.42@bounces.example.org"
    runner = CliRunner()
    trusted = runner.invoke(app, ["verp", "check", address, "--config", str(trusting)])
    assert trusted.exit_code == 0 and "unsigned id of send 42" in trusted.stdout
    refused = runner.invoke(app, ["verp", "check", address, "--config", str(DEMO_CONFIG)])
    assert refused.exit_code == 1 and "does not verify" in refused.stdout


# --- the SMTP receiver, as the README tries it -----------------------------------------------
@pytest.fixture
def demo_receiver(demo: Demo) -> Iterator[tuple[Demo, Ledger, ReceiverThread]]:
    ledger = demo.ledger()
    smtpd = serve_config(ledger.config).smtpd
    assert smtpd is not None
    rx = ReceiverThread(replace(smtpd, port=0), ledger_sink(ledger), ledger.signer)
    with rx:
        yield demo, ledger, rx
    ledger.close()


def test_a_dsn_to_a_signed_return_path_acts_and_logs_one_line(
    demo_receiver: tuple[Demo, Ledger, ReceiverThread], caplog: pytest.LogCaptureFixture
) -> None:
    demo, _, rx = demo_receiver
    send = demo.json("sends", "add", "kijitora@example.org", "--campaign", "demo")
    message = dsn("kijitora@example.org", "5.1.1", serial=7)  # CRLF, as on the wire
    caplog.set_level(logging.INFO)
    with smtplib.SMTP("127.0.0.1", rx.port, timeout=10) as smtp:
        smtp.ehlo("mta.test")
        assert smtp.mail("")[0] == 250
        assert smtp.rcpt("somebody@bounces.example.org")[0] == 550
        assert smtp.rcpt("bounces@bounces.example.org")[0] == 250  # the demo's catch-all
        smtp.rset()
        smtp.mail("")
        assert smtp.rcpt(send["return_path"])[0] == 250
        assert smtp.data(message)[0] == 250
    view = demo.json("contacts", "show", "kijitora@example.org")
    assert view["bounced"] and view["history"][0]["match_method"] == "verp"
    lines = [r.getMessage() for r in caplog.records if "event=smtp_message" in r.getMessage()]
    assert len(lines) == 1
    assert f"rcpt={send['return_path']}" in lines[0] and "outcome=matched" in lines[0]
    assert f"bytes={len(message)}" in lines[0] and "client=127.0.0.1" in lines[0]
    # aiosmtpd's per-command chatter ("Connection lost" after QUIT...) stays below INFO.
    assert not [r for r in caplog.records if r.name == "mail.log" and r.levelno < logging.WARNING]


def test_one_dsn_by_smtp_and_by_file_is_one_message(
    demo_receiver: tuple[Demo, Ledger, ReceiverThread],
) -> None:
    """CRLF on the wire, LF in a Maildir file: line endings are not the message."""
    demo, _, rx = demo_receiver
    crlf = dsn("shiba@example.com", "5.2.2", "552 5.2.2 Mailbox full", serial=9)
    lf = crlf.replace(b"\r\n", b"\n")
    assert crlf.count(b"\r\n") > 20 and b"\r" not in lf
    with smtplib.SMTP("127.0.0.1", rx.port, timeout=10) as smtp:
        smtp.sendmail("", ["bounces@bounces.example.org"], crlf)
    (demo.root / "same.eml").write_bytes(lf)
    again = demo.json("process", str(demo.root / "same.eml"))
    assert again["duplicates"] == 1 and again["matched"] == 0
    assert len(demo.json("contacts", "show", "shiba@example.com")["history"]) == 1


# --- the API's front page and docs, /metrics -----------------------------------------------------
@pytest.fixture
def web(demo: Demo) -> Iterator[tuple[TestClient, str]]:
    ledger = demo.ledger()
    app_ = FastAPI()
    mount(app_, WebContext(ledger=ledger, secret_key="test secret"))
    key = create_api_key(ledger, "reader", "read")
    with TestClient(app_) as client:
        yield client, key
    ledger.close()


def test_the_api_index_lists_the_resources_without_a_key(web: tuple[TestClient, str]) -> None:
    client, _ = web
    for path in ("/api/v1/", "/api/v1"):
        index = client.get(path, follow_redirects=False)
        assert index.status_code == 200, path
    body = index.json()
    names = {r["name"] for r in body["resources"]}
    assert {"bounces", "contacts", "suppression", "campaigns", "sends"} <= names
    bounces = next(r for r in body["resources"] if r["name"] == "bounces")
    assert bounces["href"] == "/api/v1/bounces"
    assert {"method": "GET", "path": "/api/v1/bounces/{event_id}"}.items() <= {
        k: v for k, v in bounces["operations"][1].items() if k != "summary"
    }.items()
    assert body["docs"] == "/api/v1/docs" and body["openapi"] == "/api/v1/openapi.json"
    # The index is the only open part: the resources still need a key.
    assert client.get(bounces["href"]).status_code == 401


def test_the_docs_page_and_its_assets_come_from_us_and_the_schema_needs_a_key(
    web: tuple[TestClient, str],
) -> None:
    client, key = web
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    sources = [part.split('"')[1] for part in page.text.split("src=")[1:]]
    links = [part.split('"')[1] for part in page.text.split("href=")[1:]]
    assert sources and links and all(s.startswith("/api/v1/docs/") for s in sources + links)
    for asset in sources + links:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset
    assert "SwaggerUIBundle" in client.get("/api/v1/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/api/v1/openapi.json").status_code == 401
    schema = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {key}"})
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")


CHROMIUM = Path("/usr/bin/chromium")


def test_the_docs_page_loads_the_schema_with_a_key_and_tries_a_call(demo: Demo) -> None:
    """In a real browser: the key typed in loads the schema, "Try it out" calls the API
    under /api/v1 with it, and nothing is fetched from elsewhere."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "1":
            pytest.fail("/usr/bin/chromium is missing: CI must install it (.ci/apt-packages.txt)")
        pytest.skip("/usr/bin/chromium is not installed")
    import uvicorn
    from playwright.sync_api import sync_playwright

    ledger = demo.ledger()
    key = create_api_key(ledger, "docs", "read")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(Server(ServeConfig(), ledger).app(), port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    requested: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{base}/api/v1/docs")
            page.fill("#bb-key-input", "bb_wrong_key")
            page.click("button[type=submit]")
            # A locator, not wait_for_function: the page's CSP forbids eval.
            page.locator("#bb-key-status", has_text="unknown").wait_for()
            page.fill("#bb-key-input", key)
            page.click("button[type=submit]")
            page.wait_for_selector(".opblock")
            assert page.locator(".opblock").count() >= 30
            page.locator(".opblock-get").filter(has_text="/stats/reasons").first.click()
            page.click("button.try-out__btn")
            page.click("button.execute")
            page.wait_for_selector(".live-responses-table")
            status = page.locator(".live-responses-table tr.response td.response-col_status").first
            assert status.inner_text().strip() == "200"
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        ledger.close()
    assert f"{base}/api/v1/stats/reasons?limit=50" in requested
    assert all(url.startswith(base) for url in requested), requested


def test_metrics_answers_401_as_the_api_does(demo: Demo) -> None:
    ledger = demo.ledger()
    try:
        client = TestClient(Server(ServeConfig(), ledger).app())
        answer = client.get("/metrics")
        api = TestClient(Server(ServeConfig(), ledger).app()).get("/api/v1/bounces")
    finally:
        ledger.close()
    assert answer.status_code == 401 == api.status_code
    assert set(answer.json()) == set(api.json()) == {"error", "status"}
    assert answer.json()["status"] == 401


# --- config mistakes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("polling_interval = 5\n", "polling_interval: unknown key"),
        ("[smtp]\nlisten = '127.0.0.1:2525'\n", "smtp: unknown section"),
        ("[database]\nurll = 'sqlite:///x.db'\n", "database.urll: unknown key"),
        ("[verp]\ndomian = 'b.example'\n", "verp.domian: unknown key"),
        ("[policy.decay]\nstale_after = 3\n", "policy.decay.stale_after: unknown key"),
        ("[[rules]]\nsection = 'body'\n", "rules go in their own file"),
    ],
)
def test_unknown_keys_and_sections_are_named(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bounceback.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace(".", r"\.")):
        load(path, env={})
    result = CliRunner().invoke(app, ["serve", "--config", str(path)])
    assert result.exit_code == 2 and named in result.output


def test_serve_without_a_config_says_so_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["serve"], env={"BOUNCEBACK_DATABASE_URL": ""})
    assert result.exit_code == 2 and "no config file" in result.output
    (tmp_path / "empty.toml").write_text('[database]\nurl = "sqlite:///x.db"\n')
    nothing = CliRunner().invoke(app, ["serve", "--config", "empty.toml"])
    assert nothing.exit_code == 2 and "nothing to run" in nothing.output
    assert list(tmp_path.iterdir()) == [tmp_path / "empty.toml"]


# --- the small commands ------------------------------------------------------------------------
def test_explain_explains_every_message_of_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    for name in ("lhost-postfix-02.eml", "rfc3834-01.eml"):
        (tmp_path / "in" / name).write_bytes((EMAILS / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["explain", "in"])
    assert result.exit_code == 0
    out = result.stdout
    assert "lhost-postfix-02.eml" in out and "rfc3834-01.eml" in out
    assert "userunknown@example.co.jp" in out and "autoreply" in out


def test_parse_of_a_missing_file_is_an_error_and_no_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["parse", str(tmp_path / "nosuch.eml")])
    assert result.exit_code == 1
    assert "nosuch.eml: no such file or folder" in result.stderr
    assert "messages" not in result.stdout


def test_undo_until_now_and_empty_holds(demo: Demo) -> None:
    assert "no addresses on hold" in demo.cli("holds", "list").stdout
    assert demo.json("holds", "list") == []
    report = demo.json("undo", "--since", "2026-01-01", "--until", "now", "--dry-run")
    assert report["dry_run"] is True
    bad = demo.cli("undo", "--since", "yesterday", "--until", "now", code=2)
    assert "not a time" in bad.output


def test_users_create_without_a_terminal_points_to_password_stdin(demo: Demo) -> None:
    refused = demo.cli("users", "create", "admin", code=2)
    assert "--password-stdin" in refused.output
    demo.cli("users", "create", "admin", "--password-stdin", stdin="a long demo password\n")
    assert "admin" in demo.cli("users", "list").stdout
