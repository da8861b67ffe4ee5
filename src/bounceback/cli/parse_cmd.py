"""``bounceback parse`` and ``bounceback explain``: the engine, no database."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bounceback.classify import RuleError, RuleSet, classify
from bounceback.classify import load as load_rules
from bounceback.cli.app import app
from bounceback.inputs import Item, count, iter_items
from bounceback.model import Bounce, DeliveryRecord, Kind, Report
from bounceback.parse import parse

# Inputs at least this many messages long get a progress bar (on a terminal).
PROGRESS_THRESHOLD = 200

# The keys every JSON line carries, bounce or not, so consumers see one schema.
_RECORD_KEYS = tuple(DeliveryRecord.__dataclass_fields__)
JSON_KEYS = (
    "file",
    *_RECORD_KEYS,
    "status_found",
    "kind",
    "detector",
    "reason",
    "hardbounce",
    "permanent",
    "bounce_type",
    "rule",
    "original_message_id",
    "original_subject",
    "original_from",
    "original_to",
    "bounceback_id",
    "envelope_id",
    "subject",
    "error",
)


@dataclass(slots=True)
class Result:
    """One message's outcome."""

    label: str
    report: Report
    bounces: list[Bounce]


def _stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _rules(path: Path | None) -> RuleSet | None:
    if path is None:
        return None
    try:
        return load_rules(path)
    except (RuleError, OSError) as exc:
        _stderr().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def analyse(item: Item, rules: RuleSet | None) -> Result:
    """Parse and classify one input; never raises, whatever the bytes."""
    if item.error:
        return Result(item.label, Report(kind=Kind.UNPARSEABLE, detector="", error=item.error), [])
    try:
        report = parse(item.data)
        return Result(item.label, report, classify(report, rules))
    except Exception as exc:  # a bug in one detector must not stop a run over a mailbox
        error = f"internal error: {type(exc).__name__}: {exc}"
        return Result(item.label, Report(kind=Kind.UNPARSEABLE, detector="", error=error), [])


def json_rows(result: Result, show_all: bool) -> list[dict[str, Any]]:
    """The JSON objects to print for one message: one per record, or one for the message."""
    report = result.report
    if result.bounces:
        return [
            {
                **dict.fromkeys(JSON_KEYS),
                "file": result.label,
                **b.to_dict(),
                "subject": report.subject,
                "error": report.error,
            }
            for b in result.bounces
        ]
    if not show_all:
        return []
    row: dict[str, Any] = dict.fromkeys(JSON_KEYS)
    row.update(
        file=result.label,
        kind=str(report.kind),
        detector=report.detector,
        error=report.error,
        subject=report.subject,
    )
    row.update(report.original.flat())
    return [row]


def _results(items: Iterable[Item], rules: RuleSet | None) -> Iterable[Result]:
    for item in items:
        yield analyse(item, rules)


@app.command("parse")
def parse_command(
    paths: list[str] = typer.Argument(
        ..., help="Message files, folders of them, Maildirs, mboxes, or - for stdin."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per failed recipient."),
    rules_file: Path | None = typer.Option(None, "--rules", help="A TOML rules file."),
    show_all: bool = typer.Option(
        False, "--all", help="Also list messages that are not bounces, or could not be read."
    ),
) -> None:
    """Parse and classify bounces; print a table, or JSON lines with --json."""
    rules = _rules(rules_file)
    # A path that is not there is said first; the others are still read.
    missing = _missing(paths)
    err = _stderr()
    for path in missing:
        err.print(f"[red]error:[/red] {path}: no such file or folder")
    present = [p for p in paths if p not in missing]
    if present:
        results = _results(iter_items(present), rules)
        if as_json:
            out = sys.stdout
            for result in results:
                for row in json_rows(result, show_all):
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
        else:
            table(present, results, show_all)
    if missing:
        raise typer.Exit(1)


def _missing(paths: list[str]) -> list[str]:
    return [p for p in paths if p != "-" and not Path(p).exists()]


# Columns of the table; a narrow terminal gets the compact set.
WIDE_COLUMNS = ("file", "recipient", "kind", "status", "reason", "type", "hard", "diagnostic")
COMPACT_COLUMNS = ("file", "recipient", "status", "reason", "hard", "diagnostic")
WIDE_FROM = 120  # terminal columns
PIPE_WIDTH = 160  # output to a file or pipe has no width; this keeps rows readable


def table_console() -> Console:
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=PIPE_WIDTH)
    return console


