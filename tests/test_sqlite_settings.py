"""Connection settings of the embedded store that a user can change."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_graph.errors import ConfigError
from identity_graph.stores.sqlite import DEFAULT_MMAP_MB, MMAP_ENV, SQLiteStore
from tests.cli_runner import Idgraph


def mmap_bytes(store: SQLiteStore) -> int:
    return int(store.conn.execute("PRAGMA mmap_size").fetchone()[0])


def test_reads_go_through_a_memory_map_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MMAP_ENV, raising=False)
    store = SQLiteStore(tmp_path / "s.db")
    assert mmap_bytes(store) == DEFAULT_MMAP_MB * 1024 * 1024
    store.close()
    monkeypatch.setenv(MMAP_ENV, "0")
    store = SQLiteStore(tmp_path / "s.db")
    assert mmap_bytes(store) == 0
    store.close()
    monkeypatch.setenv(MMAP_ENV, " 64 ")
    store = SQLiteStore(tmp_path / "s.db")
    assert mmap_bytes(store) == 64 * 1024 * 1024
    store.close()


@pytest.mark.parametrize("bad", ["lots", "-1", "1.5"])
def test_a_bad_memory_map_size_is_a_one_line_error(
    bad: str, idgraph: Idgraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MMAP_ENV, bad)
    with pytest.raises(ConfigError, match=MMAP_ENV):
        SQLiteStore(idgraph.store)
    out = idgraph("init", code=2)
    assert out.startswith(f"error: {MMAP_ENV}: expected a whole number") and out.count("\n") == 1
