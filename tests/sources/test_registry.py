"""One registry of source kinds; the config file's keys read from the config dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from bounceback import config as config_mod
from bounceback.config import ConfigError
from bounceback.serve import open_mailbox
from bounceback.serve_config import MailboxSpec, serve_config
from bounceback.sources.imap import ImapConfig
from bounceback.sources.mbox import MboxConfig
from bounceback.sources.options import AS_WRITTEN, NOT_A_KEY, Check, options, required
from bounceback.sources.pmta import PmtaCsv
from bounceback.sources.postfix_log import PostfixLog
from bounceback.sources.registry import SOURCES, Log, Mailbox, lookup
from bounceback.sources.webhooks.routes import PROVIDERS


def settings(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return serve_config(config_mod.load(path, env={}))


def test_an_unknown_kind_is_a_config_error_never_another_kind(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^sources\.imaps: unknown source kind$"):
        settings(tmp_path, '[[sources.imaps]]\nhost = "h"\nuser = "u"\n')
    # A spec made by hand with a kind nobody registers is refused too, not polled as POP3.
    spec = MailboxSpec("imaps", "x", ImapConfig(host="h", user="u"))
    with pytest.raises(ConfigError, match="unknown source kind"):
        open_mailbox(spec)
    with pytest.raises(ConfigError, match="not a mailbox"):
        open_mailbox(MailboxSpec("pmta", "x", ImapConfig(host="h", user="u")))


def test_every_registered_kind_reads_its_table_from_its_dataclass() -> None:
    for kind, source in SOURCES.items():
        assert lookup(kind) is source
        keys = options(source.config)
        assert keys and set(required(source.config)) <= set(keys), kind
    assert required(ImapConfig) == ("host", "user")
    assert required(MboxConfig) == ("path",)
    assert "ssl_context" not in options(ImapConfig)  # set by code, not by the file
    assert options(ImapConfig)["purpose"] == ("bounces", "activities", "both")
    assert {kind for kind, s in SOURCES.items() if isinstance(s, Log)} == {"pmta", "postfix_log"}
    assert all(isinstance(s, Mailbox | Log) for s in SOURCES.values())


def test_field_types_decide_the_checks() -> None:
    @dataclass
    class Made:
        name: str
        count: int | None = None
        ratio: float = 1.0
        on: bool = False
        where: Path | None = None
        either: str | Path = "x"
        named: str | Path = field(default="y", metadata=AS_WRITTEN)
        many: Sequence[str] = ()
        command: str | list[str] | None = None
        mode: Literal["a", "b"] = "a"
        hidden: object = field(default=None, metadata=NOT_A_KEY)

    assert options(Made) == {
        "name": Check.TEXT,
        "count": Check.INT,
        "ratio": Check.FLOAT,
        "on": Check.BOOL,
        "where": Check.PATH,
        "either": Check.PATH,
        "named": Check.TEXT,
        "many": Check.TEXTS,
        "command": Check.TEXT_OR_TEXTS,
        "mode": ("a", "b"),
    }
    assert required(Made) == ("name",)

    @dataclass
    class Unspellable:
        thing: dict[str, int]

    with pytest.raises(TypeError, match="NOT_A_KEY"):
        options(Unspellable)


def test_tables_become_the_sources_config(tmp_path: Path) -> None:
    got = settings(
        tmp_path,
        '[[sources.maildir]]\npath = "m"\nprocessed_folder = "done"\n'
        '[[sources.pmta]]\npath = "acct.csv"\ntypes = ["b"]\n'
        '[[sources.postfix_log]]\npath = "/var/log/mail.log"\ninclude_sent = true\n',
    )
    maildir = got.mailboxes[0].config
    # A folder name stays a name (a Maildir++ subfolder); the Maildir's path is resolved.
    assert maildir.path == tmp_path / "m" and maildir.processed_folder == "done"
    pmta, postfix = got.logs
    assert (pmta.kind, pmta.name, pmta.config.path) == (
        "pmta",
        f"pmta:{tmp_path / 'acct.csv'}",
        tmp_path / "acct.csv",
    )
    assert pmta.config.state_file() == tmp_path / "acct.csv.bounceback-state"
    pmta_kind, postfix_kind = SOURCES["pmta"], SOURCES["postfix_log"]
    assert isinstance(pmta_kind, Log) and isinstance(postfix_kind, Log)
    parser = pmta_kind.parser(pmta.config)
    assert isinstance(parser, PmtaCsv) and parser.types == {"b"}
    postfix_parser = postfix_kind.parser(postfix.config)
    assert isinstance(postfix_parser, PostfixLog) and "sent" in postfix_parser.statuses
    with pytest.raises(ConfigError, match=r"sources\.pmta\[0\]\.path: required"):
        settings(tmp_path, "[[sources.pmta]]\ntypes = []\n")
    with pytest.raises(ConfigError, match=r"sources\.mbox\[0\]\.batch_size"):
        settings(tmp_path, '[[sources.mbox]]\npath = "x"\nbatch_size = "many"\n')
    with pytest.raises(ConfigError, match=r"smtpd\.host: unknown key"):  # set by listen
        settings(tmp_path, '[smtpd]\nhost = "0.0.0.0"\n')


def test_webhook_tables_come_from_each_provider(tmp_path: Path) -> None:
    assert [kind.name for kind in PROVIDERS] == ["ses", "sendgrid", "mailgun", "postmark"]
    with pytest.raises(ConfigError, match=r"webhooks\.sparkpost: unknown provider \(ses, "):
        settings(tmp_path, '[webhooks.sparkpost]\nkey = "k"\n')
    with pytest.raises(ConfigError, match=r"webhooks\.postmark\.password: required"):
        settings(tmp_path, '[webhooks.postmark]\nuser = "u"\n')
    got = settings(tmp_path, '[webhooks.mailgun]\nsigning_key = "k"\nmax_age = 60\n')
    mailgun = got.webhooks.providers["mailgun"]
    assert (mailgun.signing_key, mailgun.max_age) == ("k", 60.0)
    got = settings(tmp_path, '[webhooks.ses]\ntopic_arns = ["arn:aws:sns:x"]\n')
    assert got.webhooks.providers["ses"].verifier.topic_arns == frozenset({"arn:aws:sns:x"})
