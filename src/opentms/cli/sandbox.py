"""``opentms sandbox ...``: drive a running sandbox through its admin API
(docs/sandbox.md, "The sandbox CLI"). Unlike the other commands, these talk
HTTP to the server at ``--url``; nothing here opens the database."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from opentms.testing import AdminAPI

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_URL = "http://127.0.0.1:8080"


def _token_and_source(
    ctx: click.Context, token: str | None, data_dir: Path | None
) -> tuple[str, str]:
    """The admin token and where it came from, for the 401 message."""
    if token:
        from_env = ctx.get_parameter_source("token") == click.core.ParameterSource.ENVIRONMENT
        return token, ("OPENTMS_ADMIN_TOKEN" if from_env else "--token")
    from opentms.cli.main import _settings

    path = _settings(data_dir).admin_token_file
    try:
        return path.read_text().strip(), str(path)
    except OSError as exc:
        raise click.ClickException(
            f"No admin token: give --token or OPENTMS_ADMIN_TOKEN, or the server's --data-dir "
            f"(its admin-token file {path} cannot be read: {exc.strerror})."
        ) from None


def admin_command(function: F) -> F:
    """Add --url, --token and --data-dir, and call ``function(admin, ...)``
    with the admin API client; its failures end the command with a message
    (exit status 1)."""

    @click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="The server's data directory, whose admin-token file is read when no token is "
        "given. Give every command the one `opentms serve` uses.",
    )
    @click.option(
        "--token",
        envvar="OPENTMS_ADMIN_TOKEN",
        default=None,
        help="The admin token (default: OPENTMS_ADMIN_TOKEN, else the data directory's file).",
    )
    @click.option(
        "--url",
        envvar="OPENTMS_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The opentms server (or OPENTMS_URL).",
    )
    @functools.wraps(function)
    def run(url: str, token: str | None, data_dir: Path | None, **kwargs: Any) -> Any:
        from opentms.testing import AdminAPI, AdminRefused, AdminUnauthorized, SandboxError

        secret, source = _token_and_source(click.get_current_context(), token, data_dir)
        with AdminAPI(url, secret) as admin:
            try:
                return function(admin, **kwargs)
            except AdminUnauthorized:
                raise click.ClickException(
                    f"The server at {url} refused the admin token (from {source}). Give the "
                    "token `opentms serve` uses: --token or OPENTMS_ADMIN_TOKEN, or its "
                    "--data-dir (the admin-token file it printed at start)."
                ) from None
            except AdminRefused as exc:
                fields = f" (fields: {', '.join(exc.details)})" if exc.details else ""
                raise click.ClickException(f"{exc.message}{fields} [{exc.status}]") from None
            except SandboxError as exc:  # the server unreachable, or not answering JSON
                raise click.ClickException(str(exc)) from None

    return run  # type: ignore[return-value]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")


def _print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell, two spaces apart."""
    cells = [[str(c) for c in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _counts(counts: dict[str, Any] | None) -> str:
    return ", ".join(f"{name} {n}" for name, n in (counts or {}).items() if n) or "nothing"


@click.group()
def sandbox() -> None:
    """Drive a running sandbox through its admin API: reset, snapshots,
    seed files, merchants, the request journal, faults and the clock.

    Every command takes --url (or OPENTMS_URL; default http://127.0.0.1:8080)
    and the admin token: --token or OPENTMS_ADMIN_TOKEN, else the admin-token
    file of the server's data directory (--data-dir or OPENTMS_DATA_DIR).
    Give every command the one `opentms serve` uses.
    """


@sandbox.command("status")
@json_option
@admin_command
def status(admin: AdminAPI, as_json: bool) -> None:
    """Mode, state generation, clock and deterministic mode of the server."""
    document = admin.status()
    if as_json:
        _print_json(document)
        return
    clock = document.get("clock") or {}
    click.echo(f"url            {admin.url}")
    click.echo(f"mode           {document.get('mode')}")
    click.echo(f"generation     {document.get('generation')}")
    click.echo(f"clock          {clock.get('now')} (offset {clock.get('offsetSeconds')} s)")
    click.echo(f"deterministic  {'yes' if document.get('deterministic') else 'no'}")


@sandbox.command("reset")
@click.option("--merchant", "merchant_id", help="Only this merchant's vault data and journal.")
@click.option("--include-merchants", is_flag=True, help="Delete the merchants too.")
@json_option
@admin_command
def reset(admin: AdminAPI, merchant_id: str | None, include_merchants: bool, as_json: bool) -> None:
    """Delete the vault data, journal and fault rules and put the clock back
    to real time; merchants and their credentials are kept unless asked."""
    if merchant_id and include_merchants:
        raise click.UsageError("--merchant and --include-merchants do not go together.")
    document = admin.reset(merchant_id, include_merchants)
    if as_json:
        _print_json(document)
        return
    deleted = (document.get("reset") or {}).get("deleted")
    what = f"merchant {merchant_id}" if merchant_id else "everything"
    kept = "" if merchant_id or include_merchants else " (merchants kept)"
    click.echo(f"Reset {what}{kept}; deleted: {_counts(deleted)}.")


@sandbox.group("snapshot")
def snapshot() -> None:
    """Save, list, restore and delete named snapshots of the state."""


@snapshot.command("save")
@click.argument("name")
@json_option
@admin_command
def snapshot_save(admin: AdminAPI, name: str, as_json: bool) -> None:
    """Save the state as snapshot NAME."""
    document = admin.save_snapshot(name)
    if as_json:
        _print_json(document)
    else:
        click.echo(f"Saved snapshot {name} ({_counts(document.get('counts'))}).")


@snapshot.command("list")
@json_option
@admin_command
def snapshot_list(admin: AdminAPI, as_json: bool) -> None:
    """List the snapshots: name, when saved, what they hold."""
    listed = admin.snapshots()
    if as_json:
        _print_json(listed)
    elif not listed:
        click.echo("No snapshots.", err=True)
    else:
        rows = [(s.get("name"), s.get("createdAt"), _counts(s.get("counts"))) for s in listed]
        _table(("NAME", "CREATED", "HOLDS"), rows)


@snapshot.command("restore")
@click.argument("name")
@json_option
@admin_command
def snapshot_restore(admin: AdminAPI, name: str, as_json: bool) -> None:
    """Put the state back to snapshot NAME."""
    document = admin.restore_snapshot(name)
    if as_json:
        _print_json(document)
    else:
        click.echo(f"Restored snapshot {name} ({_counts(document.get('counts'))}).")


@snapshot.command("delete")
@click.argument("name")
@admin_command
def snapshot_delete(admin: AdminAPI, name: str) -> None:
    """Delete snapshot NAME."""
    admin.delete_snapshot(name)
    click.echo(f"Deleted snapshot {name}.")


@sandbox.command("seed")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@json_option
@admin_command
def seed(admin: AdminAPI, file: Path, as_json: bool) -> None:
    """Apply the seed FILE (YAML for .yaml/.yml, else JSON); applying it again changes nothing."""
    yaml = file.suffix.lower() in (".yaml", ".yml")
    document = admin.seed(file.read_bytes(), "application/yaml" if yaml else "application/json")
    if as_json:
        _print_json(document)
        return
    merchants = ", ".join(document.get("merchants") or ()) or "none"
    click.echo(f"Seeded {file.name}: merchants {merchants}")
    click.echo(f"created: {_counts(document.get('created'))}")
    click.echo(f"unchanged: {_counts(document.get('unchanged'))}")


@sandbox.group("merchants")
def merchants() -> None:
    """Merchants, registered through the running server."""


@merchants.command("create")
@click.argument("merchant_id")
@click.option("--key-id", help="Register this HTTP Signature key id instead of a new one.")
@click.option("--shared-secret", help="Register this base64 shared secret instead of a new one.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory for the credentials bundle.",
)
@admin_command
def merchants_create(
    admin: AdminAPI, merchant_id: str, key_id: str | None, shared_secret: str | None, out: Path
) -> None:
    """Register MERCHANT_ID in the running sandbox and write its credentials
    bundle to --out, as `opentms merchants create` does."""
    from opentms.testing import MerchantCredentials

    bundle = admin.create_merchant(merchant_id, key_id, shared_secret)
    merchant = MerchantCredentials.from_bundle(bundle, out, admin.url)
    click.echo(f"Registered merchant {merchant_id} on {admin.url}")
    click.echo(f"Credentials written to {merchant.bundle_file}")
    click.echo(f"Default profile: {merchant.default_profile_id}")
    click.echo("")
    click.echo("CyberSource Python SDK configuration (cybersource-rest-client-python):")
    click.echo("\nHTTP Signature:")
    _print_json(merchant.python_sdk_configuration("http_signature"))
    if merchant.p12_file is not None:
        click.echo("\nJWT:")
        _print_json(merchant.python_sdk_configuration("jwt"))


@sandbox.group("journal")
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
        _print_json(document)
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
    _table(header, rows)
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
    _print_json(admin.journal_entry(entry_id))


@journal.command("clear")
@admin_command
def journal_clear(admin: AdminAPI) -> None:
    """Delete every journal entry."""
    admin.clear_journal()
    click.echo("Journal cleared.")


@sandbox.group("faults")
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
        _print_json(added)
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
        _print_json(listed)
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
        _table(("ID", "RULE", "HITS", "LEFT", "PROBABILITY"), rows)


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


@sandbox.group("clock")
def clock() -> None:
    """The service clock (token expiry, life-cycle dates); authentication keeps real time."""


def _echo_clock(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(document)
    else:
        click.echo(f"now       {document.get('now')}")
        click.echo(f"real now  {document.get('realNow')}")
        click.echo(f"offset    {document.get('offsetSeconds')} s")


@clock.command("show")
@json_option
@admin_command
def clock_show(admin: AdminAPI, as_json: bool) -> None:
    """Print the service clock, real time and the offset."""
    _echo_clock(admin.clock(), as_json)


@clock.command("advance")
@click.argument("duration")
@json_option
@admin_command
def clock_advance(admin: AdminAPI, duration: str, as_json: bool) -> None:
    """Move the clock by DURATION: seconds (86400) or ISO 8601 (P30D, PT2H, -P1D)."""
    try:
        amount: float | str = float(duration)
    except ValueError:
        amount = duration
    _echo_clock(admin.advance_clock(amount), as_json)


@clock.command("set")
@click.argument("moment")
@json_option
@admin_command
def clock_set(admin: AdminAPI, moment: str, as_json: bool) -> None:
    """Set the clock to MOMENT, an ISO 8601 date-time with a zone (2031-01-01T00:00:00Z)."""
    _echo_clock(admin.set_clock(moment), as_json)


@clock.command("reset")
@json_option
@admin_command
def clock_reset(admin: AdminAPI, as_json: bool) -> None:
    """Put the clock back to real time."""
    _echo_clock(admin.reset_clock(), as_json)
