"""``opentms --help``: every command and option says what it does, and the
things a newcomer trips on are said where they look."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from opentms.cli import main


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


COMMANDS = list(commands(main))


def test_the_tree_holds_the_list_commands() -> None:
    assert {("merchants", "list"), ("profiles", "list"), ("profiles", "create")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_and_option_has_help(path: tuple[str, ...]) -> None:
    command = command_at(path)
    assert command.help, f"opentms {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"opentms {' '.join(path)} {param.opts[0]} has no help text"


def help_text(*path: str) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_the_data_directory_is_said_to_be_the_servers() -> None:
    assert "give them the server's data directory" in help_text()
    for path in [p for p in COMMANDS if "--data-dir" in help_text(*p)]:
        assert "Give every command the one `opentms serve` uses" in help_text(*path), path


def test_serve_documents_workers_and_its_exit_status() -> None:
    text = help_text("serve")
    assert "--workers INTEGER RANGE Server processes sharing the port" in text
    assert "Exits with status 3 when it cannot listen" in text


def test_merchants_create_documents_the_server_url() -> None:
    text = help_text("merchants", "create")
    assert "--server-url TEXT The URL of the `opentms serve` the SDKs will call" in text
