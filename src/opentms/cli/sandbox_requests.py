"""``opentms sandbox journal ...`` and ``opentms sandbox faults ...``: what
the requests did, and the rules that break them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from opentms.cli.admin_api import admin_command, json_option, print_json, table

if TYPE_CHECKING:
    from opentms.testing import AdminAPI


@click.group("journal")
def journal() -> None:
    """The request journal: what each TMS request sent and got."""


@journal.command("list")
@click.option("--merchant", "merchant_id", help="Only this merchant's requests.")
@click.option("--method", help="Only this HTTP method.")
@click.option("--path", help="Only paths matching this glob, e.g. '/tms/v2/customers*'.")
@click.option("--status", type=int, help="Only this response status.")
@click.option("--since", help="Only requests at or after this ISO 8601 time.")
@click.option("--until", help="Only requests before this ISO 8601 time.")
@click.option("--limit", type=click.IntRange(1), help="At most this many entries.")
@click.option("--offset", type=click.IntRange(0), help="Skip this many entries.")
@json_option
@admin_command
def journal_list(admin: AdminAPI, as_json: bool, **filters: Any) -> None:
    """List journal entries, newest first."""
    document = admin.journal(**filters)
    if as_json:
        print_json(document)
        return
    entries = document.get("entries") or []
    if not entries:
        click.echo(f"No journal entries (of {document.get('total', 0)}).", err=True)
        return
    rows = [
        (
            e.get("id"),
            e.get("at"),
            e.get("merchantId") or "-",
            e.get("method"),
            e.get("path"),
            e.get("status"),
            e.get("durationMs"),
            _verdict(e.get("authentication")),
        )
        for e in entries
    ]
    header = ("ID", "AT", "MERCHANT", "METHOD", "PATH", "STATUS", "MS", "AUTHENTICATION")
    table(header, rows)
    click.echo(f"{len(entries)} of {document.get('total', len(entries))} entries", err=True)


def _verdict(authentication: dict[str, Any] | None) -> str:
    if not authentication:
        return "-"
    reason = authentication.get("reason")
    return (
        f"{authentication.get('verdict')}: {reason}"
        if reason
        else str(authentication.get("verdict"))
    )


@journal.command("show")
@click.argument("entry_id")
@admin_command
def journal_show(admin: AdminAPI, entry_id: str) -> None:
    """Print journal entry ENTRY_ID (JSON): bodies, authentication verdict and reason."""
    print_json(admin.journal_entry(entry_id))


@journal.command("clear")
@admin_command
def journal_clear(admin: AdminAPI) -> None:
    """Delete every journal entry."""
    admin.clear_journal()
    click.echo("Journal cleared.")


@click.group("faults")
def faults() -> None:
    """Fault rules: answer chosen requests with an error, a delay or a broken connection."""


@faults.command("add")
@click.option("--method", help="Match this HTTP method (default any).")
@click.option("--path", help="Match paths by this glob, e.g. '/tms/v2/customers*'.")
@click.option("--merchant", "merchant_id", help="Match this merchant's requests only.")
@click.option("--status", type=int, help="Answer this status with a TMS error body.")
@click.option("--reason", help="The error body's reason, e.g. SYSTEM_ERROR.")
@click.option("--message", help="The error body's message.")
@click.option(
    "--connection",
    type=click.Choice(["reset", "empty"]),
    help="Reset the connection, or answer nothing.",
)
@click.option("--delay-ms", type=int, help="Wait this long first.")
@click.option("--delay-max-ms", type=int, help="Wait a random time between --delay-ms and this.")
@click.option("--times", type=int, help="Fire this many times, then stop.")
@click.option("--probability", type=float, help="Fire with this probability (0 to 1).")
@json_option
@admin_command
def faults_add(admin: AdminAPI, as_json: bool, **options: Any) -> None:
    """Add a fault rule; without --status or --connection it only delays."""
    rule = {name: value for name, value in options.items() if value is not None}
    added = admin.add_fault(rule)
    if as_json:
        print_json(added)
    else:
        click.echo(f"Added fault {added.get('id')}: {_describe(added)}")


def _describe(rule: dict[str, Any]) -> str:
    what = f"{rule.get('method') or '*'} {rule.get('path') or '*'}"
    if rule.get("merchantId"):
        what += f" of {rule['merchantId']}"
    if rule.get("connection"):
        outcome = f"connection {rule['connection']}"
    elif rule.get("status"):
        outcome = f"answer {rule['status']}"
    else:
        outcome = "delay"
    delay = rule.get("delayMs") or 0
    if rule.get("delayMaxMs"):
        outcome += f" after {delay}-{rule['delayMaxMs']} ms"
    elif delay:
        outcome += f" after {delay} ms"
    return f"{what} -> {outcome}"


@faults.command("list")
@json_option
@admin_command
def faults_list(admin: AdminAPI, as_json: bool) -> None:
    """List the fault rules."""
    listed = admin.faults()
    if as_json:
        print_json(listed)
    elif not listed:
        click.echo("No fault rules.", err=True)
    else:
        rows = [
            (
                f.get("id"),
                _describe(f),
                f.get("hits", 0),
                _left(f.get("remaining")),
                f.get("probability", 1),
            )
            for f in listed
        ]
        table(("ID", "RULE", "HITS", "LEFT", "PROBABILITY"), rows)


def _left(remaining: Any) -> str:
    return "unlimited" if remaining is None else str(remaining)


@faults.command("delete")
@click.argument("fault_id")
@admin_command
def faults_delete(admin: AdminAPI, fault_id: str) -> None:
    """Delete fault rule FAULT_ID."""
    admin.delete_fault(fault_id)
    click.echo(f"Deleted fault {fault_id}.")


@faults.command("clear")
@admin_command
def faults_clear(admin: AdminAPI) -> None:
    """Delete every fault rule."""
    admin.clear_faults()
    click.echo("Fault rules cleared.")
