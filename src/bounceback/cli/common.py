"""What the command modules share: opening the ledger with its errors as exit codes,
JSON and table output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
err = Console(stderr=True)


@contextmanager
def open_ledger(rules_file: Path | None = None, config_file: Path | None = None) -> Iterator[Any]:
    """Open the configured ledger (``config_file``: else the usual places); turn its
    errors into messages and exit codes."""
    from bounceback.classify import RuleError
    from bounceback.classify import load as load_rules
    from bounceback.config import ConfigError
    from bounceback.config import load as load_config
    from bounceback.ledger import Ledger, LedgerError, LedgerUnavailable

    ledger = None
    try:
        rules = load_rules(rules_file) if rules_file else None
        ledger = Ledger.open(load_config(config_file), rules=rules)
        yield ledger
    except (ConfigError, RuleError, LedgerError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except LedgerUnavailable as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc
    finally:
        if ledger is not None:
            ledger.close()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def table(
    title: str,
    rows: list[dict[str, Any]],
    columns: list[str],
    show: Callable[[Any], str] | None = None,
) -> None:
    """``rows`` as a table of ``columns``, each value shown by ``show`` (default ``cell``)."""
    shown = Table(title=title)
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*[(show or cell)(row.get(c)) for c in columns])
    Console().print(shown)


def pairs(title: str, values: dict[str, Any]) -> None:
    shown = Table(title=title, show_header=False)
    shown.add_column("what", style="bold")
    shown.add_column("value", justify="right")
    for key, value in values.items():
        shown.add_row(key, cell(value))
    Console().print(shown)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
