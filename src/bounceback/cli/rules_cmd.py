"""``bounceback rules``: the user rules kept in the database (the dashboard edits the same).

A change applies to the next batch any ``process`` or ``serve`` on the same database
handles: no restart. ``test FILE`` says what the rules in force decide for a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bounceback.cli.app import app
from bounceback.cli.common import JSON_OPTION, err, open_ledger, print_json

rules_app = typer.Typer(help="User rules kept in the database.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


def _show(rows: list[dict[str, Any]], title: str = "user rules") -> None:
    table = Table(title=title)
    for column in ("id", "pos", "on", "form", "section", "type", "bounce type", "text"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["position"]),
            "yes" if r["enabled"] else "no",
            r["form"],
            "" if r["form"] == "pattern" else r["section"],
            r["type"],
            r["bounce_type"],
            r["text"],
        )
    Console().print(table)


@contextmanager
def _rule_ledger() -> Iterator[Any]:
    """The ledger, for a command on one rule: no such rule is an error (exit 2)."""
    from bounceback.ledger.rules_store import RuleNotFound

    with open_ledger() as ledger:
        try:
            yield ledger
        except RuleNotFound as exc:
            err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
            raise typer.Exit(2) from exc


BUILTIN_OPTION = typer.Option(
    False, "--builtin", help="The built-in rule pack instead (read-only; override by id)."
)


def _show_builtin() -> None:
    from bounceback.classify.pack import pack

    table = Table(title="built-in rules (read-only; override one: rules add ID --section rule)")
    table.add_column("id", no_wrap=True)
    for column in ("reason", "hard", "matches", "count", "first few"):
        table.add_column(column, overflow="fold")
    for r in pack():
        shown = ", ".join(r.examples)
        table.add_row(r.id, r.reason or "(varies)", r.hard, r.matches, str(r.count), shown)
    Console().print(table)


@rules_app.command("list")
def rules_list(builtin: bool = BUILTIN_OPTION, as_json: bool = JSON_OPTION) -> None:
    """The stored rules in order (the config file's rules_file comes after them)."""
    from bounceback.ledger.rules_store import list_rules

    if builtin:
        from bounceback.classify.pack import as_json as pack_json

        if as_json:
            print_json(pack_json())
        else:
            _show_builtin()
        return

    with open_ledger() as ledger:
        rows = list_rules(ledger)
    if as_json:
        print_json(rows)
    else:
        _show(rows)


@rules_app.command("add")
def rules_add(
    text: str = typer.Argument("", help="The text to look for (case-sensitive, ≤ 100)."),
    rule_type: str = typer.Option(
        "hard", "--type", help="hard | soft | both | ignore (ignore: not a bounce)."
    ),
    section: str = typer.Option(
        "body",
        "--section",
        help="body | subject | from | to | rule (rule: TEXT is a built-in rule's id).",
    ),
    pattern: str = typer.Option("", "--pattern", help="A 'text==>Hard|Soft' line instead."),
    bounce_type: str = typer.Option("", "--bounce-type", help="Optional hold category."),
    note: str = typer.Option("", "--note", help="Why the rule is there."),
    position: int | None = typer.Option(None, "--position", help="Where (0-based); last."),
    disabled: bool = typer.Option(False, "--disabled", help="Store it switched off."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a section rule (TEXT) or a pattern line (--pattern)."""
    from bounceback.ledger.rules_store import create

    if bool(text) == bool(pattern):
        err.print("[red]error:[/red] give either TEXT or --pattern")
        raise typer.Exit(2)
    data: dict[str, Any] = {"bounce_type": bounce_type, "note": note, "enabled": not disabled}
    if pattern:
        data["pattern"] = pattern
    else:
        data.update(text=text, type=rule_type, section=section)
    with open_ledger() as ledger:
        row = create(ledger, data, position)
    if as_json:
        print_json(row)
    else:
        Console().print(f"added rule {row['id']} (user:{row['rule_id']}) at {row['position']}")


@rules_app.command("remove")
def rules_remove(rule_id: int = typer.Argument(..., help="The rule's id.")) -> None:
    """Delete a rule."""
    from bounceback.ledger.rules_store import delete_rule

    with _rule_ledger() as ledger:
        delete_rule(ledger, rule_id)
    Console().print(f"removed rule {rule_id}")


@rules_app.command("move")
def rules_move(
    rule_id: int = typer.Argument(..., help="The rule's id."),
    position: int = typer.Argument(..., help="Its new place (0-based; past the end: last)."),
) -> None:
    """Move a rule: among rules of one type, the first that matches decides."""
    from bounceback.ledger.rules_store import move

    with _rule_ledger() as ledger:
        rows = move(ledger, rule_id, position)
    _show(rows)


@rules_app.command("enable")
def rules_enable(rule_id: int = typer.Argument(..., help="The rule's id.")) -> None:
    """Switch a rule on."""
    _set_enabled(rule_id, True)


@rules_app.command("disable")
def rules_disable(rule_id: int = typer.Argument(..., help="The rule's id.")) -> None:
    """Switch a rule off (it stays, in its place)."""
    _set_enabled(rule_id, False)


def _set_enabled(rule_id: int, enabled: bool) -> None:
    from bounceback.ledger.rules_store import update_rule

    with _rule_ledger() as ledger:
        update_rule(ledger, rule_id, {"enabled": enabled}, partial=True)
    Console().print(f"rule {rule_id} {'enabled' if enabled else 'disabled'}")


@rules_app.command("import")
def rules_import(
    path: Path = typer.Argument(..., help="A rules file (the --rules TOML format)."),
    replace: bool = typer.Option(False, "--replace", help="Remove the stored rules first."),
) -> None:
    """Add the rules of a file after the stored ones; a bad file adds nothing."""
    from bounceback.classify.rules import RuleError
    from bounceback.ledger.rules_store import import_toml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] {path}: cannot read the rules file: {exc}")
        raise typer.Exit(2) from exc
    with open_ledger() as ledger:
        try:
            rows = import_toml(ledger, text, replace)
        except RuleError as exc:
            raise RuleError(f"{path}: {exc}") from exc
    Console().print(f"imported {len(rows)} rules from {path}")


@rules_app.command("export")
def rules_export(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here, not stdout."),
    builtin: bool = BUILTIN_OPTION,
    as_json: bool = typer.Option(False, "--json", help="With --builtin: JSON, not TOML."),
) -> None:
    """The stored rules as a rules file (disabled ones as comments); --builtin: the
    built-in pack, for reading (never loaded back)."""
    from bounceback.ledger.rules_store import export_toml

    if builtin:
        text = _builtin_export(as_json)
    elif as_json:
        err.print("[red]error:[/red] --json is for --builtin (stored rules export as TOML)")
        raise typer.Exit(2)
    else:
        with open_ledger() as ledger:
            text = export_toml(ledger)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _builtin_export(as_json: bool) -> str:
    import json

    from bounceback.classify import pack

    if not as_json:
        return pack.to_toml()
    doc = {"read_only": True, "note": pack.READ_ONLY_NOTE, "rules": pack.as_json()}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@rules_app.command("test")
def rules_test(
    path: Path = typer.Argument(..., help="A message file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """What the rules in force (stored, then the config file's) decide for a message."""
    from bounceback.ledger.rules_store import current_rules, try_message

    try:
        data = path.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] {path}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    with open_ledger() as ledger:
        result = try_message(data, current_rules(ledger))
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{path}: {result['kind']} ({result['detector'] or 'no detector'})")
    for column in ("recipient", "reason", "hard", "bounce type", "rule", "built-in", "changed"):
        table.add_column(column, overflow="fold")
    for r in result["recipients"]:
        builtin = r["builtin"]
        table.add_row(
            r["recipient"],
            r["reason"],
            "ignored" if r["ignored"] else "hard" if r["hardbounce"] else "soft",
            r["bounce_type"],
            r["rule"],
            f"{'hard' if builtin['hardbounce'] else 'soft'} {builtin['bounce_type']}",
            "yes" if r["changed"] else "",
        )
    Console().print(table)
