"""Docs that cannot drift: every CLI command has help text and is in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from identity_graph.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "idgraph") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


@pytest.mark.parametrize("path,command", _commands(cli), ids=lambda v: str(v))
def test_every_command_has_help_and_is_documented(path: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), f"{path} has no help text"
    assert f"`{path}" in README, f"{path} is not in the README"


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README.splitlines()[:8]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)
