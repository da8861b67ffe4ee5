"""API keys and dashboard users: ``bounceback apikeys ...`` and ``bounceback users ...``.

Exit codes as for the ledger commands: 0 done, 1 no such key/user, 2 bad input,
3 database unavailable.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bounceback.cli.app import app
from bounceback.cli.common import open_ledger, table

apikeys_app = typer.Typer(help="API keys for the HTTP API (stored hashed).", no_args_is_help=True)
users_app = typer.Typer(
    help="Dashboard users (passwords hashed with scrypt).", no_args_is_help=True
)
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(users_app, name="users")

CONFIG_OPTION = typer.Option(
    None, "--config", help="The TOML config (default: $BOUNCEBACK_CONFIG or ./bounceback.toml)."
)
err = Console(stderr=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        return value[:19].replace("T", " ")  # an ISO time, to the second
    return str(value)


# --- apikeys -------------------------------------------------------------------------------
@apikeys_app.command("create")
def apikeys_create(
    name: str = typer.Argument(..., help="A name to recognise the key by (unique)."),
    scope: str = typer.Option("read", "--scope", help="read or admin."),
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Create a key and print it once: only its hash is kept."""
    from bounceback.web.auth import create_api_key

    with open_ledger(config_file=config_file) as ledger:
        key = create_api_key(ledger, name, scope)
    err.print(f"API key {name!r} ({scope}); store it now, it is not shown again:")
    sys.stdout.write(key + "\n")


@apikeys_app.command("list")
def apikeys_list(config_file: Path | None = CONFIG_OPTION) -> None:
    """The keys: name, prefix, scope, last use, revocation."""
    from bounceback.web.auth import list_api_keys

    with open_ledger(config_file=config_file) as ledger:
        rows = list_api_keys(ledger)
    columns = ["name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    table("API keys", rows, columns, _cell)


@apikeys_app.command("revoke")
def apikeys_revoke(
    name: str = typer.Argument(..., help="The key's name."),
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Revoke a key (running servers refuse it within 10 seconds)."""
    from bounceback.web.auth import revoke_api_key

    with open_ledger(config_file=config_file) as ledger:
        done = revoke_api_key(ledger, name)
    if not done:
        err.print(f"no live API key named {name!r}")
        raise typer.Exit(1)
    err.print(f"revoked {name!r}")


# --- users ---------------------------------------------------------------------------------
def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        err.print("[red]error:[/red] no terminal to ask the password on: use --password-stdin")
        raise typer.Exit(2)
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        err.print("[red]error:[/red] the passwords differ")
        raise typer.Exit(2)
    return first


STDIN_OPTION = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)


@users_app.command("create")
def users_create(
    username: str = typer.Argument(...),
    role: str = typer.Option("admin", "--role", help="admin or read."),
    password_stdin: bool = STDIN_OPTION,
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Create a dashboard user (asks for the password unless --password-stdin)."""
    from bounceback.web.auth import create_user

    password = _password(password_stdin)
    with open_ledger(config_file=config_file) as ledger:
        create_user(ledger, username, password, role)
    err.print(f"user {username!r} ({role}) created")


@users_app.command("list")
def users_list(config_file: Path | None = CONFIG_OPTION) -> None:
    """The users: name, role, last login."""
    from bounceback.web.auth import list_users

    with open_ledger(config_file=config_file) as ledger:
        rows = list_users(ledger)
    table("Users", rows, ["username", "role", "disabled", "created_at", "last_login_at"], _cell)


@users_app.command("passwd")
def users_passwd(
    username: str = typer.Argument(...),
    password_stdin: bool = STDIN_OPTION,
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Set a user's password."""
    from bounceback.web.auth import set_password

    password = _password(password_stdin)
    with open_ledger(config_file=config_file) as ledger:
        done = set_password(ledger, username, password)
    if not done:
        err.print(f"no user named {username!r}")
        raise typer.Exit(1)
    err.print(f"password of {username!r} changed")
