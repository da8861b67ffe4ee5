"""The command line: ``bounceback COMMAND``. Each command group is its own module."""

from __future__ import annotations

# Command modules register themselves on `app` when imported.
from bounceback.cli import (
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
from bounceback.cli.app import app

__all__ = ["app"]
