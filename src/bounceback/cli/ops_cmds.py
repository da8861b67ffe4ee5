"""Running bounceback for years: ``contacts erase``, ``contacts erasures``, ``db backup``
(docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path

import typer
from rich.markup import escape

from bounceback.cli.common import JSON_OPTION, err, open_ledger, print_json
from bounceback.cli.ledger_cmds import contacts_app, db_app


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric uid)
        return "cli"


@contacts_app.command("erase")
def contacts_erase(
    email: str = typer.Argument(..., help="An address of the person (current or bounced)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask: erase."),
    operator: str = typer.Option(
        "", "--operator", help="Who asked for it, for the record (default: your login)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Erase a person: contact, addresses, history, their raw messages, activities and
    sends go; a one-way hash keeps the address suppressed. Cannot be undone."""
    from bounceback.ledger import erasure
    from bounceback.ledger.addresses import normalise, valid_email

    address = normalise(email)
    if not valid_email(address):
        err.print(f"[red]error:[/red] {escape(repr(email))} is not an email address")
        raise typer.Exit(2)
    if not yes:
        if not sys.stdin.isatty():
            err.print("[red]error:[/red] erasing cannot be undone: confirm with --yes")
            raise typer.Exit(2)
        typer.confirm(f"Erase everything about {address}? This cannot be undone", abort=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with open_ledger() as ledger:
        report = erasure.erase(ledger.engine, address, operator or _operator(), now)
    if as_json:
        print_json(report.as_dict())
        return
    removed = ", ".join(f"{n} {table}" for table, n in report.counts.items() if n)
    typer.echo(f"erased {address} (erasure {report.id}): {removed or 'no rows held it'}")
    typer.echo("it stays suppressed as a one-way hash")


@contacts_app.command("erasures")
def contacts_erasures(
    as_json: bool = JSON_OPTION, limit: int = typer.Option(100, "--limit")
) -> None:
    """The erasure record, newest first: when, by whom, how many rows (never whose)."""
    from bounceback.ledger import erasure

    with open_ledger() as ledger:
        rows = erasure.erasures(ledger.engine, limit)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        counts = ", ".join(f"{n} {table}" for table, n in row["counts"].items() if n)
        typer.echo(f"{row['id']}  {row['erased_at']}  by {row['operator']}: {counts or '-'}")


@db_app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="The new backup file (never overwritten)."),
) -> None:
    """A consistent copy while serve runs: SQLite's online backup, or pg_dump's custom
    format on PostgreSQL (restore: docs/operations.md)."""
    from bounceback.config import ConfigError
    from bounceback.config import load as load_config
    from bounceback.ledger.backup import BackupError, backup

    try:
        config = load_config()
        result = backup(config.database_url, file, busy_timeout_ms=config.lock_timeout_ms)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except BackupError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc
    typer.echo(f"backed up the {result.backend} ledger to {result.path} ({result.size} bytes)")
