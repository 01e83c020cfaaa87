"""The README keeps up with the commands (sqlite-utils' test_commands_are_documented;
the settings' twin is test_config.test_every_setting_is_documented_in_the_shipped_settings_yaml)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from monitor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "monitor") -> list[str]:
    found: list[str] = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


@pytest.mark.parametrize("command", _commands(cli))
def test_every_command_is_in_the_readme(command: str) -> None:
    group, _, last = command.rpartition(" ")
    # "monitor subscribers add/remove/list" documents three commands at once.
    assert command in README or any(
        f"`{group} " in line and last in line for line in README.splitlines() if line.startswith("|")
    ), f"{command!r} is not documented in README.md"
