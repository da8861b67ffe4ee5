"""User rules kept in the database: validation, order, the rules in force, live pickup by
another ledger (another process), TOML import/export, and "test on a message"."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bounceback.classify import RuleError, from_patterns, loads
from bounceback.cli import app
from bounceback.ledger import Ledger
from bounceback.ledger import rules_store as store
from bounceback.ledger import tables as t
from bounceback.model import Report, SourceEvent
from bounceback.parse import parse
from support.samples import minimal_dsn as dsn

Email = Callable[[str], bytes]
# Exim: "550 NN-222 (NEKO-CAT-222) Unfortunately, messages from 203.0.113.2 weren't
# sent ... on our block list" (Microsoft's wording): blocked, soft, Sender.
BLOCKED = "lhost-exim-54.eml"
MICROSOFT = (
    "550 5.7.1 Unfortunately, messages from [1.2.3.4] weren't sent. Please contact your "
    "Internet service provider since part of their network is on our block list"
)


def events(ledger: Ledger) -> list[dict[str, Any]]:
    e = t.events.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(e.email, e.hardbounce, e.rule, e.bounce_type).order_by(e.id))
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "type": "hard"}, "text is missing or empty"),
        ({"text": "   ", "type": "hard"}, "text is missing or empty"),
        ({"text": "x" * 101, "type": "hard"}, "text is 101 characters, the limit is 100"),
        ({"text": "x", "type": "fatal"}, "type must be hard, soft or both"),
        ({"text": "x", "type": "hard", "section": "head"}, "section must be one of body"),
        ({"text": "x", "type": "hard", "section": "diagnostic"}, "section must be one of"),
        ({"text": "x", "type": "hard", "bounce_type": "Nope"}, "bounce_type 'Nope' is not"),
        ({"form": "pattern", "text": "x", "type": "both"}, "type must be hard or soft"),
        ({"pattern": "no arrow here"}, "expected 'text==>Hard' or 'text==>Soft'"),
        ({"form": "regex", "text": "x", "type": "hard"}, "form must be section or pattern"),
        ({"text": "x", "type": "hard", "colour": "red"}, "unknown fields: colour"),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_message_and_nothing_is_stored(
    ledger: Ledger, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        store.create(ledger, data)
    assert store.list_rules(ledger) == []
    with ledger.engine.connect() as conn:
        assert store.version(conn) == "0"


def test_rules_are_stored_squeezed_in_order_and_each_change_bumps_the_version(
    ledger: Ledger,
) -> None:
    a = store.create(ledger, {"text": "Mailbox   has\n exceeded", "type": "soft"})
    b = store.create(ledger, {"pattern": "550 5.7.1 Unfortunately, messages from==>Hard"})
    c = store.create(ledger, {"text": "quota", "type": "both", "section": "subject"}, position=0)
    assert a["text"] == "Mailbox has exceeded"  # compared squeezed, so stored squeezed
    assert (b["form"], b["type"], b["text"]) == (
        "pattern",
        "hard",
        "550 5.7.1 Unfortunately, messages from",
    )
    assert [r["id"] for r in store.list_rules(ledger)] == [c["id"], a["id"], b["id"]]
    store.move(ledger, c["id"], 99)
    assert [r["id"] for r in store.list_rules(ledger)] == [a["id"], b["id"], c["id"]]
    store.update_rule(ledger, a["id"], {"enabled": False}, partial=True)
    store.delete_rule(ledger, b["id"])
    with ledger.engine.connect() as conn:
        assert store.version(conn) == "6"
    with pytest.raises(store.RuleNotFound):
        store.delete_rule(ledger, b["id"])
    with pytest.raises(RuleError, match="every rule exactly once"):
        store.reorder(ledger, [c["id"]])
    with pytest.raises(RuleError, match="only once"):
        store.reorder(ledger, [a["id"], a["id"], c["id"]])


def test_patch_keeps_the_fields_not_given_and_put_replaces_them(ledger: Ledger) -> None:
    rule = store.create(
        ledger, {"text": "over quota", "type": "soft", "bounce_type": "Quota", "note": "n"}
    )
    patched = store.update_rule(ledger, rule["id"], {"type": "hard"}, partial=True)
    assert (patched["text"], patched["type"], patched["bounce_type"]) == (
        "over quota",
        "hard",
        "Quota",
    )
    replaced = store.update_rule(ledger, rule["id"], {"text": "full", "type": "soft"})
    assert (replaced["text"], replaced["bounce_type"], replaced["note"]) == ("full", "", "")
    with pytest.raises(RuleError, match="text is missing"):
        store.update_rule(ledger, rule["id"], {"text": ""}, partial=True)
    assert store.get_rule(ledger, rule["id"])["text"] == "full"
    # A section rule turned into a pattern line, and back.
    line = store.update_rule(ledger, rule["id"], {"pattern": "5.2.2 full==>Soft"}, partial=True)
    assert (line["form"], line["section"], line["text"]) == ("pattern", "diagnostic", "5.2.2 full")
    back = store.update_rule(ledger, rule["id"], {"form": "section"}, partial=True)
    assert (back["form"], back["section"], back["text"]) == ("section", "body", "5.2.2 full")


def test_database_rules_come_before_the_config_files_among_rules_of_one_type(
    ledger: Ledger, email: Email
) -> None:
    report = parse(email(BLOCKED))
    ledger.rules = loads(
        '[[rules]]\nid = "file-soft"\ntext = "on our block list"\ntype = "soft"\n'
        '[[rules]]\nid = "file-hard"\ntext = "weren\'t sent"\ntype = "hard"\n'
    )
    store.create(ledger, {"text": "on our block list", "type": "soft", "bounce_type": "Quota"})
    rules = store.ruleset(ledger)
    assert rules is not None
    # A hard rule beats a soft one wherever it is kept...
    assert [r.id for r in rules.rules] == ["file-hard", "db-1", "file-soft"]
    ledger.rules = None
    soft = store.create(ledger, {"text": "weren't sent", "type": "soft", "bounce_type": "Quota"})
    ledger.rules = from_patterns(["weren't sent. Please contact==>Soft"])
    rules = store.ruleset(ledger)
    assert rules is not None
    # ... and among soft rules the database's (the user's live edits) come first.
    match = rules.first_match(report, report.records[0])
    assert match is not None and match.id == "db-1"
    store.update_rule(ledger, 1, {"enabled": False}, partial=True)
    rules = store.ruleset(ledger)
    assert rules is not None
    match = rules.first_match(report, report.records[0])
    assert match is not None and match.id == soft["rule_id"]


def test_another_ledger_on_the_same_database_picks_up_a_change_without_restart(
    ledger: Ledger,
) -> None:
    other = Ledger.open(ledger.config)  # as serve's pollers would: its own engine
    try:
        other.process_bytes(dsn(MICROSOFT, "a@example.jp"))
        store.create(ledger, {"pattern": "550 5.7.1 Unfortunately, messages from==>Hard"})
        other.process_bytes(dsn(MICROSOFT, "b@example.jp"))
        rule = store.list_rules(ledger)[0]
        store.update_rule(ledger, rule["id"], {"enabled": False}, partial=True)
        other.process_bytes(dsn(MICROSOFT, "c@example.jp"))
    finally:
        other.close()
    assert [(e["email"], e["hardbounce"], e["rule"]) for e in events(ledger)] == [
        ("a@example.jp", False, "phrase:blocked"),
        ("b@example.jp", True, "user:db-1"),
        ("c@example.jp", False, "phrase:blocked"),
    ]


def test_the_rules_are_read_again_only_when_the_version_moved(ledger: Ledger) -> None:
    store.create(ledger, {"text": "over quota", "type": "soft"})
    first = store.current_rules(ledger)
    assert first is store.current_rules(ledger)  # unchanged: the cached set
    store.create(ledger, {"text": "mailbox full", "type": "soft"})
    again = store.current_rules(ledger)
    assert again is not first and again is not None and len(again) == 2


def test_events_from_logs_use_the_database_rules_too(ledger: Ledger) -> None:
    store.create(ledger, {"pattern": "550 5.7.1 Unfortunately, messages from==>Hard"})
    report: Report = parse(dsn(MICROSOFT, "log@example.jp"))
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    ledger.store_events([SourceEvent(report, "k1", "postfix-log", "maillog:1", at)])
    assert events(ledger)[0]["rule"] == "user:db-1"


def test_export_writes_a_rules_file_that_loads_and_imports_back(ledger: Ledger) -> None:
    store.create(ledger, {"pattern": "550 5.7.1 Unfortunately, messages from==>Hard"})
    store.create(ledger, {"text": 'say "full"\tnow', "type": "soft", "bounce_type": "Quota"})
    store.create(ledger, {"text": "from the subject", "type": "both", "section": "subject"})
    store.create(ledger, {"text": "switched off", "type": "hard", "enabled": False})
    text = store.export_toml(ledger)
    loaded = loads(text)  # the --rules format: bounceback parse --rules takes it
    assert [(r.section, r.text, r.type, r.bounce_type) for r in loaded.rules] == [
        ("diagnostic", "550 5.7.1 Unfortunately, messages from", "hard", ""),
        ("body", 'say "full" now', "soft", "Quota"),
        ("subject", "from the subject", "both", ""),
    ]
    assert "# (disabled) " in text and "switched off" in text
    added = store.import_toml(ledger, text, replace=True)
    assert [(r["form"], r["text"]) for r in added] == [
        ("pattern", "550 5.7.1 Unfortunately, messages from"),
        ("section", 'say "full" now'),
        ("section", "from the subject"),
    ]
    assert len(store.list_rules(ledger)) == 3


def test_a_bad_file_imports_nothing(ledger: Ledger) -> None:
    store.create(ledger, {"text": "kept", "type": "hard"})
    bad = '[[rules]]\ntext = "fine"\ntype = "soft"\n[[rules]]\ntext = "x"\ntype = "fatal"\n'
    with pytest.raises(RuleError, match="rule 2: type must be hard, soft or both"):
        store.import_toml(ledger, bad, replace=True)
    assert [r["text"] for r in store.list_rules(ledger)] == ["kept"]


def test_try_message_says_what_the_rules_change(email: Email) -> None:
    data = email(BLOCKED)
    plain = store.try_message(data, None)
    assert plain["detector"] == "exim"
    [only] = plain["recipients"]
    assert (only["recipient"], only["hardbounce"], only["changed"], only["user_rule"]) == (
        "kijitora@example.org",
        False,
        False,
        None,
    )
    rules = store.rules_from_json(
        [{"text": "on our block list", "type": "hard", "bounce_type": "Invalid"}]
    )
    [tried] = store.try_message(data, rules)["recipients"]
    assert (tried["hardbounce"], tried["bounce_type"], tried["rule"]) == (
        True,
        "Invalid",
        "user:draft-1",
    )
    assert tried["changed"] is True
    assert (tried["builtin"]["hardbounce"], tried["builtin"]["rule"]) == (False, "phrase:blocked")
    # A rule that agrees with the built-in verdict matches but changes nothing.
    agree = store.rules_from_json([{"text": "on our block list", "type": "soft"}])
    [same] = store.try_message(data, agree)["recipients"]
    assert (same["user_rule"], same["changed"]) == ("draft-1", False)
    assert store.try_message(b"", None)["recipients"] == []


def test_the_rules_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path, email: Email
) -> None:
    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    monkeypatch.chdir(tmp_path)  # no stray ./bounceback.toml
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env={"BOUNCEBACK_DATABASE_URL": f"sqlite:///{db}"})
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    (tmp_path / "bounce.eml").write_bytes(email(BLOCKED))
    before = json.loads(cli("rules", "test", "bounce.eml", "--json"))
    assert before["recipients"][0]["rule"] == "phrase:blocked"
    assert "added rule 1 (user:db-1)" in cli(
        "rules", "add", "on our block list", "--type", "hard", "--bounce-type", "Invalid"
    )
    cli("rules", "add", "--pattern", "NEKO-CAT-222==>Soft")
    assert "section must be one of" in cli("rules", "add", "x", "--section", "head", code=2)
    assert "give either TEXT or --pattern" in cli("rules", "add", code=2)
    after = json.loads(cli("rules", "test", "bounce.eml", "--json"))["recipients"][0]
    assert (after["rule"], after["hardbounce"], after["changed"]) == ("user:db-1", True, True)
    cli("rules", "disable", "1")
    after = json.loads(cli("rules", "test", "bounce.eml", "--json"))["recipients"][0]
    assert (after["rule"], after["hardbounce"]) == ("user:db-2", False)
    cli("rules", "enable", "1")
    cli("rules", "move", "2", "0")
    listed = json.loads(cli("rules", "list", "--json"))
    assert [(r["id"], r["position"]) for r in listed] == [(2, 0), (1, 1)]
    exported = cli("rules", "export")
    assert loads(exported)  # the --rules format
    (tmp_path / "rules.toml").write_text(exported)
    assert "imported 2 rules" in cli("rules", "import", "rules.toml", "--replace")
    (tmp_path / "bad.toml").write_text('patterns = ["no arrow"]\n')
    assert "bad.toml: pattern 1: expected" in cli("rules", "import", "bad.toml", code=2)
    assert "no rule with id 1" in cli("rules", "remove", "1", code=2)
    assert [r["id"] for r in json.loads(cli("rules", "list", "--json"))] == [3, 4]


def test_a_deleted_rules_id_is_never_given_to_another(ledger: Ledger) -> None:
    # Old bounces keep "user:db-N": N must keep naming the rule that decided them.
    first = store.create(ledger, {"text": "one", "type": "hard"})
    second = store.create(ledger, {"text": "two", "type": "hard"})
    store.delete_rule(ledger, second["id"])
    third = store.create(ledger, {"text": "three", "type": "hard"})
    assert third["id"] > second["id"] > first["id"]
    store.import_toml(ledger, 'patterns = ["four==>Soft"]\n', replace=True)
    assert store.list_rules(ledger)[0]["id"] > third["id"]


def test_the_builtin_pack_and_overrides_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path, email: Email
) -> None:
    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env={"BOUNCEBACK_DATABASE_URL": f"sqlite:///{db}"})
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    listed = json.loads(cli("rules", "list", "--builtin", "--json"))
    blocked = next(r for r in listed if r["id"] == "phrase:blocked")
    assert (blocked["reason"], blocked["hard"]) == ("blocked", "soft") and blocked["examples"]
    assert "phrase:blocked" in cli("rules", "list", "--builtin")
    assert json.loads(cli("rules", "list", "--json")) == []  # user rules: none yet
    exported = cli("rules", "export", "--builtin")
    assert "READ-ONLY" in exported and 'id = "phrase:blocked"' in exported
    as_json = json.loads(cli("rules", "export", "--builtin", "--json"))
    assert as_json["read_only"] is True and len(as_json["rules"]) == len(listed)

    (tmp_path / "bounce.eml").write_bytes(email(BLOCKED))
    wrong = cli("rules", "add", "phrase:nosuch", "--section", "rule", code=2)
    assert "'phrase:nosuch' is not a built-in rule id" in wrong
    assert "added rule 1 (user:db-1)" in cli(
        "rules", "add", "phrase:blocked", "--section", "rule", "--type", "hard"
    )
    tried = json.loads(cli("rules", "test", "bounce.eml", "--json"))["recipients"][0]
    assert (tried["rule"], tried["hardbounce"], tried["changed"]) == ("user:db-1", True, True)
    assert tried["builtin"]["rule"] == "phrase:blocked"
    # An ignore rule: the message is not a bounce.
    cli("rules", "add", "on our block list", "--type", "ignore")
    tried = json.loads(cli("rules", "test", "bounce.eml", "--json"))["recipients"][0]
    assert (tried["ignored"], tried["rule"], tried["changed"]) == (True, "user:db-2", True)
    assert "ignored" in cli("rules", "test", "bounce.eml")
    # Both survive an export and an import.
    (tmp_path / "rules.toml").write_text(cli("rules", "export"))
    assert "imported 2 rules" in cli("rules", "import", "rules.toml", "--replace")
    kept = json.loads(cli("rules", "list", "--json"))
    assert {(r["section"], r["type"]) for r in kept} == {("rule", "hard"), ("body", "ignore")}
