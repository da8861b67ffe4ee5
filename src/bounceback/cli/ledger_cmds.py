"""The ledger's commands: db, process, contacts, suppression, campaigns, holds, sends,
resend-list, replay, undo, health, unmatched, quarantine.

The database comes from ``BOUNCEBACK_DATABASE_URL`` or the config file
(``BOUNCEBACK_CONFIG``, else ./bounceback.toml), default ./bounceback.db.
Exit codes: 0 done, 1 "no" (suppression check), 2 bad input, 3 database unavailable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from bounceback.cli.app import app
from bounceback.cli.common import JSON_OPTION, cell, err, open_ledger, pairs, print_json, table
from bounceback.inputs import count, iter_items
from bounceback.model import RawMessage

PROGRESS_THRESHOLD = 200
PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves

db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts and their addresses.", no_args_is_help=True)
suppression_app = typer.Typer(help="The suppression list.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns and their bounce statistics.", no_args_is_help=True)
holds_app = typer.Typer(help="Addresses on hold.", no_args_is_help=True)
sends_app = typer.Typer(help="The send log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(contacts_app, name="contacts")
app.add_typer(suppression_app, name="suppression")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(holds_app, name="holds")
app.add_typer(sends_app, name="sends")

SHOW_FIELDS = [
    "name",
    "kind",
    "email",
    "bounced_address",
    "bulk_mail",
    "disabled",
    "bounced",
    "on_hold",
    "hold_type",
    "hold_since",
    "suppressed",
    "bounce_counts",
    "consecutive_bounces",
]
WHEN_HELP = "An ISO date or time (UTC), now, or 30m/6h/2d/1w ago."
_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")


def parse_when(value: str) -> dt.datetime:
    """ISO 8601 (date or date-time; naive is UTC), ``now``, or relative: 30m, 6h, 2d, 1w ago."""
    value = value.strip()
    if value.lower() == "now":
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if found := _RELATIVE.match(value):
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[found[2]]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return now - dt.timedelta(**{unit: int(found[1])})
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r}: not a time (2026-11-20, 2026-11-20T08:00, now, or 30m/6h/2d/1w)"
        ) from exc
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


# --- db ----------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from bounceback.ledger.db import current_revision, upgrade

    with open_ledger() as ledger:  # opening migrates already; say where it stands
        upgrade(ledger.engine)
        typer.echo(f"database at revision {current_revision(ledger.engine)}")


# --- process -----------------------------------------------------------------------
@app.command("process")
def process_command(
    paths: list[str] = typer.Argument(..., help="Files, folders, Maildirs, mboxes, or -."),
    as_json: bool = JSON_OPTION,
    rules_file: Path | None = typer.Option(None, "--rules", help="A TOML rules file."),
    jobs: int = typer.Option(
        0, "--jobs", help="Parsing processes; 0: one per CPU (max 4) on large inputs."
    ),
    purpose: str = typer.Option(
        "bounces",
        "--purpose",
        help="bounces: apply bounces; activities: file human replies on contacts; both.",
    ),
) -> None:
    """Parse, classify, match and apply bounces to the ledger; print a summary."""
    from bounceback.ledger import Summary
    from bounceback.ledger.activities import PURPOSES
    from bounceback.ledger.outcomes import MessageOutcome

    chosen = next((p for p in PURPOSES if p == purpose), None)
    if chosen is None:
        err.print(f"[red]error:[/red] --purpose must be one of {', '.join(PURPOSES)}")
        raise typer.Exit(2)

    summary = Summary()
    unreadable: list[str] = []

    def messages() -> Iterator[tuple[str, RawMessage]]:
        for item in iter_items(paths):
            if item.error:
                unreadable.append(f"{item.label}: {item.error}")
                continue
            yield item.label, RawMessage(data=item.data, source="cli", ref=item.label)

    total = count(paths) if "-" not in paths else 0
    errors: list[str] = []
    with open_ledger(rules_file) as ledger:
        console = Console(stderr=True)
        hide = as_json or total < PROGRESS_THRESHOLD
        with Progress(console=console, transient=True, disable=hide) as bar:
            task = bar.add_task("processing", total=total or None)
            if jobs <= 0:
                jobs = min(os.cpu_count() or 1, 4) if total >= PARALLEL_THRESHOLD else 1
            for outcome in ledger.process(messages(), jobs=jobs, purpose=chosen):
                summary.add(outcome)
                if outcome.error and outcome.outcome == MessageOutcome.ERROR:
                    errors.append(f"{outcome.label}: {outcome.error}")
                bar.advance(task)
    result = summary.as_dict()
    result["unreadable"] = len(unreadable)
    if as_json:
        print_json({**result, "problems": unreadable + errors})
    else:
        for line in unreadable + errors:
            err.print(f"[yellow]warning:[/yellow] {line}")
        pairs("bounceback process", result)
    if errors:
        raise typer.Exit(1)


# --- contacts ----------------------------------------------------------------------
@contacts_app.command("import")
def contacts_import(
    file: Path = typer.Argument(..., help="CSV: email, name, kind, campaign (optional)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import contacts; bad rows are reported by line number, good rows imported."""
    text = _read_text(file)
    with open_ledger() as ledger:
        result = ledger.import_contacts(text)
    _import_report(result, as_json)


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] {file}: {exc}")
        raise typer.Exit(2) from exc


