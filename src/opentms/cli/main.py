"""``opentms``: run the server and administer merchants and the database."""

from __future__ import annotations

import contextlib
import functools
import json
import logging.config
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opentms.adapters.private_files import shared_directory_warning
from opentms.cli.audit import act_as_operator, audit
from opentms.cli.keys import keys
from opentms.cli.listen import ADDRESS_UNAVAILABLE, listen_problem
from opentms.cli.sandbox import sandbox
from opentms.config import Settings
from opentms.observability import logging_config

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _settings(data_dir: Path | None, **options: object) -> Settings:
    """The settings of the environment (``OPENTMS_*``), with --data-dir over
    OPENTMS_DATA_DIR when given (and the other ``options`` given, over theirs):
    passed to what needs them, never put back into this process's
    environment. Invalid settings end the command with a message naming them
    (exit status 2)."""
    from pydantic import ValidationError

    given = {name: value for name, value in options.items() if value is not None}
    if data_dir is not None:
        given["data_dir"] = data_dir
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'OPENTMS_' + str(error['loc'][0]).upper() + ': ' if error['loc'] else ''}"
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from None


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The server's data directory (SQLite database and master key); overrides "
    "OPENTMS_DATA_DIR. Give every command the one `opentms serve` uses.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array, for scripts, instead of a table."
)


@click.group()
@click.version_option(package_name="opentms")
def main() -> None:
    """opentms: a Token Management Service speaking the CyberSource TMS API.

    The commands that administer merchants, profiles and the schema work on
    the server's database directly (the server need not be running): give
    them the server's data directory, with --data-dir or OPENTMS_DATA_DIR
    (or its OPENTMS_DATABASE_URL and OPENTMS_MASTER_KEY_FILE), else they
    use a database of their own that the server never reads.
    """
    act_as_operator()


main.add_command(sandbox)
main.add_command(keys)
main.add_command(audit)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (on SQLite they take turns to write).",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Apply this seed file (YAML, or JSON if it ends in .json) once before serving "
    "(sandbox only; docs/sandbox.md). Overrides OPENTMS_SEED_FILE.",
)
@click.option(
    "--deterministic",
    "deterministic_seed",
    metavar="SEED",
    default=None,
    help="Reproducible ids, token numbers and generated keys from SEED (sandbox only; "
    "docs/sandbox.md). Overrides OPENTMS_DETERMINISTIC_SEED.",
)
@data_dir_option
def serve(
    host: str,
    port: int,
    workers: int,
    seed_file: Path | None,
    deterministic_seed: str | None,
    data_dir: Path | None,
) -> None:
    """Run the TMS server (migrates the database first, then applies --seed).

    Exits with status 3 when it cannot listen on --host:--port, for example
    because the address is already in use; that is checked first. Exits with
    status 2 on invalid settings or a seed file that cannot be applied.
    """
    import uvicorn

    from opentms.adapters.http.server import GuardedHttpToolsProtocol
    from opentms.bootstrap import open_database

    # Invalid settings (a sandbox-only one in vault mode, say) stop here, before anything starts.
    settings = _settings(data_dir)
    problem = listen_problem(host, port)
    if problem is not None:
        click.echo(f"opentms serve: {problem}", err=True)
        raise SystemExit(ADDRESS_UNAVAILABLE)
    options = {
        "seed_file": seed_file and seed_file.resolve(),
        "deterministic_seed": deterministic_seed,
    }
    settings = _settings(data_dir, **options)
    if workers > 1 and (data_dir is not None or seed_file or deterministic_seed):
        # uvicorn starts each worker as a fresh interpreter that builds the app
        # from the import string opentms.asgi:app, with the settings of its
        # environment (a copy of this process's): only there can the data
        # directory (and the deterministic seed) reach them. This process's
        # os.environ stays as it is: it is replaced by `opentms serve` without
        # those options, same pid and signals, given a copied environment that
        # names them.
        given = {"data_dir": data_dir, **options}
        environment = {
            **os.environ,
            **{f"OPENTMS_{k.upper()}": str(v) for k, v in given.items() if v is not None},
        }
        arguments = [f"--host={host}", f"--port={port}", f"--workers={workers}"]
        executable = [sys.executable, "-m", "opentms.cli", "serve", *arguments]
        os.execve(sys.executable, executable, environment)  # noqa: S606 - our own argv
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    database = open_database(settings, upgrade=False)
    warning = shared_directory_warning(settings.data_dir)
    if warning:
        logging.getLogger("opentms").warning(warning)
    try:
        database.upgrade()
    finally:
        database.close()
    if settings.seed_file is not None:
        _apply_seed_file(settings, settings.seed_file)
    # One line, not a log record (tests and tools skip it by its start).
    banner = (
        f"opentms serving on http://{host}:{port} in {settings.mode} mode "
        f"(data: {_where(settings)})"
    )
    if settings.sandbox:
        from opentms.adapters.admin_token import load_or_create_admin_token

        load_or_create_admin_token(settings)
        where = "OPENTMS_ADMIN_TOKEN" if settings.admin_token else settings.admin_token_file
        banner += f"; sandbox admin API at /opentms/v1/sandbox, admin token: {where}"
    click.echo(banner, err=True)
    _raise_open_file_limit()
    uvicorn.run(
        # One process: the app is built here from these settings. Workers:
        # each builds it from its environment (above), as `uvicorn --factory
        # opentms.asgi:app` does.
        functools.partial(_server_app, settings) if workers == 1 else "opentms.asgi:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=GuardedHttpToolsProtocol,
        log_config=logging_config(settings.log_level, settings.log_format),
        # Above the Node SDK's 4-5 s idle sockets, so the client closes first.
        timeout_keep_alive=15,
        access_log=False,
        server_header=False,
    )


