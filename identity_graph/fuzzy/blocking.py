"""Blocking: candidate pairs are records sharing the value of at least one blocking key.

A blocking key is a list of parts (`last_name[:3]`, `dob_year`, ...); a record with any part
empty is in no block of that key. Each key is a self-join on (block value, record index),
done with numpy: records are sorted by block value and every block emits its pairs `(i, j)`
with `i < j`; the union over keys is deduplicated, so each pair comes out once. Blocks with
more than `max_block_size` records are skipped (they would be quadratic) and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from identity_graph.fuzzy.compare import RecordTable, block_value
from identity_graph.fuzzy.rules import BlockPart, MatchRule

IntArray = npt.NDArray[np.int64]


@dataclass
class Blocks:
    i: IntArray
    j: IntArray
    records: int
    skipped_blocks: list[tuple[str, int]] = field(default_factory=list)  # (key, size)

    @property
    def pairs(self) -> int:
        return len(self.i)

    @property
    def reduction_ratio(self) -> float:
        """1 - candidate pairs / all pairs: the share of comparisons blocking avoided."""
        total = self.records * (self.records - 1) // 2
        return 1.0 - self.pairs / total if total else 1.0


def block_keys(rule: MatchRule, table: RecordTable) -> list[list[str]]:
    """For each blocking key of the rule, every record's block value ("" = none)."""
    out: list[list[str]] = []
    for n, key in enumerate(rule.blocking):
        columns = [block_value(p, table.values[p.attribute]) for p in key]
        values = []
        for parts in zip(*columns, strict=True):
            values.append("" if any(not p for p in parts) else f"{n}|" + "|".join(parts))
        out.append(values)
    return out


def key_text(key: Sequence[BlockPart]) -> str:
    return "+".join(p.text for p in key)


def _pairs_within(order: IntArray, starts: IntArray, sizes: IntArray) -> tuple[IntArray, IntArray]:
    ii: list[IntArray] = []
    jj: list[IntArray] = []
    by_size: dict[int, list[int]] = {}
    for s, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        by_size.setdefault(size, []).append(s)
    for size, block_starts in by_size.items():
        a, b = np.triu_indices(size, k=1)
        base = np.asarray(block_starts, dtype=np.int64)[:, None]
        ii.append(order[(base + a[None, :]).ravel()])
        jj.append(order[(base + b[None, :]).ravel()])
    if not ii:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(ii), np.concatenate(jj)


def candidate_pairs(
    rule: MatchRule, table: RecordTable, keys: list[list[str]] | None = None
) -> Blocks:
    """Each pair of records sharing a block of any key, once, as `(i, j)` with `i < j`;
    `keys` is `block_keys(rule, table)` when the caller has it already."""
    n = len(table)
    codes: list[IntArray] = []
    skipped: list[tuple[str, int]] = []
    for key, values in zip(rule.blocking, keys or block_keys(rule, table), strict=True):
        arr = np.asarray(values, dtype=object)
        present = np.flatnonzero(arr != "")
        if len(present) < 2:
            continue
        uniq, inverse = np.unique(arr[present].astype(str), return_inverse=True)
        order = present[np.argsort(inverse, kind="stable")]
        sizes = np.bincount(inverse, minlength=len(uniq))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        big = sizes > rule.max_block_size
        for u, s in zip(uniq[big].tolist(), sizes[big].tolist(), strict=True):
            skipped.append((f"{key_text(key)}={u.split('|', 1)[1]}", int(s)))
        keep = (sizes >= 2) & ~big
        i, j = _pairs_within(order.astype(np.int64), starts[keep], sizes[keep])
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        codes.append(lo * n + hi)
    if codes:
        pair_codes = np.unique(np.concatenate(codes))
    else:
        pair_codes = np.empty(0, dtype=np.int64)
    return Blocks(
        pair_codes // n if n else pair_codes, pair_codes % n if n else pair_codes, n, skipped
    )