def _import_report(result: Any, as_json: bool) -> None:
    if as_json:
        print_json(
            {"imported": result.imported, "updated": result.updated, "errors": result.errors}
        )
    else:
        for line in result.errors:
            err.print(f"[yellow]skipped[/yellow] {line}")
        typer.echo(
            f"{result.imported} imported, {result.updated} updated, {len(result.errors)} errors"
        )
    if result.errors:
        raise typer.Exit(1)


@contacts_app.command("add")
def contacts_add(
    email: str,
    name: str = typer.Option("", "--name"),
    kind: str = typer.Option("contact", "--kind", help="contact, company or lead"),
) -> None:
    """Add one contact with one address."""
    with open_ledger() as ledger:
        ledger.add_contact(email, name, kind)
    typer.echo(f"added {email}")


@contacts_app.command("show")
def contacts_show(email: str, as_json: bool = JSON_OPTION) -> None:
    """Status, flags, counts, bounced address and bounce history (newest first)."""
    with open_ledger() as ledger:
        view = ledger.contact_view(email)
    if view is None:
        err.print(f"no contact has the address {email}")
        raise typer.Exit(1)
    if as_json:
        print_json(view)
        return
    console = Console()
    for key in SHOW_FIELDS:
        console.print(f"[bold]{key}[/bold]: {cell(view[key])}")
    rows = [
        {
            **h,
            "at": (h["at"] or "")[:16].replace("T", " "),
            "hard": "hard" if h["hardbounce"] else "soft",
            "diagnostic": h["diagnostic"][:120] + _marks(h),
        }
        for h in view["history"]
    ]
    table("history", rows, ["at", "reason", "bounce_type", "hard", "status", "diagnostic"])
    if any((h.get("effects") or {}).get("unverified") for h in view["history"]):
        from bounceback.ledger.policy import UNVERIFIED  # here: the CLI starts without the ledger

        typer.echo(f"{UNVERIFIED} (docs/security.md)")  # the policy's own words


def _marks(event: dict[str, Any]) -> str:
    """What a person must know beside the text: the bounce changed nothing."""
    marks = []
    if event.get("undone"):
        marks.append("undone")
    if (event.get("effects") or {}).get("unverified"):
        marks.append("unverified")
    return "".join(f" ({mark})" for mark in marks)


@contacts_app.command("unhold")
def contacts_unhold(email: str) -> None:
    """Take the address off hold and restore bulk mail; history stays."""
    with open_ledger() as ledger:
        done = ledger.unhold(email)
    if not done:
        err.print(f"no contact has the address {email}")
        raise typer.Exit(1)
    typer.echo(f"{email} is off hold")


@contacts_app.command("set-email")
def contacts_set_email(old: str, new: str) -> None:
    """Give the contact a new address: counts start over, bulk mail restored."""
    with open_ledger() as ledger:
        ledger.set_email(old, new)
    typer.echo(f"{old} -> {new}")


# --- suppression -------------------------------------------------------------------
@suppression_app.command("list")
def suppression_list(as_json: bool = JSON_OPTION) -> None:
    """Every suppressed address, newest first."""
    with open_ledger() as ledger:
        rows = ledger.suppressions()
    if as_json:
        print_json(rows)
    else:
        table("suppression list", rows, ["email", "reason", "source", "since"])


@suppression_app.command("add")
def suppression_add(email: str, reason: str = typer.Option("manual", "--reason")) -> None:
    """Suppress an address."""
    with open_ledger() as ledger:
        added = ledger.suppress(email, reason)
    typer.echo(f"{email} suppressed" if added else f"{email} was already suppressed")


@suppression_app.command("remove")
def suppression_remove(email: str) -> None:
    """Lift a suppression (bulk mail restored; history stays)."""
    with open_ledger() as ledger:
        removed = ledger.unsuppress(email)
    if not removed:
        err.print(f"{email} was not suppressed")
        raise typer.Exit(1)
    typer.echo(f"{email} is no longer suppressed")


