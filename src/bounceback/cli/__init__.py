"""The command line: ``bounceback COMMAND``. Each command group is its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bounceback",
    help="Read, classify and act on email bounces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules register themselves on `app` when imported.
from bounceback.cli import (  # noqa: E402
    activities_cmd,  # noqa: F401
    db_cmd,  # noqa: F401
    ledger_cmds,  # noqa: F401
    ops_cmds,  # noqa: F401
    parse_cmd,  # noqa: F401
    rules_cmd,  # noqa: F401
    serve_cmd,  # noqa: F401
    smtpd_cmd,  # noqa: F401
    stats_cmd,  # noqa: F401
    verp_cmd,  # noqa: F401
    web_cmds,  # noqa: F401
)

__all__ = ["app"]