def table(paths: list[str], results: Iterable[Result], show_all: bool) -> None:
    console = table_console()
    columns = WIDE_COLUMNS if console.width >= WIDE_FROM else COMPACT_COLUMNS
    table = Table(title="bounceback parse", title_justify="left")
    for column in columns:
        if column == "diagnostic":
            table.add_column(column, overflow="fold", min_width=12, ratio=1)
        else:
            table.add_column(column, no_wrap=column not in ("recipient", "file"), overflow="fold")
    total = count(paths) if "-" not in paths else 0
    stats = {"messages": 0, "records": 0, "hard": 0, "unparseable": 0, "not bounces": 0}
    with Progress(
        TextColumn("parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not show_progress(total),
    ) as bar:
        task = bar.add_task("parsing", total=total or None)
        for result in results:
            _tally(stats, result)
            bar.advance(task)
            for row in table_rows(result, show_all, columns):
                table.add_row(*(row[c] for c in columns))
    if table.row_count:
        console.print(table)
    console.print(", ".join(f"{n} {name}" for name, n in stats.items()))


def show_progress(total: int) -> bool:
    """A progress bar only where a person watches a long run."""
    return total >= PROGRESS_THRESHOLD and Console(stderr=True).is_terminal


def _tally(stats: dict[str, int], result: Result) -> None:
    stats["messages"] += 1
    stats["records"] += len(result.bounces)
    stats["hard"] += sum(b.hardbounce for b in result.bounces)
    if result.report.kind == Kind.UNPARSEABLE:
        stats["unparseable"] += 1
    elif not result.bounces:
        stats["not bounces"] += 1


def table_rows(
    result: Result, show_all: bool, columns: tuple[str, ...] = WIDE_COLUMNS
) -> list[dict[str, str]]:
    """The table cells for one message, keyed by column."""
    label = short_label(result.label, 36 if columns == WIDE_COLUMNS else 18)
    rows = [
        {
            "file": label,
            "recipient": b.recipient,
            "kind": str(b.kind),
            "status": b.status,
            "reason": b.reason,
            "type": b.bounce_type,
            "hard": "hard" if b.hardbounce else "soft",
            "diagnostic": " ".join(b.record.diagnostic.split())[:200],
        }
        for b in result.bounces
    ]
    if not rows and show_all:
        report = result.report
        cells = dict.fromkeys(WIDE_COLUMNS, "")
        cells.update(file=label, kind=str(report.kind), diagnostic=report.error or report.subject)
        if "kind" not in columns:
            cells["reason"] = str(report.kind)  # so the compact table says what it was
        rows.append(cells)
    return rows


def short_label(label: str, width: int = 28) -> str:
    """A long path cut from the left: the file name is the part a person reads."""
    return label if len(label) <= width else "…" + label[-(width - 1) :]


@app.command("explain")
def explain_command(
    path: str = typer.Argument(
        ..., help="A message file, a folder, Maildir or mbox (every message in it), or -."
    ),
    rules_file: Path | None = typer.Option(None, "--rules", help="A TOML rules file."),
) -> None:
    """Say, for a person, what was found where and which rule decided why."""
    from bounceback.explain import render

    rules = _rules(rules_file)
    console = Console()
    failed = seen = 0
    for item in iter_items([path]):
        if seen:
            console.rule()
        seen += 1
        result = analyse(item, rules)
        console.print(render(result.label, result.report, result.bounces, rules, item.data))
        failed += bool(item.error)
    if not seen:
        _stderr().print(f"[red]error:[/red] {path}: no message there")
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(1)
