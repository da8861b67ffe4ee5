"""``bounceback db prune``: apply ``[retention]`` now (``serve`` does it daily)."""

from __future__ import annotations

import datetime as dt

import typer

from bounceback.cli.common import JSON_OPTION, open_ledger, print_json
from bounceback.cli.ledger_cmds import db_app


@db_app.command("prune")
def db_prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; remove nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove what [retention] no longer keeps: old raw bytes, old months of bounce
    events and messages, old quarantined and unmatched messages."""
    from bounceback.ledger.retention import prune

    with open_ledger() as ledger:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        report = prune(ledger, now, ledger.config.retention, dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
        return
    for line in report.lines():
        typer.echo(line)