@suppression_app.command("check")
def suppression_check(email: str, as_json: bool = JSON_OPTION) -> None:
    """Exit 0 when the address is suppressed, 1 when not."""
    with open_ledger() as ledger:
        found = ledger.is_suppressed(email)
    if as_json:
        print_json({"email": email, "suppressed": found})
    else:
        typer.echo(f"{email}: {'suppressed' if found else 'not suppressed'}")
    raise typer.Exit(0 if found else 1)


# --- campaigns ---------------------------------------------------------------------
@campaigns_app.command("add")
def campaigns_add(name: str, status: str = typer.Option("active", "--status")) -> None:
    """Add a campaign."""
    with open_ledger() as ledger:
        ledger.add_campaign(name, status)
    typer.echo(f"campaign {name!r} added ({status})")


@campaigns_app.command("set-status")
def campaigns_set_status(name: str, status: str) -> None:
    """Change a campaign's status (closed statuses stop its bounce counts)."""
    with open_ledger() as ledger:
        ledger.set_campaign_status(name, status)
    typer.echo(f"campaign {name!r} is {status}")


@campaigns_app.command("stats")
def campaigns_stats(name: str, as_json: bool = JSON_OPTION) -> None:
    """Sends, hard and soft bounces, rate, by reason and type."""
    with open_ledger() as ledger:
        stats = ledger.campaign_stats(name)
    if as_json:
        print_json(stats)
    else:
        pairs(f"campaign {name}", stats)


