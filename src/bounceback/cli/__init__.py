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
from bounceback.cli import parse_cmd  # noqa: E402,F401
from bounceback.cli import ledger_cmds  # noqa: E402,F401

__all__ = ["app"]
