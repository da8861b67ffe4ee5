"""``bounceback parse`` and ``bounceback explain``: the engine, no database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bounceback.classify import RuleError, RuleSet, classify
from bounceback.classify import load as load_rules
from bounceback.cli import app
from bounceback.inputs import Item, count, iter_items
from bounceback.model import Bounce, Kind, Report
from bounceback.parse import parse

PROGRESS_THRESHOLD = 200


def _rules(path: Path | None) -> RuleSet | None:
    if path is None:
        return None
    try:
        return load_rules(path)
    except RuleError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _analyse(item: Item, rules: RuleSet | None) -> tuple[Report, list[Bounce]]:
    if item.error:
        return Report(kind=Kind.UNPARSEABLE, detector="", error=item.error), []
    report = parse(item.data)
    return report, classify(report, rules)


def _message_row(label: str, report: Report) -> dict[str, Any]:
    return {
        "file": label,
        "recipient": None,
        "kind": str(report.kind),
        "detector": report.detector,
        "error": report.error,
        "subject": report.subject,
        "original_message_id": report.original.message_id,
        "bounceback_id": report.original.bounceback_id,
    }


def json_rows(label: str, report: Report, bounces: list[Bounce], show_all: bool) -> list[dict[str, Any]]:
    if bounces:
        return [{"file": label, **b.to_dict()} for b in bounces]
    if show_all:
        return [_message_row(label, report)]
    return []


@app.command("parse")
def parse_command(
    paths: list[str] = typer.Argument(..., help="Files, folders, Maildirs, mboxes, or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per failed recipient."),
    rules_file: Path | None = typer.Option(None, "--rules", help="A TOML rules file."),
    show_all: bool = typer.Option(False, "--all", help="Also list messages that are not bounces."),
) -> None:
    """Parse and classify bounces; print a table, or JSON lines with --json."""
    rules = _rules(rules_file)
    items = iter_items(paths)
    if as_json:
        out = sys.stdout
        for item in items:
            report, bounces = _analyse(item, rules)
            for row in json_rows(item.label, report, bounces, show_all):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        return
    _table(paths, items, rules, show_all)


def _table(paths: list[str], items: Any, rules: RuleSet | None, show_all: bool) -> None:
    console = Console()
    table = Table(title="bounceback parse", show_lines=False)
    for column in ("file", "recipient", "kind", "status", "reason", "type", "hard", "diagnostic"):
        table.add_column(column, overflow="fold", max_width=60 if column == "diagnostic" else None)
    total = count(paths) if "-" not in paths else 0
    stats = {"messages": 0, "records": 0, "unparseable": 0}
    with Progress(console=console, transient=True, disable=total < PROGRESS_THRESHOLD) as bar:
        task = bar.add_task("parsing", total=total or None)
        for item in items:
            report, bounces = _analyse(item, rules)
            stats["messages"] += 1
            stats["records"] += len(bounces)
            if report.kind == Kind.UNPARSEABLE:
                stats["unparseable"] += 1
            bar.advance(task)
            for b in bounces:
                table.add_row(
                    item.label,
                    b.recipient,
                    str(b.kind),
                    b.status,
                    b.reason,
                    b.bounce_type,
                    "hard" if b.hardbounce else "soft",
                    b.record.diagnostic[:200],
                )
            if not bounces and show_all:
                table.add_row(item.label, "", str(report.kind), "", "", "", "", report.error)
    console.print(table)
    console.print(
        f"{stats['messages']} messages, {stats['records']} records, "
        f"{stats['unparseable']} unparseable"
    )


@app.command("explain")
def explain_command(
    path: str = typer.Argument(..., help="One message file, or - for stdin."),
    rules_file: Path | None = typer.Option(None, "--rules", help="A TOML rules file."),
) -> None:
    """Say, for a person, what was found where and which rule decided why."""
    from bounceback.explain import render

    rules = _rules(rules_file)
    item = next(iter(iter_items([path])))
    report, bounces = _analyse(item, rules)
    Console().print(render(item.label, report, bounces, rules))
