"""``opentms``: run the server and administer merchants and the database."""

from __future__ import annotations

import contextlib
import logging.config
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opentms.adapters.private_files import make_private_directory, shared_directory_warning
from opentms.config import Settings
from opentms.observability import logging_config

if TYPE_CHECKING:
    from opentms.crypto.keyring import Keyring


def _settings(data_dir: Path | None) -> Settings:
    if data_dir is not None:
        os.environ["OPENTMS_DATA_DIR"] = str(data_dir)
    return Settings()


def _master_keys(settings: Settings) -> Callable[[], Keyring]:
    """The master keys for migrations that re-seal card data (0004), loaded
    only if one of them has rows to change."""

    def load() -> Keyring:
        from opentms.adapters.keys.local import load_or_create_master_keys
        from opentms.crypto.keyring import Keyring

        return Keyring(load_or_create_master_keys(settings.resolved_master_key_file))

    return load


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Data directory (SQLite database and master key); overrides OPENTMS_DATA_DIR.",
)


@click.group()
@click.version_option(package_name="opentms")
def main() -> None:
    """opentms: a Token Management Service speaking the CyberSource TMS API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@data_dir_option
def serve(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    """Run the TMS server (migrates the database first)."""
    import uvicorn

    from opentms.adapters.http.server import GuardedHttpToolsProtocol
    from opentms.adapters.storage import migrate
    from opentms.adapters.storage.database import make_engine

    settings = _settings(data_dir)
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    if settings.database_url is None:
        make_private_directory(settings.data_dir)
    warning = shared_directory_warning(settings.data_dir)
    if warning:
        logging.getLogger("opentms").warning(warning)
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine, keyring=_master_keys(settings))
    engine.dispose()
    click.echo(f"opentms serving on http://{host}:{port} (data: {_where(settings)})", err=True)
    _raise_open_file_limit()
    uvicorn.run(
        "opentms.adapters.http.asgi:app",
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


def _raise_open_file_limit() -> None:
    """Use the hard limit on open files: each client connection is one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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
    from opentms.adapters.storage import migrate
    from opentms.adapters.storage.database import make_engine

    settings = _settings(data_dir)
    if settings.database_url is None:
        make_private_directory(settings.data_dir)
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine, keyring=_master_keys(settings))
    click.echo(f"schema at {migrate.current_revision(engine)}")


@db.command("current")
@data_dir_option
def db_current(data_dir: Path | None) -> None:
    """Print the schema revision of the database."""
    from opentms.adapters.storage import migrate
    from opentms.adapters.storage.database import make_engine

    engine = make_engine(_settings(data_dir).resolved_database_url)
    click.echo(migrate.current_revision(engine) or "empty")


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
    help="Where the SDK will reach opentms (for the printed configuration).",
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
    """Register MERCHANT_ID and write its credentials bundle."""
    from opentms.adapters.storage.merchants import AlreadyExists
    from opentms.bootstrap import build_services
    from opentms.cli.bundle import sdk_configuration, write_bundle
    from opentms.services.merchants import InvalidRegistration

    services = build_services(_settings(data_dir))
    try:
        registration = services.merchants.register(
            merchant_id,
            key_id=key_id,
            shared_secret=shared_secret,
            jwt_certificate_pem=_read(jwt_cert),
            credentials_public_key_pem=_read(credentials_public_key),
        )
    except InvalidRegistration as exc:
        raise click.UsageError(str(exc)) from None
    except AlreadyExists:
        raise click.UsageError(
            f"Merchant {merchant_id!r} (or one of the given key ids) is already registered."
        ) from None
    finally:
        services.close()
    path = write_bundle(registration, out)
    click.echo(f"Registered merchant {merchant_id}; credentials written to {path}")
    click.echo(f"Default profile: {registration.default_profile_id}")
    click.echo("")
    click.echo(sdk_configuration(registration, out, server_url))


@merchants.command("list")
@data_dir_option
def merchants_list(data_dir: Path | None) -> None:
    """List registered merchants."""
    from opentms.bootstrap import build_services

    services = build_services(_settings(data_dir))
    try:
        for merchant_id in services.merchants.list_merchants():
            click.echo(merchant_id)
    finally:
        services.close()


@main.group()
def profiles() -> None:
    """TMS profiles (selected by the profile-id header)."""


@profiles.command("create")
@click.argument("merchant_id")
@click.option("--name", default="profile", show_default=True)
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
