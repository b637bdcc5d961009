"""Vectorised field comparisons: candidate pairs -> per-field similarity and agreement level.

Records are held column-wise (`RecordTable`: one array of normalized values per attribute).
A batch of pairs `(i, j)` is scored with one rapidfuzz `process.cpdist` call per string field
(aligned pairs, C loop, all cores), never one Python call per pair. Dates, numbers and
phonetic keys are compared with numpy on arrays prepared once per record.

Levels: -1 = missing on either side (no evidence either way), 0 = disagree, then increasing
agreement up to `FieldRule.level_count - 1` = exact agreement after normalization.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jellyfish
import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from identity_graph.fuzzy.normalize import make_normalizer
from identity_graph.fuzzy.rules import BlockPart, FieldRule, MatchRule
from identity_graph.models import IdKey

IntArray = npt.NDArray[np.int64]
Levels = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float32]
CHUNK = 500_000

_SCORERS: dict[str, tuple[Any, float]] = {
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0),
    "levenshtein": (Levenshtein.normalized_similarity, 1.0),
    "token_set": (fuzz.token_set_ratio, 100.0),
}


def phonetic_key(value: str) -> str:
    """Metaphone of each word (jellyfish), so "Smyth" and "Smith" share a key."""
    return " ".join(jellyfish.metaphone(w) for w in value.split()) if value else ""


@dataclass
class RecordTable:
    """Records column-wise: `keys[i]` is record i; `values[attr][i]` its normalized value."""

    keys: list[IdKey]
    values: dict[str, npt.NDArray[np.object_]]
    raw: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)


def attribute_steps(rule: MatchRule, attribute: str) -> tuple[str, ...]:
    """The normalization of an attribute: its field's, or the field it is swapped with's."""
    f = rule.field(attribute)
    if f is not None:
        return f.normalize
    partner = next((g for g in rule.fields if g.swap_with == attribute), None)
    if partner is not None:
        return tuple(s for s in partner.normalize if s != "nicknames")
    return ("case", "accents", "punctuation", "whitespace")


def build_table(
    rule: MatchRule,
    records: Sequence[tuple[IdKey, Mapping[str, str]]],
    nicknames: Mapping[str, str] | None = None,
) -> RecordTable:
    keys = [k for k, _ in records]
    values: dict[str, npt.NDArray[np.object_]] = {}
    for attr in rule.attributes:
        norm = make_normalizer(attribute_steps(rule, attr), nicknames)
        col = np.empty(len(records), dtype=object)
        col[:] = [norm(str(a.get(attr) or "")) for _, a in records]
        values[attr] = col
    return RecordTable(keys, values)


def block_value(part: BlockPart, column: npt.NDArray[np.object_]) -> list[str]:
    """One blocking-key part for every record ("" = the record is not in such a block)."""
    out: list[str] = []
    for v in column.tolist():
        if not v:
            out.append("")
        elif part.phonetic:
            out.append(phonetic_key(v))
        elif part.year:
            out.append(v[:4])
        elif part.prefix is not None:
            out.append(v[: part.prefix])
        else:
            out.append(v)
    return out


def _similarity(comparison: str, a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> Floats:
    scorer, scale = _SCORERS[comparison]
    scores = process.cpdist(list(a), list(b), scorer=scorer, dtype=np.float32, workers=-1)
    return np.asarray(scores, dtype=np.float32) / np.float32(scale)


def _string_field(
    f: FieldRule, table: RecordTable, i: IntArray, j: IntArray
) -> tuple[Levels, Floats]:
    a, b = table.values[f.attribute][i], table.values[f.attribute][j]
    exact = a == b
    if f.comparison in _SCORERS:
        sim = _similarity(f.comparison, a, b)
    else:
        sim = exact.astype(np.float32)
    if f.swap_with is not None:
        sa, sb = table.values[f.swap_with][i], table.values[f.swap_with][j]
        if f.comparison in _SCORERS:
            crossed = np.minimum(_similarity(f.comparison, a, sb), _similarity(f.comparison, sa, b))
        else:
            crossed = ((a == sb) & (sa == b)).astype(np.float32)
        crossed = np.where((a == sb) & (sa == b) & (a != ""), np.float32(1.0), crossed)
        exact = exact | (crossed >= 1.0)
        sim = np.maximum(sim, crossed)
    if f.comparison == "phonetic":
        ka = np.array([phonetic_key(v) for v in a.tolist()], dtype=object)
        kb = np.array([phonetic_key(v) for v in b.tolist()], dtype=object)
        exact = (ka == kb) & (ka != "")
        sim = exact.astype(np.float32)
    top = f.level_count - 1
    levels = np.zeros(len(i), dtype=np.int8)
    for n, cut in enumerate(f.levels):  # high cut-offs first: the first that holds wins
        level = top - 1 - n
        levels = np.where((levels == 0) & (sim >= cut), np.int8(level), levels)
    levels = np.where(exact, np.int8(top), levels)
    missing = (a == "") | (b == "")
    return np.where(missing, np.int8(-1), levels).astype(np.int8), np.where(
        missing, np.float32(np.nan), sim
    ).astype(np.float32)


def _date_field(
    f: FieldRule, table: RecordTable, i: IntArray, j: IntArray
) -> tuple[Levels, Floats]:
    a, b = table.values[f.attribute][i], table.values[f.attribute][j]
    missing = (a == "") | (b == "")
    da = [v.replace("-", "") for v in a.tolist()]
    db = [v.replace("-", "") for v in b.tolist()]
    osa = np.asarray(process.cpdist(da, db, scorer=OSA.distance, workers=-1), dtype=np.int32)
    # day/month transposed: YYYY-MM-DD vs YYYY-DD-MM (an impossible date still compares)
    col = table.values[f.attribute]
    flipped = np.array([v[:5] + v[8:10] + "-" + v[5:7] if v else "" for v in col.tolist()])
    flipped = flipped.astype(object)
    swapped = (flipped[i] == b) & ~missing
    levels = np.zeros(len(i), dtype=np.int8)
    levels[osa <= 1] = 1
    levels[swapped] = 2
    levels[a == b] = 3
    levels[missing] = -1
    sim = np.where(missing, np.nan, levels / 3.0).astype(np.float32)
    return levels, sim


def _to_float(values: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    out = np.full(len(values), np.nan)
    for n, v in enumerate(values.tolist()):
        try:
            out[n] = float(v) if v else np.nan
        except ValueError:
            out[n] = np.nan
    return out


def _numeric_field(
    f: FieldRule, table: RecordTable, i: IntArray, j: IntArray
) -> tuple[Levels, Floats]:
    col = _to_float(table.values[f.attribute])
    a, b = col[i], col[j]
    missing = np.isnan(a) | np.isnan(b)
    diff = np.abs(a - b)
    levels = np.zeros(len(i), dtype=np.int8)
    levels[diff <= f.tolerance] = 1
    levels[diff == 0] = 2
    levels[missing] = -1
    scale = max(f.tolerance, 1e-9)
    sim = np.where(missing, np.nan, np.clip(1.0 - diff / (4 * scale), 0.0, 1.0))
    return levels, sim.astype(np.float32)


def compare_pairs(
    rule: MatchRule, table: RecordTable, i: IntArray, j: IntArray
) -> tuple[Levels, Floats]:
    """Agreement levels and similarities, shape (pairs, fields), in `rule.fields` order."""
    n, width = len(i), len(rule.fields)
    levels = np.empty((n, width), dtype=np.int8)
    sims = np.empty((n, width), dtype=np.float32)
    for start in range(0, n, CHUNK):
        ci, cj = i[start : start + CHUNK], j[start : start + CHUNK]
        for col, f in enumerate(rule.fields):
            if f.comparison == "date":
                lv, sm = _date_field(f, table, ci, cj)
            elif f.comparison == "numeric":
                lv, sm = _numeric_field(f, table, ci, cj)
            else:
                lv, sm = _string_field(f, table, ci, cj)
            levels[start : start + CHUNK, col] = lv
            sims[start : start + CHUNK, col] = sm
    return levels, sims
