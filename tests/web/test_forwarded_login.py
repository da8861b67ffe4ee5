"""Who a login attempt comes from, under a real uvicorn as ``serve`` runs it: the peer,
unless ``[http] trusted_proxies`` names it; and a username is throttled whatever
addresses the attempts claim."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bounceback import config as config_mod
from bounceback.config import ConfigError
from bounceback.ledger import Ledger
from bounceback.serve import Server
from bounceback.serve_config import serve_config
from bounceback.web.auth import create_user
from bounceback.web.dashboard.login import PER_USER_FAILURES

PASSWORD = "a long enough password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Start serve's HTTP part with extra ``[http]`` lines; returns its base URL."""
    running: list[tuple[Server, Ledger]] = []

    def start(http: str = "") -> str:
        port = free_port()
        config = tmp_path / "bounceback.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n\n'
            f'[http]\nlisten = "127.0.0.1:{port}"\n{http}\n',
            encoding="utf-8",
        )
        cfg = config_mod.load(config, env={})
        ledger = Ledger.open(cfg)
        create_user(ledger, "boss", PASSWORD)
        server = Server(serve_config(cfg), ledger, only="http")
        server.start()
        running.append((server, ledger))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, ledger in running:
        server.stop()
        ledger.close()


def attempt(client: httpx.Client, password: str, forwarded: str) -> int:
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    data = {"csrf_token": found.group(1), "username": "boss", "password": password}
    answer = client.post("/login", data=data, headers={"X-Forwarded-For": forwarded})
    return answer.status_code


def test_a_new_forwarded_address_per_attempt_does_not_reset_the_count(
    serve: Callable[[str], str],
) -> None:
    """No trusted proxy: X-Forwarded-For from loopback is just a header."""
    with httpx.Client(base_url=serve("")) as client:
        codes = [attempt(client, f"guess {n}", f"198.51.100.{n}") for n in range(6)]
    assert codes == [401] * 5 + [429]


def test_a_trusted_proxy_names_the_client_and_the_username_is_counted_too(
    serve: Callable[[str], str],
) -> None:
    url = serve('trusted_proxies = ["127.0.0.1"]')
    with httpx.Client(base_url=url) as client:
        # Per client: the forwarded address is the client, five failures block it...
        assert [attempt(client, f"g{n}", "198.51.100.7") for n in range(6)] == [401] * 5 + [429]
        # ...and not another client behind the same proxy.
        assert attempt(client, "again", "198.51.100.8") == 401
        # Per username, whatever the address: the limit holds across addresses.
        codes = [attempt(client, f"g{n}", f"203.0.113.{n}") for n in range(PER_USER_FAILURES)]
        assert codes[-1] == 429 and codes.count(401) == PER_USER_FAILURES - 6
        assert attempt(client, PASSWORD, "203.0.113.250") == 429


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    config = tmp_path / "bounceback.toml"
    config.write_text('[http]\nlisten = "127.0.0.1:1"\ntrusted_proxies = ["*"]\n')
    with pytest.raises(ConfigError, match=r"http\.trusted_proxies"):
        serve_config(config_mod.load(config, env={}))
    config.write_text("[http]\nsecure_cookie = true\n")  # a typo is named, not ignored
    with pytest.raises(ConfigError, match=r"http\.secure_cookie: unknown key"):
        serve_config(config_mod.load(config, env={}))
