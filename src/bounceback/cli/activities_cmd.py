"""``bounceback activities``: the human replies filed on a contact."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from bounceback.cli.app import app
from bounceback.cli.common import JSON_OPTION, err, open_ledger, print_json

activities_app = typer.Typer(help="Human replies filed on contacts.", no_args_is_help=True)
app.add_typer(activities_app, name="activities")


@activities_app.command("list")
def activities_list(
    email: str = typer.Argument(..., help="An address of the contact."),
    as_json: bool = JSON_OPTION,
    limit: int = typer.Option(100, "--limit", help="At most this many, newest first."),
) -> None:
    """The replies filed on the contact with this address, newest first."""
    from bounceback.ledger.activities import list_activities

    with open_ledger() as ledger:
        rows = list_activities(ledger.engine, email, limit)
    if rows is None:
        err.print(f"[red]error:[/red] no contact has the address {email}")
        raise typer.Exit(2)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"activities of {email}")
    for column in ("date", "sender", "subject", "body"):
        table.add_column(column, overflow="fold")
    for row in rows:
        first = next((line for line in row["body"].splitlines() if line.strip()), "")
        table.add_row(row["date"], row["sender"], row["subject"], first[:80])
    Console().print(table)
