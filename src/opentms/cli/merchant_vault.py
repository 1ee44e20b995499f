"""``opentms merchants rotate-data-key`` and ``opentms merchants delete --shred``:
a merchant's data key, rotated online, and its crypto-shredding
(services/data_keys.py; docs/security.md)."""

from __future__ import annotations

import getpass
from datetime import timedelta
from pathlib import Path

import click

from opentms.cli.main import _settings, _where, data_dir_option, merchants
from opentms.domain.audit import cli_actor


def _actor() -> str:
    return cli_actor(getpass.getuser())


@merchants.command("rotate-data-key")
@click.argument("merchant_id")
@click.option(
    "--grace-seconds",
    type=click.FloatRange(min=0),
    default=None,
    help="How long after the rotation starts the previous data key is kept at least, "
    "for requests that loaded it before (default: twice OPENTMS_BODY_TIMEOUT_SECONDS).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Do not wait for the grace period: re-seal, then stop with the previous key "
    "kept; run the command again later to destroy it.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Values re-sealed per transaction.",
)
@data_dir_option
def merchants_rotate_data_key(
    merchant_id: str,
    grace_seconds: float | None,
    no_wait: bool,
    batch_size: int,
    data_dir: Path | None,
) -> None:
    """Give MERCHANT_ID a new data key and re-seal its data under it, online.

    New writes are sealed under the new key as soon as it is made (every
    server process sees it at its next request); every stored value is then
    sealed again in batches while the server runs; once none is left under
    the old key and the grace period has passed, the old key is destroyed.
    Interrupted, it resumes where it stopped when run again. The
    fingerprint key is not rotated: the same card keeps its instrument
    identifier.
    """
    from opentms.bootstrap import data_key_store, open_database
    from opentms.services.data_keys import DataKeyError, DataKeyRotation
    from opentms.services.tenancy import SystemClock

    settings = _settings(data_dir)
    grace = timedelta(
        seconds=2 * settings.body_timeout_seconds if grace_seconds is None else grace_seconds
    )
    database = open_database(settings)
    try:
        rotation = DataKeyRotation(data_key_store(database), SystemClock(), grace, batch_size)
        result = rotation.rotate(merchant_id, _actor(), click.echo, wait=not no_wait)
    except DataKeyError as exc:
        raise click.ClickException(f"{exc} (data: {_where(settings)})") from None
    except KeyboardInterrupt:
        click.echo(
            "interrupted: the rotation is under way; run the command again to resume it",
            err=True,
        )
        raise SystemExit(130) from None
    finally:
        database.close()
    if not result.finished:
        assert result.not_before is not None  # noqa: S101 - set when not finished
        click.echo(
            f"{merchant_id}: every value is under the new data key; the previous one is kept "
            f"until {result.not_before.isoformat(timespec='seconds')}: run the command "
            "again after that to destroy it"
        )
        return
    click.echo(f"{merchant_id}: data key rotated ({result.resealed} values re-sealed)")


@merchants.command("delete")
@click.argument("merchant_id")
@click.option(
    "--shred",
    is_flag=True,
    help="Destroy the merchant's keys (crypto-shredding): required, the only deletion offered.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@data_dir_option
def merchants_delete(merchant_id: str, shred: bool, yes: bool, data_dir: Path | None) -> None:
    """Crypto-shred MERCHANT_ID: destroy its data and fingerprint keys and its
    credentials, in one transaction.

    Its rows stay as unreadable ciphertext (the tombstone): nothing of the
    merchant can be decrypted afterwards, even with the master key; its
    credentials are refused by every server process from its next request,
    and its id cannot be registered again. This cannot be undone.
    """
    from opentms.bootstrap import data_key_store, open_database
    from opentms.services.data_keys import DataKeyError, Shredding
    from opentms.services.tenancy import SystemClock

    if not shred:
        raise click.UsageError(
            "opentms deletes a merchant only by crypto-shredding: give --shred to destroy "
            f"{merchant_id}'s keys (its data becomes unreadable for good, its rows stay as "
            "tombstones and its id cannot be registered again)."
        )
    settings = _settings(data_dir)
    if not yes:
        click.confirm(
            f"Destroy the keys of merchant {merchant_id} (data: {_where(settings)})? "
            "Its data can never be read again",
            abort=True,
        )
    database = open_database(settings)
    try:
        report = Shredding(data_key_store(database), SystemClock()).shred(merchant_id, _actor())
    except DataKeyError as exc:
        raise click.ClickException(f"{exc} (data: {_where(settings)})") from None
    finally:
        database.close()
    cleared = ", ".join(f"{n} {table}" for table, n in report.rows.items() if n) or "no rows"
    click.echo(f"{merchant_id} shredded: keys destroyed; cleared {cleared}")
    if settings.database_url is None and not report.compacted:
        click.echo(
            "note: other connections kept the database file from being compacted now: "
            "until it is (`sqlite3 opentms.db 'PRAGMA secure_delete=ON; VACUUM; PRAGMA "
            "wal_checkpoint(TRUNCATE)'` while the server is stopped), stale pages may keep "
            "the destroyed keys' bytes",
            err=True,
        )
