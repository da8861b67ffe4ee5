"""``bounceback serve``: webhooks, SMTP receiver and pollers from one config file."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from bounceback.cli.app import app


@app.command("serve")
def serve(
    config_file: Path | None = typer.Option(
        None, "--config", help="The TOML config (default: $BOUNCEBACK_CONFIG or ./bounceback.toml)."
    ),
    only: str | None = typer.Option(None, "--only", help="Run one part: smtp, pollers or http."),
) -> None:
    """Run the HTTP app, the SMTP receiver and the pollers until SIGTERM."""
    from bounceback import config as config_mod
    from bounceback.ledger import Ledger, LedgerError, LedgerUnavailable
    from bounceback.serve import PARTS, Part, Server, nothing_to_run
    from bounceback.serve_config import serve_config

    if only is not None and only not in PARTS:
        raise typer.BadParameter("use smtp, pollers or http", param_hint="--only")
    logging.basicConfig(
        level=logging.INFO, format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    part: Part | None = next((p for p in PARTS if p == only), None)
    try:
        config = config_mod.load(config_file)
        if config.path is None:
            raise config_mod.ConfigError(
                "no config file: give --config FILE, set BOUNCEBACK_CONFIG, or create "
                f"./{config_mod.DEFAULT_FILE} (every key: bounceback.example.toml; "
                "a demo: samples/serve.toml)"
            )
        settings = serve_config(config)
        # Said before the database is opened: a run that cannot start writes nothing.
        nothing = nothing_to_run(settings, part)
        if nothing:
            raise config_mod.ConfigError(f"{config.path}: {nothing}")
        ledger = Ledger.open(config)
        smtpd = settings.smtpd
        if smtpd and not (ledger.signer or smtpd.domains or smtpd.catch_all):
            ledger.close()
            raise config_mod.ConfigError("smtpd: configure [verp] or smtpd.domains/catch_all")
    except (config_mod.ConfigError, LedgerError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except LedgerUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    try:
        Server(settings, ledger, part).run()
    except (OSError, RuntimeError) as exc:  # a port in use, a part that cannot start
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        ledger.close()
