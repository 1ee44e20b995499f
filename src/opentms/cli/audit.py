"""``opentms audit``: verify, export and search the audit log
(docs/security.md, "Audit log")."""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from opentms.domain.audit import acting, cli_actor, hash_id

if TYPE_CHECKING:
    from opentms.bootstrap import Database

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    # As cli/main.py's option (which imports this module, so it cannot be shared).
    help="The server's data directory (SQLite database and master key); overrides "
    "OPENTMS_DATA_DIR. Give every command the one `opentms serve` uses.",
)


def act_as_operator() -> None:
    """Everything the running command records is the operator's
    (``cli:<user>``), until the command ends."""
    context = click.get_current_context(silent=True)
    if context is not None:
        context.with_resource(acting(cli_actor(getpass.getuser())))


@click.group()
def audit() -> None:
    """The audit log: a hash chain of every operation on card data and keys.

    Each entry carries SHA-256(previous hash || its canonical JSON); `verify`
    recomputes the chain, `export` writes it as JSON lines for anyone to
    recompute, `hash` gives the form an instrument identifier id takes in it.
    """


@contextlib.contextmanager
def _database(data_dir: Path | None) -> Iterator[Database]:
    from opentms.bootstrap import open_database
    from opentms.cli.main import _settings

    database = open_database(_settings(data_dir))
    try:
        yield database
    finally:
        database.close()


@audit.command()
@click.option(
    "--batch",
    default=1_000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Entries read per query (memory stays flat however long the log).",
)
@data_dir_option
def verify(batch: int, data_dir: Path | None) -> None:
    """Recompute the whole chain and check it against the head row.

    Exits 0 and prints the head hash (anchor it somewhere the database's
    writers cannot reach: a later run proves nothing before it was changed);
    exits 1 naming the first problem: an edited entry, a missing one, an
    entry out of place, entries beyond the head or a truncated tail."""
    from opentms.bootstrap import audit_chain

    with _database(data_dir) as database:
        report = audit_chain(database).verify(batch)
    if report.problem is not None:
        click.echo(f"audit log NOT intact: {report.problem}", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {report.verified} entries")
    click.echo(f"head: seq {report.verified} hash {report.last_hash.hex()}")


def _since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "an ISO 8601 date or time, e.g. 2026-12-05 or 2026-12-05T10:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit.command()
@click.option(
    "--since",
    required=True,
    help="The first entries exported are those at or after this ISO 8601 time (UTC "
    "unless it says otherwise); the chain from there on.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write here (created 0600) rather than to standard output.",
)
@data_dir_option
def export(since: str, out: Path | None, data_dir: Path | None) -> None:
    """Write the entries from --since on as JSON lines: the canonical document
    of each (seq, at, actor, action, resourceType, resourceIds, outcome,
    correlationId, details) plus prevHash and hash in hex. An entry's hash is
    SHA-256(bytes.fromhex(prevHash) + its canonical JSON), the canonical JSON
    being those nine fields with sorted keys and no spaces."""
    from opentms.bootstrap import audit_chain

    moment = _since(since)
    with _database(data_dir) as database, _output(out) as stream:
        count = 0
        for stored in audit_chain(database).entries(moment):
            stream.write(json.dumps(stored.export(), sort_keys=True, ensure_ascii=False))
            stream.write("\n")
            count += 1
    if out is not None:
        click.echo(f"{count} entries written to {out}", err=True)


@contextlib.contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        return
    from opentms.adapters.private_files import create_private_file

    create_private_file(str(out))
    with open(out, "w", encoding="utf-8") as stream:
        yield stream


@audit.command("hash")
@click.argument("value")
@data_dir_option
def hash_command(value: str, data_dir: Path | None) -> None:
    """The form VALUE (an instrument identifier id) takes in the audit log:
    hmac: + HMAC-SHA256 under the server's audit key. Search the log or an
    export for it."""
    from opentms.bootstrap import audit_id_key

    with _database(data_dir) as database:
        click.echo(hash_id(audit_id_key(database), value))
