"""``opentms sandbox ...``: drive a running sandbox through its admin API
(docs/sandbox.md, "The sandbox CLI"): reset, snapshots, seed files, merchants
and the clock here, the journal and faults in ``sandbox_requests``. Unlike the
other commands, these talk HTTP to the server at ``--url``; nothing here
opens the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from opentms.cli.admin_api import admin_command, counts, json_option, print_json, table
from opentms.cli.sandbox_requests import faults, journal

if TYPE_CHECKING:
    from opentms.testing import AdminAPI


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
        print_json(document)
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
        print_json(document)
        return
    deleted = (document.get("reset") or {}).get("deleted")
    what = f"merchant {merchant_id}" if merchant_id else "everything"
    kept = "" if merchant_id or include_merchants else " (merchants kept)"
    click.echo(f"Reset {what}{kept}; deleted: {counts(deleted)}.")


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
        print_json(document)
    else:
        click.echo(f"Saved snapshot {name} ({counts(document.get('counts'))}).")


@snapshot.command("list")
@json_option
@admin_command
def snapshot_list(admin: AdminAPI, as_json: bool) -> None:
    """List the snapshots: name, when saved, what they hold."""
    listed = admin.snapshots()
    if as_json:
        print_json(listed)
    elif not listed:
        click.echo("No snapshots.", err=True)
    else:
        rows = [(s.get("name"), s.get("createdAt"), counts(s.get("counts"))) for s in listed]
        table(("NAME", "CREATED", "HOLDS"), rows)


@snapshot.command("restore")
@click.argument("name")
@json_option
@admin_command
def snapshot_restore(admin: AdminAPI, name: str, as_json: bool) -> None:
    """Put the state back to snapshot NAME."""
    document = admin.restore_snapshot(name)
    if as_json:
        print_json(document)
    else:
        click.echo(f"Restored snapshot {name} ({counts(document.get('counts'))}).")


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
        print_json(document)
        return
    merchants = ", ".join(document.get("merchants") or ()) or "none"
    click.echo(f"Seeded {file.name}: merchants {merchants}")
    click.echo(f"created: {counts(document.get('created'))}")
    click.echo(f"unchanged: {counts(document.get('unchanged'))}")


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
    print_json(merchant.python_sdk_configuration("http_signature"))
    if merchant.p12_file is not None:
        click.echo("\nJWT:")
        print_json(merchant.python_sdk_configuration("jwt"))


@sandbox.group("clock")
def clock() -> None:
    """The service clock (token expiry, life-cycle dates); authentication keeps real time."""


def _echo_clock(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(document)
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


# The journal and the faults: their own module, sandbox_requests.
sandbox.add_command(journal)
sandbox.add_command(faults)
