"""``bounceback verp address`` and ``bounceback verp check``: signed return paths by hand.

Both read only the config's ``[verp]`` keys; neither opens the database. Exit codes:
0 done (check: the address verifies), 1 it does not verify, 2 no usable ``[verp]``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bounceback.cli.app import app
from bounceback.match.verp import VerpError, VerpSigner, civicrm_send_id

verp_app = typer.Typer(
    help="Signed VERP return paths ([verp] in the config).", no_args_is_help=True
)
app.add_typer(verp_app, name="verp")

CONFIG_OPTION = typer.Option(
    None, "--config", help="The TOML config (default: $BOUNCEBACK_CONFIG or ./bounceback.toml)."
)
err = Console(stderr=True)


def _signer(config_file: Path | None) -> tuple[VerpSigner, str]:
    """The configured signer and the domain unsigned ids are trusted on ("" = none)."""
    from bounceback.config import ConfigError
    from bounceback.config import load as load_config
    from bounceback.ledger.store import signer_from

    try:
        config = load_config(config_file)
        signer = signer_from(config)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    if signer is None:
        where = config.path or "no config file (give --config or set BOUNCEBACK_CONFIG)"
        needs = escape("[verp] needs domain, active_key and [verp.keys]")
        err.print(f"[red]error:[/red] {escape(str(where))}: {needs}")
        raise typer.Exit(2)
    return signer, config.verp.unsigned_domain


@verp_app.command("address")
def verp_address(
    send_id: int = typer.Argument(..., min=0, help="A send id (`bounceback sends add` prints it)."),
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Print the signed return path of a send, signed now with the active key."""
    signer, _ = _signer(config_file)
    try:
        address = signer.address(send_id)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    typer.echo(address)


@verp_app.command("check")
def verp_check(
    address: str = typer.Argument(..., help="A return path, e.g. bounce+demo.xxxx@domain."),
    config_file: Path | None = CONFIG_OPTION,
) -> None:
    """Say whether an address verifies, and for which send; or why not (exit 1)."""
    signer, unsigned_domain = _signer(config_file)
    address = address.strip().strip("<>")
    domain = address.rpartition("@")[2].lower().rstrip(".")
    if unsigned_domain and domain == unsigned_domain and civicrm_send_id(address) is not None:
        send_id = civicrm_send_id(address)
        typer.echo(f"{address}: unsigned id of send {send_id} (trusted: [verp] accept_unsigned)")
        return
    try:
        token = signer.verify(address)
    except VerpError as exc:
        typer.echo(f"does not verify: {exc}")
        raise typer.Exit(1) from exc
    issued = token.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    expires = (token.issued_at + signer.max_age).strftime("%Y-%m-%d")
    typer.echo(
        f"{address}: verifies: send {token.send_id} "
        f"(key {token.key_id}, issued {issued}, good until {expires})"
    )
