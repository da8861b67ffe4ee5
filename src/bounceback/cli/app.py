"""The ``bounceback`` Typer app; command modules register themselves on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bounceback",
    help="Read, classify and act on email bounces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
