"""``bounceback smtpd``: the SMTP receiver for the return-path domains."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from bounceback.cli.app import app


@app.command("smtpd")
def smtpd(
    listen: str = typer.Option("127.0.0.1:2525", "--listen", help="HOST:PORT to listen on."),
    domain: list[str] = typer.Option(
        [], "--domain", help="A return-path domain (default: the VERP domain of the config)."
    ),
    catch_all: list[str] = typer.Option(
        [], "--catch-all", help="An address accepted without a VERP token."
    ),
    max_size: int = typer.Option(10_000_000, "--max-size", help="SIZE limit in bytes."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate: STARTTLS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM key for --tls-cert."),
    max_connections: int = typer.Option(20, "--max-connections", help="Per client address."),
) -> None:
    """Receive bounces by SMTP; 250 only after the ledger has committed them."""
    from bounceback.cli.common import open_ledger
    from bounceback.sources.smtpd import SmtpdConfig, run_smtpd

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter("use HOST:PORT", param_hint="--listen")
    config = SmtpdConfig(
        host=host.strip("[]"),
        port=int(port),
        domains=domain,
        catch_all=catch_all,
        max_message_bytes=max_size,
        tls_cert=tls_cert,
        tls_key=tls_key,
        max_connections_per_client=max_connections,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open_ledger() as ledger:
        if ledger.signer is None and not domain and not catch_all:
            typer.echo("error: configure [verp] or give --domain/--catch-all", err=True)
            raise typer.Exit(2)
        config.unsigned_domain = ledger.config.verp.unsigned_domain
        run_smtpd(config, ledger)
