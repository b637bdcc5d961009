from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from identity_graph.cli import cli


class Idgraph:
    """Runs `idgraph` through its click entry point against one store file."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(cli, ["--store", f"sqlite:///{self.store}", *args])
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        return result.output
