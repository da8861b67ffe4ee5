"""Adding a webhook provider is one module: a file with a ``KIND`` dropped into the
webhooks package gets its ``POST /webhooks/<name>`` endpoint and its
``[webhooks.<name>]`` table, with no edit anywhere else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bounceback import config as config_mod
from bounceback.config import ConfigError
from bounceback.model import SourceEvent
from bounceback.serve_config import serve_config
from bounceback.sources import webhooks
from bounceback.sources.webhooks import routes
from bounceback.sources.webhooks.settings import WebhookSettings

# A whole provider: a shared secret in a header, an empty body of events.
MODULE = """
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bounceback.sources.webhooks import Forbidden, Unauthorized
from bounceback.sources.webhooks.provider import Received, WebhookKind
from bounceback.sources.webhooks.settings import WebhookSettings


@dataclass(slots=True)
class Options:
    secret: str


@dataclass(slots=True)
class Settings:
    secret: str


def configure(options: Options) -> Settings:
    return Settings(options.secret)


class Provider:
    name, title, challenge = "hushmail", "Hushmail", ""

    def __init__(self, settings: Settings | None, hooks: WebhookSettings) -> None:
        self.secret = settings.secret if settings else None

    @property
    def enabled(self) -> bool:
        return self.secret is not None

    def authenticate(self, headers: Mapping[str, str]) -> None:
        given = headers.get("x-secret")
        if given is None:
            raise Unauthorized("no secret")
        if given != self.secret:
            raise Forbidden("wrong secret")

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        return Received([])


KIND = WebhookKind("hushmail", Options, Settings, configure, Provider)
"""
NAME = "bounceback.sources.webhooks.hushmail"


@pytest.fixture
def dropped_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The package as if hushmail.py were one of its files: discovery runs again."""
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "hushmail.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.setattr(webhooks, "__path__", [*webhooks.__path__, str(folder)])
    monkeypatch.setattr(routes, "PROVIDERS", routes.discover())
    yield
    sys.modules.pop(NAME, None)


def load(tmp_path: Path, text: str) -> WebhookSettings:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    hooks = serve_config(config_mod.load(path, env={})).webhooks
    assert hooks is not None
    return hooks


def client(settings: WebhookSettings, stored: list[list[SourceEvent]]) -> TestClient:
    app = FastAPI()
    app.include_router(routes.make_router(settings, stored.append))
    return TestClient(app)


def test_the_package_as_shipped_has_no_such_provider(tmp_path: Path) -> None:
    assert "hushmail" not in [kind.name for kind in routes.PROVIDERS]
    with pytest.raises(ConfigError, match=r"webhooks\.hushmail: unknown provider"):
        load(tmp_path, '[webhooks.hushmail]\nsecret = "s"\n')


@pytest.mark.usefixtures("dropped_in")
def test_a_new_module_is_found_after_the_existing_providers() -> None:
    names = [kind.name for kind in routes.PROVIDERS]
    assert names == ["ses", "sendgrid", "mailgun", "postmark", "hushmail"]


@pytest.mark.usefixtures("dropped_in")
def test_a_new_module_gets_its_table_and_its_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"webhooks\.hushmail\.secret: required"):
        load(tmp_path, "[webhooks.hushmail]\n")
    with pytest.raises(ConfigError, match=r"webhooks\.hushmail"):
        load(tmp_path, '[webhooks.hushmail]\nsecret = "s"\ncolour = "red"\n')
    settings = load(tmp_path, '[webhooks.hushmail]\nsecret = "s3cret"\n')
    stored: list[list[SourceEvent]] = []
    http = client(settings, stored)
    url = "/webhooks/hushmail"
    assert http.post(url, content=b"{}").status_code == 401
    assert http.post(url, content=b"{}", headers={"X-Secret": "nope"}).status_code == 403
    r = http.post(url, content=b"{}", headers={"X-Secret": "s3cret"})
    assert (r.status_code, r.json()) == (200, {"accepted": 0})
    # The others stay off: only the tables written are configured.
    assert http.post("/webhooks/postmark", content=b"{}").status_code == 404


@pytest.mark.usefixtures("dropped_in")
def test_a_new_module_without_its_table_is_404() -> None:
    r = client(WebhookSettings(), []).post("/webhooks/hushmail", content=b"{}")
    assert (r.status_code, r.json()) == (404, {"error": "Hushmail webhook not configured"})


def test_settings_of_another_kind_or_no_kind_are_refused() -> None:
    from bounceback.sources.webhooks import postmark

    wrong = WebhookSettings(providers={"ses": postmark.Settings("u", "p")})
    with pytest.raises(
        TypeError,
        match=r"webhook ses: expected [\w.]+\.ses\.Settings, got [\w.]+\.postmark\.Settings",
    ):
        client(wrong, [])
    with pytest.raises(ValueError, match="no webhook provider named sess"):
        client(WebhookSettings(providers={"sess": wrong.providers["ses"]}), [])
