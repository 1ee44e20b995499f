"""The connection of the ``opentms sandbox`` commands to the admin API:
--url, --token and --data-dir on every command, the token's sources, the
messages for what goes wrong, and how answers are printed."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    pass

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


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell, two spaces apart."""
    cells = [[str(c) for c in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def counts(counts: dict[str, Any] | None) -> str:
    return ", ".join(f"{name} {n}" for name, n in (counts or {}).items() if n) or "nothing"