# --- holds, resend list ------------------------------------------------------------
@holds_app.command("list")
def holds_list(
    bounce_type: str | None = typer.Option(None, "--type", help="Only this bounce type."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Addresses on hold."""
    with open_ledger() as ledger:
        rows = ledger.holds(bounce_type)
    if as_json:
        print_json(rows)
    elif not rows:
        typer.echo(f"no addresses on hold{f' for {bounce_type}' if bounce_type else ''}")
    else:
        table("on hold", rows, ["email", "name", "hold_type", "hold_since", "bounce_counts"])


@holds_app.command("thresholds")
def holds_thresholds(
    set_: list[str] = typer.Option(
        [], "--set", help="TYPE=N: hold after N bounces of TYPE (0: never). Repeatable."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show (or change) how many bounces of each type put an address on hold."""
    with open_ledger() as ledger:
        for pair in set_:
            name, _, number = pair.partition("=")
            if not number.strip().isdigit():
                raise typer.BadParameter(f"{pair!r}: expected TYPE=N", param_hint="--set")
            ledger.set_threshold(name.strip(), int(number) or None)
        thresholds = ledger.thresholds()
    if as_json:
        print_json(thresholds)
    else:
        pairs("hold thresholds", {k: v or "never" for k, v in thresholds.items()})


@app.command("resend-list")
def resend_list(campaign: str, as_json: bool = JSON_OPTION) -> None:
    """Addresses that soft-bounced in the campaign and may be sent again."""
    with open_ledger() as ledger:
        rows = ledger.resend_list(campaign)
    if as_json:
        print_json(rows)
    else:
        table(f"resend {campaign}", rows, ["email", "name", "reason", "last_bounce_at"])


# --- sends -------------------------------------------------------------------------
@sends_app.command("import")
def sends_import(
    file: Path = typer.Argument(
        ..., help="CSV: email, campaign, message_id, bounceback_id, return_path, sent_at."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load a send log from another system; bad rows reported by line number."""
    text = _read_text(file)
    with open_ledger() as ledger:
        result = ledger.import_sends(text)
    _import_report(result, as_json)


@sends_app.command("add")
def sends_add(
    email: str = typer.Argument(..., help="The recipient."),
    campaign: str | None = typer.Option(None, "--campaign", help="Created if new."),
    message_id: str | None = typer.Option(None, "--message-id", help="Its Message-ID."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only the return path (the envelope sender to use)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Log one send; print its send id, X-Bounceback-ID and signed return path (with [verp])."""
    from bounceback.ledger.addresses import normalise, valid_email
    from bounceback.ledger.stamping import register_send

    if not valid_email(normalise(email)):
        err.print(f"[red]error:[/red] {email!r} is not an email address")
        raise typer.Exit(2)
    with open_ledger() as ledger:
        if quiet and ledger.signer is None:
            needs = escape("--quiet prints the return path: configure [verp]")
            err.print(f"[red]error:[/red] {needs}")
            raise typer.Exit(2)
        ids, return_path = register_send(ledger, email, campaign, message_id=message_id)
    if quiet:
        typer.echo(return_path)
        return
    found = {
        "send_id": ids.send_id,
        "bounceback_id": ids.bounceback_id,
        "return_path": return_path,
    }
    if as_json:
        print_json(found)
        return
    for key, value in found.items():
        typer.echo(f"{key}: {value if value is not None else '(none: no [verp] configured)'}")


@sends_app.command("show")
def sends_show(send_id: int, as_json: bool = JSON_OPTION) -> None:
    """One send: recipient, campaign, ids and how many bounces it drew."""
    from bounceback.ledger import sends

    with open_ledger() as ledger:
        found = sends.send_detail(ledger, send_id)
    if found is None:
        err.print(f"no send with id {send_id}")
        raise typer.Exit(1)
    if as_json:
        print_json(found)
        return
    for key, value in found.items():
        typer.echo(f"{key}: {cell(value)}")


# --- replay, undo ------------------------------------------------------------------
@app.command("replay")
def replay_command(
    since: str | None = typer.Option(None, "--since", help=WHEN_HELP),
    rules_file: Path | None = typer.Option(None, "--rules", help="The rule set to replay."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-classify stored bounces under other rules; show (and apply) what changes."""
    from bounceback.ledger.replay import replay

    when = parse_when(since) if since else None
    with open_ledger(rules_file) as ledger:
        report = replay(ledger, ledger.current_rules(), when, dry_run)
    _run_report("replay", report, as_json)


@app.command("undo")
def undo_command(
    since: str = typer.Option(..., "--since", help=WHEN_HELP),
    until: str = typer.Option(..., "--until", help=WHEN_HELP),
    reason: str = typer.Option("", "--reason", help="Only bounces with this reason."),
    domain: str = typer.Option("", "--domain", help="Only bounces from this recipient domain."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reverse the holds, suppressions and removals that bounces in a window caused."""
    from bounceback.ledger.replay import undo

    with open_ledger() as ledger:
        report = undo(ledger, parse_when(since), parse_when(until), reason, domain, dry_run)
    _run_report("undo", report, as_json)


def _run_report(title: str, report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    verb = "would change" if report.dry_run else "changed"
    typer.echo(
        f"{title}: {report.events_checked} bounces checked, {report.events_changed} {verb}, "
        f"{len(report.addresses)} addresses affected"
    )
    rows = [
        {k: (f"{v[0]} -> {v[1]}" if isinstance(v, list) else v) for k, v in a.items()}
        for a in report.addresses
    ]
    if rows:
        columns = ["email", "on_hold", "hold_type", "bounced", "suppressed"]
        table(f"{title}: addresses", rows, columns)
    for line in report.retention_notes():  # what pruned history keeps it from doing
        typer.echo(f"{title}: {line}")


# --- health, unmatched, quarantine -------------------------------------------------
@app.command("health")
def health_command(as_json: bool = JSON_OPTION) -> None:
    """Sender-health warnings: bursts of sender-fault bounces from one recipient domain."""
    with open_ledger() as ledger:
        health = ledger.health()
    if as_json:
        print_json(health)
        return
    if not health["warnings"]:
        typer.echo(f"no sender-health warnings in the last {health['window_hours']} hours")
    for entry in health["warnings"]:
        reasons = ", ".join(f"{k} {v}" for k, v in entry["reasons"].items())
        typer.echo(
            f"WARNING {entry['domain']}: {entry['count']} sender-fault bounces "
            f"in {health['window_hours']} h ({reasons}) - check IP/domain reputation, "
            "SPF/DKIM/DMARC, PTR, rate and TLS for this provider"
        )
    if health["domains"]:
        table("sender-fault bounces by domain", health["domains"], ["domain", "count", "reasons"])


def _listing(outcome: str) -> Callable[[bool, int], None]:
    def command(as_json: bool = JSON_OPTION, limit: int = typer.Option(100, "--limit")) -> None:
        with open_ledger() as ledger:
            rows = ledger.messages(outcome, limit)
        if as_json:
            print_json(rows)
        else:
            table(outcome, rows, ["id", "ref", "received_at", "kind", "detector", "error"])

    return command


# The outcome names as stored (ledger.outcomes.MessageOutcome), kept as text here:
# importing the ledger at startup would weigh on every command, `parse` included.
app.command("unmatched", help="Bounces that matched no contact (kept).")(_listing("unmatched"))


@app.command("quarantine")
def quarantine_command(
    as_json: bool = JSON_OPTION,
    limit: int = typer.Option(100, "--limit"),
    retry: bool = typer.Option(
        False, "--retry", help="Process them again from the kept bytes (after a fix)."
    ),
) -> None:
    """Messages quarantined (unparseable, forged, too large); --retry processes them again."""
    if not retry:
        _listing("quarantined")(as_json, limit)
        return
    from bounceback.ledger import Summary

    summary = Summary()
    with open_ledger() as ledger:
        for outcome in ledger.retry_quarantined():
            summary.add(outcome)
    if as_json:
        print_json(summary.as_dict())
    else:
        pairs("quarantine retried", summary.as_dict())
