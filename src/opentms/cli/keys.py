"""``opentms keys ...``: the master key's versions (docs/security.md, "Rotating
the master key"): rotate, rewrap, status, retire. Like ``merchants``, these
work on the server's database and key provider directly, while the servers
run; each change is recorded in the audit log in the same transaction."""

from __future__ import annotations

import getpass
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from opentms.crypto.providers import KeyProviderError
from opentms.domain.audit import cli_actor

if TYPE_CHECKING:
    from opentms.bootstrap import Database

# How long past the refresh interval a retirement waits after the newest
# version was made: a request that sealed with the old version just before
# its server re-read the versions has committed by then.
SETTLE_MARGIN_SECONDS = 5.0


_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The server's data directory (database and master key file); overrides "
    "OPENTMS_DATA_DIR. Give every command the one `opentms serve` uses.",
)


@click.group()
def keys() -> None:
    """The master key's versions: rotate, rewrap, status, retire.

    The runbook: `keys rotate` (a new version seals from now on), `keys
    rewrap` (every value sealed under an older version moves to the newest,
    online), `keys status` (what each version still wraps), then `keys
    retire V` (destroys version V, once nothing is sealed under it).
    """


@contextmanager
def _database(data_dir: Path | None) -> Iterator[Database]:
    from opentms.bootstrap import open_database
    from opentms.cli.main import _settings

    settings = _settings(data_dir)
    try:
        database = open_database(settings)
    except KeyProviderError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        database.master_keys.record()
        yield database
    except KeyProviderError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.close()


def _actor() -> str:
    return cli_actor(getpass.getuser())


@keys.command("rotate")
@_data_dir_option
def rotate(data_dir: Path | None) -> None:
    """Make a new master key version: new values are sealed under it (a
    running server starts within OPENTMS_KEY_REFRESH_SECONDS); older ones
    still open. Then run `opentms keys rewrap`."""
    with _database(data_dir) as database:
        version = database.master_keys.rotate(_actor())
        click.echo(
            f"master key version {version.version} (key id {version.key_id.hex()}) "
            f"seals from now on ({database.keyring.provider.name} provider)"
        )
        click.echo("next: opentms keys rewrap")


@keys.command("rewrap")
@click.option(
    "--batch",
    "batch",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Values re-sealed per transaction.",
)
@click.option(
    "--pause",
    type=click.FloatRange(0, 60),
    default=0.1,
    show_default=True,
    help="Seconds between batches: the server's own writes go first (on SQLite, "
    "one transaction writes at a time).",
)
@_data_dir_option
def rewrap(batch: int, pause: float, data_dir: Path | None) -> None:
    """Re-seal every master-level value (merchants' wrapped keys, shared
    secrets, server keys, network token keys) not under the newest version,
    online, a batch per transaction. Safe to interrupt: run it again to
    finish. Ends when nothing is left under an older version."""
    from opentms.bootstrap import sealed_columns

    with _database(data_dir) as database:
        admin, keyring = database.master_keys, database.keyring
        settle = database.settings.key_refresh_seconds
        started = time.monotonic()
        total = 0
        while True:
            keyring.refresh()
            newest = keyring.newest
            moved = raced = unreadable = 0
            for sealed in sealed_columns():
                after = None
                while True:
                    result = admin.rewrap_batch(sealed, after, batch, _actor())
                    moved, raced = moved + result.rewrapped, raced + result.raced
                    unreadable += result.unreadable
                    total += result.rewrapped
                    if result.rewrapped or result.raced:
                        click.echo(
                            f"{sealed.name}: {result.rewrapped} re-wrapped to "
                            f"v{newest.version}"
                            + (f", {result.raced} changed meanwhile" if result.raced else "")
                            + f" (total {total})"
                        )
                    if result.last is None:
                        break
                    after = result.last
                    if result.rewrapped or result.raced:
                        time.sleep(pause)
            # A server that had not re-read the versions yet may have sealed
            # under the old one meanwhile: wait its refresh interval, look again.
            time.sleep(settle)
            left = _left_under_older(database)
            if not left or (moved == 0 and raced == 0):
                break
            click.echo(f"{left} value(s) still under older versions; another pass")
        elapsed = time.monotonic() - started
        click.echo(
            f"rewrap done: {total} value(s) re-wrapped to v{keyring.newest.version} "
            f"in {elapsed:.1f} s"
        )
        if unreadable:
            raise click.ClickException(
                f"{unreadable} value(s) could not be opened with any master key version "
                "(tampered with, or sealed under a destroyed version); see `opentms keys status`"
            )
        if left:
            click.echo(
                f"warning: {left} value(s) were sealed under an older version after the last "
                "pass: a server still seals with it (is its OPENTMS_KEY_REFRESH_SECONDS much "
                "longer than this command's?); run `opentms keys rewrap` again",
                err=True,
            )


