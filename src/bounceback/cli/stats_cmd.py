"""``bounceback stats``: the rollups behind the dashboard and the stats API."""

from __future__ import annotations

import typer

from bounceback.cli.app import app
from bounceback.cli.common import JSON_OPTION, open_ledger, pairs, print_json

stats_app = typer.Typer(help="Bounce and send statistics (rollups).", no_args_is_help=True)
app.add_typer(stats_app, name="stats")


@stats_app.command("rebuild")
def stats_rebuild(as_json: bool = JSON_OPTION) -> None:
    """Recompute the daily rollups from the stored bounces and the send log."""
    from bounceback.ledger.rollups import rebuild_stats

    with open_ledger() as ledger:
        result = rebuild_stats(ledger.engine)
    if as_json:
        print_json(result)
    else:
        pairs("stats rebuilt (rows)", dict(result))