def _apply_seed_file(settings: Settings, path: Path) -> None:
    """Apply a seed file once, in this process, before any worker starts;
    one that cannot be applied ends ``serve`` (exit status 2)."""
    from opentms.adapters.seed_file import load_seed_file
    from opentms.bootstrap import build_services
    from opentms.domain.errors import VaultError

    services = build_services(settings, upgrade=False)
    try:
        assert services.sandbox is not None  # noqa: S101 - seed_file is sandbox-only
        outcome = services.sandbox.seed.apply(load_seed_file(path))
    except VaultError as exc:
        click.echo(f"opentms serve: {path}: {exc.message}", err=True)
        raise SystemExit(2) from None
    finally:
        services.close()
    created = ", ".join(f"{n} {kind}" for kind, n in outcome.created.items() if n) or "nothing new"
    click.echo(f"seed file {path} applied ({created})", err=True)


def _server_app(settings: Settings) -> Starlette:
    """The app of a one-process `opentms serve`, from its settings (what
    ``opentms.asgi:app`` builds from the environment)."""
    from opentms.adapters.http.app import create_app
    from opentms.bootstrap import build_services

    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    return create_app(build_services(settings), dispatch=True)


def _raise_open_file_limit() -> None:
    """Use the hard limit on open files: each client connection is one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database of the data directory, or None on another database."""
    return None if settings.database_url else settings.data_dir / "opentms.db"


