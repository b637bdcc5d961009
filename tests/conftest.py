from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Idgraph


@pytest.fixture
def idgraph(tmp_path: Path) -> Iterator[Idgraph]:
    yield Idgraph(tmp_path / "identity.db")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from identity_graph.generate import generate

    out = tmp_path_factory.mktemp("sample")
    generate(300, 11, out)
    return out