def _left_under_older(database: Database) -> int:
    newest = database.keyring.newest.key_id
    return sum(
        sum(counter.values())
        for key_id, counter in database.master_keys.counts().items()
        if key_id != newest
    )


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
@_data_dir_option
def status(as_json: bool, data_dir: Path | None) -> None:
    """Each master key version: its id, when it was made, whether it seals
    (newest) or was retired, and how many values it still wraps, per table."""
    from opentms.cli.main import _echo_table, _timestamp

    with _database(data_dir) as database:
        keyring, admin = database.keyring, database.master_keys
        keyring.refresh()
        held = {v.key_id for v in keyring.versions()}
        newest = keyring.newest
        counts = admin.counts()
        records = admin.records()
    document: list[dict[str, Any]] = []
    for record in records:
        wraps: Counter[str] = counts.pop(record.key_id, Counter())
        state = (
            "retired"
            if record.retired_at
            else "newest"
            if record.key_id == newest.key_id
            else "active"
            if record.key_id in held
            else "missing"
        )
        document.append(
            {
                "version": record.version,
                "keyId": record.key_id.hex(),
                "provider": record.provider,
                "state": state,
                "createdAt": _timestamp(record.created_at),
                "retiredAt": _timestamp(record.retired_at) if record.retired_at else None,
                "values": sum(wraps.values()),
                "byColumn": dict(sorted(wraps.items())),
            }
        )
    for key_id, wraps in sorted(counts.items()):
        # Values naming no known version: tampered with, or from another install.
        document.append(
            {
                "version": None,
                "keyId": key_id.hex(),
                "provider": None,
                "state": "unknown",
                "createdAt": None,
                "retiredAt": None,
                "values": sum(wraps.values()),
                "byColumn": dict(sorted(wraps.items())),
            }
        )
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    header = ("VERSION", "KEY ID", "PROVIDER", "STATE", "CREATED", "VALUES", "BY COLUMN")
    rows = [
        (
            f"v{item['version']}" if item["version"] else "-",
            item["keyId"],
            item["provider"] or "-",
            item["state"],
            item["createdAt"] or "-",
            str(item["values"]),
            ", ".join(f"{name} {count}" for name, count in item["byColumn"].items()) or "-",
        )
        for item in document
    ]
    _echo_table(header, rows)


@keys.command("retire")
@click.argument("version", type=click.IntRange(1))
@_data_dir_option
def retire(version: int, data_dir: Path | None) -> None:
    """Destroy master key version VERSION for good (its line of the key
    file, its object in the HSM). Refused while anything is still sealed
    under it, while it is the newest, or while the newest is too recent for
    every server to have started sealing with it. A retired version opens
    nothing again, in backups too."""
    from opentms.bootstrap import RetireRefused

    with _database(data_dir) as database:
        settle = timedelta(seconds=database.settings.key_refresh_seconds + SETTLE_MARGIN_SECONDS)
        try:
            record = database.master_keys.retire(version, _actor(), settle)
        except RetireRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"master key version {record.version} (key id {record.key_id.hex()}) retired")