def _where(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url.split("@")[-1]
    return str(settings.data_dir)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Apply every pending migration."""
    from opentms.bootstrap import open_database

    database = open_database(_settings(data_dir))
    try:
        click.echo(f"schema at {database.revision()}")
    finally:
        database.close()


@db.command("current")
@data_dir_option
def db_current(data_dir: Path | None) -> None:
    """Print the schema revision of the database."""
    from opentms.bootstrap import open_database

    database = open_database(_settings(data_dir), upgrade=False)
    try:
        click.echo(database.revision() or "empty")
    finally:
        database.close()


@main.group()
def merchants() -> None:
    """Merchants and their credentials."""


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


@merchants.command("create")
@click.argument("merchant_id")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory for the credentials bundle.",
)
@click.option("--key-id", help="Register this HTTP Signature key id instead of a new one.")
@click.option("--shared-secret", help="Register this base64 shared secret instead of a new one.")
@click.option(
    "--jwt-cert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Register this PEM certificate for JWT (CN = merchant id, serialNumber = kid).",
)
@click.option(
    "--credentials-public-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Encrypt payment credentials to this PEM RSA public key.",
)
@click.option(
    "--server-url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The URL of the `opentms serve` the SDKs will call, written into the printed "
    "configurations (run_environment, IntermediateHost).",
)
@data_dir_option
def merchants_create(
    merchant_id: str,
    out: Path,
    key_id: str | None,
    shared_secret: str | None,
    jwt_cert: Path | None,
    credentials_public_key: Path | None,
    server_url: str,
    data_dir: Path | None,
) -> None:
    """Register MERCHANT_ID and write its credentials bundle (MERCHANT_ID.json,
    MERCHANT_ID.p12 and its payment-credentials key files) to --out."""
    from opentms.bootstrap import build_services
    from opentms.cli.bundle import sdk_configuration, write_bundle
    from opentms.services.merchants import InvalidRegistration

    settings = _settings(data_dir)
    database_file = _sqlite_file(settings)
    new_database = database_file is not None and not database_file.exists()
    services = build_services(settings)
    try:
        registration = services.merchants.register(
            merchant_id,
            key_id=key_id,
            shared_secret=shared_secret,
            jwt_certificate_pem=_read(jwt_cert),
            credentials_public_key_pem=_read(credentials_public_key),
        )
    except InvalidRegistration as exc:  # AlreadyRegistered included
        raise click.UsageError(str(exc)) from None
    finally:
        services.close()
    path = write_bundle(registration, out)
    click.echo(f"Registered merchant {merchant_id} (data: {_where(settings)})")
    if new_database:
        click.echo(
            f"Note: there was no database in {settings.data_dir}, so a new one was created; "
            "`opentms serve` sees this merchant only with this data directory (--data-dir "
            "or OPENTMS_DATA_DIR).",
            err=True,
        )
    click.echo(f"Credentials written to {path}")
    click.echo(f"Default profile: {registration.default_profile_id}")
    click.echo("")
    click.echo(sdk_configuration(registration, out, server_url))


@merchants.command("list")
@json_option
@data_dir_option
def merchants_list(as_json: bool, data_dir: Path | None) -> None:
    """List the registered merchants: id, HTTP Signature key id, JWT kid,
    number of profiles and when each was created."""
    from opentms.bootstrap import build_services

    settings = _settings(data_dir)
    services = build_services(settings)
    try:
        listed = services.merchants.merchant_summaries()
    finally:
        services.close()
    if as_json:
        document = [
            {
                "merchantId": m.id,
                "keyIds": list(m.key_ids),
                "jwtKids": list(m.jwt_kids),
                "defaultProfileId": m.default_profile_id,
                "profiles": m.profiles,
                "createdAt": _timestamp(m.created_at),
                "shreddedAt": m.shredded_at and _timestamp(m.shredded_at),
            }
            for m in listed
        ]
        click.echo(json.dumps(document, indent=2))
    elif not listed:
        click.echo(f"No merchants are registered (data: {_where(settings)}).", err=True)
    else:
        header = ("MERCHANT", "KEY ID", "JWT KID", "PROFILES", "CREATED")
        rows = [
            (
                m.id if m.shredded_at is None else f"{m.id} (shredded)",
                ",".join(m.key_ids) or "-",
                ",".join(m.jwt_kids) or "-",
                str(m.profiles),
                _timestamp(m.created_at),
            )
            for m in listed
        ]
        _echo_table(header, rows)


@main.group()
def profiles() -> None:
    """TMS profiles (selected by the profile-id header)."""


@profiles.command("create")
@click.argument("merchant_id")
@click.option("--name", default="profile", show_default=True, help="A name for the operator.")
@click.option(
    "--network-tokens/--no-network-tokens",
    default=True,
    show_default=True,
    help="Provision network tokens when instrument identifiers are created.",
)
@data_dir_option
def profiles_create(
    merchant_id: str, name: str, network_tokens: bool, data_dir: Path | None
) -> None:
    """Create a profile for MERCHANT_ID and print its id."""
    from opentms.bootstrap import build_services
    from opentms.services.merchants import InvalidRegistration

    services = build_services(_settings(data_dir))
    try:
        profile = services.merchants.add_profile(merchant_id, name, network_tokens)
    except InvalidRegistration as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        services.close()
    click.echo(profile.id)


@profiles.command("list")
@click.argument("merchant_id")
@json_option
@data_dir_option
def profiles_list(merchant_id: str, as_json: bool, data_dir: Path | None) -> None:
    """List the profiles of MERCHANT_ID: id, name, whether it provisions
    network tokens, whether it is the default and when it was created."""
    from opentms.bootstrap import build_services
    from opentms.services.merchants import InvalidRegistration

    services = build_services(_settings(data_dir))
    try:
        listed = services.merchants.profile_summaries(merchant_id)
    except InvalidRegistration as exc:
        raise click.UsageError(f"{exc} (data: {_where(_settings(data_dir))})") from None
    finally:
        services.close()
    if as_json:
        document = [
            {
                "profileId": p.id,
                "name": p.name,
                "networkTokens": p.network_tokens_enabled,
                "default": p.default,
                "createdAt": _timestamp(p.created_at),
            }
            for p in listed
        ]
        click.echo(json.dumps(document, indent=2))
        return
    header = ("PROFILE", "NAME", "NETWORK TOKENS", "DEFAULT", "CREATED")
    rows = [
        (
            p.id,
            p.name,
            "yes" if p.network_tokens_enabled else "no",
            "yes" if p.default else "-",
            _timestamp(p.created_at),
        )
        for p in listed
    ]
    _echo_table(header, rows)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


# `merchants show`, `merchants keys ...` and `merchants bundle` register on the group above.
import opentms.cli.credentials  # noqa: E402, F401
from opentms.cli import merchant_vault  # noqa: E402, F401 - registers its `merchants` commands
