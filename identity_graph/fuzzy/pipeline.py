"""Fuzzy matching over the store: a full pass (`idgraph match`) and incremental matching.

Full pass, per rule: read every record of the rule's types with its latest attribute values,
block, compare the candidate pairs (vectorised), estimate the Fellegi-Sunter model (u from
random pairs, m by EM), score, then in one transaction: replace the rule's links (weight =
match probability, per-field scores in `details`), its review items and its block index, and
resolve (incrementally, or a full recompute when a link of an earlier pass disappeared).

Incremental (`fuzzy_incremental`): the new records' block values are looked up in the stored
block index, and each new record is scored against the records of its blocks only, with the
model of the last full pass (or the prior model before any full pass).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from identity_graph.config import Config
from identity_graph.errors import ConfigError
from identity_graph.fuzzy.blocking import Blocks, block_keys, candidate_pairs
from identity_graph.fuzzy.compare import RecordTable, build_table, compare_pairs
from identity_graph.fuzzy.fellegi_sunter import (
    FSModel,
    estimate,
    match_weights,
    prior_model,
    probabilities,
)
from identity_graph.fuzzy.rules import MatchRule, RuleSet
from identity_graph.matching import star_centre
from identity_graph.models import IdKey, Link, LinkKey, Observation, utc_now
from identity_graph.resolve import ResolveOutcome, Resolver
from identity_graph.stores import sqlite_fuzzy
from identity_graph.stores.base import Store
from identity_graph.stores.sqlite import SQLiteStore

IntArray = npt.NDArray[np.int64]


@dataclass
class Scored:
    """Candidate pairs `(i, j)` of a record table with their levels and probabilities."""

    i: IntArray
    j: IntArray
    levels: npt.NDArray[np.int8]
    similarity: npt.NDArray[np.float32]
    weight: npt.NDArray[np.float64]
    probability: npt.NDArray[np.float64]


@dataclass
class MatchReport:
    rule: str
    records: int = 0
    candidate_pairs: int = 0
    reduction_ratio: float = 1.0
    compare_seconds: float = 0.0
    seconds: float = 0.0
    links_written: int = 0
    links_removed: int = 0
    review_items: int = 0
    vetoed: int = 0
    skipped_blocks: list[tuple[str, int]] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    outcome: ResolveOutcome = field(default_factory=ResolveOutcome)

    @property
    def comparisons_per_second(self) -> float:
        return self.candidate_pairs / self.compare_seconds if self.compare_seconds else 0.0

    @property
    def pairs_per_record(self) -> float:
        return self.candidate_pairs / self.records if self.records else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "records": self.records,
            "candidate_pairs": self.candidate_pairs,
            "pairs_per_record": round(self.pairs_per_record, 3),
            "reduction_ratio": self.reduction_ratio,
            "comparisons_per_second": round(self.comparisons_per_second),
            "seconds": round(self.seconds, 3),
            "links_written": self.links_written,
            "links_removed": self.links_removed,
            "review_items": self.review_items,
            "vetoed_pairs": self.vetoed,
            "skipped_blocks": [{"block": b, "size": s} for b, s in self.skipped_blocks],
            "model": self.model,
            "profiles": {
                "created": self.outcome.profiles_created,
                "merges": self.outcome.merges,
                "splits": self.outcome.splits,
                "merges_blocked": self.outcome.blocked,
            },
        }


def _sqlite(store: Store) -> SQLiteStore:
    if not isinstance(store, SQLiteStore):
        raise ConfigError("fuzzy matching runs on the SQLite store only (for now)")
    sqlite_fuzzy.ensure_tables(store)
    return store


def _hash(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def score(rule: MatchRule, table: RecordTable, i: IntArray, j: IntArray, model: FSModel) -> Scored:
    levels, sims = compare_pairs(rule, table, i, j)
    return Scored(
        i, j, levels, sims, match_weights(model, levels), probabilities(model, rule, levels)
    )


def random_pairs(n: int, count: int, seed: int = 0) -> tuple[IntArray, IntArray]:
    """`count` random pairs of distinct records (deterministic by seed)."""
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    rng = np.random.default_rng(seed)
    count = min(count, n * (n - 1) // 2)
    i = rng.integers(0, n, size=count, dtype=np.int64)
    j = rng.integers(0, n - 1, size=count, dtype=np.int64)
    j = np.where(j >= i, j + 1, j)  # never the record itself
    return i, j


def _details(rule: MatchRule, model: FSModel, s: Scored, n: int) -> dict[str, Any]:
    weights = model.log_weights()
    fields: dict[str, Any] = {}
    for col, f in enumerate(rule.fields):
        level = int(s.levels[n, col])
        sim = float(s.similarity[n, col])
        fields[f.attribute] = {
            "comparison": f.comparison,
            "level": level,
            "similarity": None if level < 0 else round(sim, 4),
            "weight": 0.0 if level < 0 else round(float(weights[col][level]), 3),
        }
    return {
        "probability": round(float(s.probability[n]), 6),
        "match_weight": round(float(s.weight[n]), 3),
        "fields": fields,
    }


def _links(
    rule: MatchRule, model: FSModel, table: RecordTable, s: Scored, rows: IntArray, now: datetime
) -> list[Link]:
    out: list[Link] = []
    for n in rows.tolist():
        a, b = sorted((table.keys[int(s.i[n])], table.keys[int(s.j[n])]))
        out.append(
            Link(
                a,
                b,
                rule.link_rule,
                float(s.probability[n]),
                1,
                now,
                now,
                details=_details(rule, model, s, n),
            )  # fmt: skip
        )
    return out


def _bands(rule: MatchRule, s: Scored) -> tuple[IntArray, IntArray]:
    p = s.probability
    links = np.flatnonzero(p >= rule.link_threshold)
    review = np.flatnonzero((p >= rule.review_threshold) & (p < rule.link_threshold))
    return links, review


def _block_rows(
    rule: MatchRule,
    table: RecordTable,
    idents: Sequence[int],
    keys: list[list[str]] | None = None,
) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    for values in keys or block_keys(rule, table):
        rows.extend((_hash(v), ident) for v, ident in zip(values, idents, strict=True) if v)
    return rows


def _keep_first_seen(store: Store, links: list[Link]) -> tuple[list[Link], set[LinkKey]]:
    old = store.get_links([(ln.a, ln.b, ln.rule) for ln in links])
    for ln in links:
        prev = old.get((ln.a, ln.b, ln.rule))
        if prev is not None:
            ln.first_seen = prev.first_seen
            ln.count = prev.count
    return links, {(ln.a, ln.b, ln.rule) for ln in links} - set(old)


def match_rule(
    store: Store,
    config: Config,
    rule: MatchRule,
    now: datetime | None = None,
    *,
    nicknames: Mapping[str, str] | None = None,
    seed: int = 0,
) -> MatchReport:
    """The full pass of one rule over every stored record it applies to."""
    now = now or utc_now()
    started = time.perf_counter()
    db = _sqlite(store)
    report = MatchReport(rule.name)
    stored = sqlite_fuzzy.records(db, rule.record_types, rule.attributes)
    table = build_table(rule, [(r.key, r.attributes) for r in stored], nicknames)
    idents = [r.ident for r in stored]
    keys = block_keys(rule, table)
    blocks: Blocks = candidate_pairs(rule, table, keys)
    report.records, report.candidate_pairs = len(table), blocks.pairs
    report.reduction_ratio, report.skipped_blocks = blocks.reduction_ratio, blocks.skipped_blocks
    t0 = time.perf_counter()
    levels, _ = compare_pairs(rule, table, blocks.i, blocks.j)
    report.compare_seconds = time.perf_counter() - t0
    ri, rj = random_pairs(len(table), rule.random_pairs, seed)
    random_levels, _ = compare_pairs(rule, table, ri, rj)
    n = len(table)
    model = estimate(rule, levels, random_levels, n * (n - 1) // 2)
    s = score(rule, table, blocks.i, blocks.j, model)
    report.vetoed = int(np.count_nonzero(s.probability == 0))
    link_rows, review_rows = _bands(rule, s)
    links = _links(rule, model, table, s, link_rows, now)
    review: list[tuple[int, int, float, dict[str, Any]]] = []
    for n in review_rows.tolist():
        a, b = idents[int(s.i[n])], idents[int(s.j[n])]
        review.append((min(a, b), max(a, b), float(s.probability[n]), _details(rule, model, s, n)))
    with store.transaction():
        sqlite_fuzzy.save_model(db, rule.name, model.to_json(), now)
        links, new_keys = _keep_first_seen(store, links)
        removed = sorted(
            set(sqlite_fuzzy.rule_links(db, rule.link_rule))
            - {(ln.a, ln.b, ln.rule) for ln in links}
        )
        store.delete_links(removed)
        store.put_links(links)
        sqlite_fuzzy.replace_blocks(db, rule.name, _block_rows(rule, table, idents, keys))
        sqlite_fuzzy.put_review_items(
            db, rule.name, review, now,
            replace_open=True,
        )  # fmt: skip
        resolver = Resolver(store, config)
        if removed:
            report.outcome = resolver.recompute(None, now, reason=f"match {rule.link_rule}")
        elif links:
            touched = {k for ln in links for k in (ln.a, ln.b)}
            report.outcome = resolver.incremental(touched, links, new_keys, now)
    report.links_written, report.links_removed, report.review_items = (
        len(links), len(removed), len(review)
    )  # fmt: skip
    report.model = {
        "prior": model.prior,
        "trained_pairs": model.trained_pairs,
        "random_pairs": model.random_pairs,
        "em_iterations": model.iterations,
        "log2_m_over_u": {
            f.attribute: [round(float(w), 2) for w in ws]
            for f, ws in zip(rule.fields, model.log_weights(), strict=True)
        },
    }
    report.seconds = time.perf_counter() - started
    return report


def full_pass(
    store: Store, config: Config, rules: RuleSet, now: datetime | None = None
) -> list[MatchReport]:
    """`idgraph match`: every rule over every stored record."""
    return [match_rule(store, config, r, now, nicknames=rules.nicknames) for r in rules.rules]


def _anchor(obs: Observation, config: Config) -> IdKey | None:
    return star_centre(obs.identifiers, config) if obs.identifiers else None


def fuzzy_incremental(
    store: Store,
    config: Config,
    rules: RuleSet,
    new_observations: Sequence[Observation],
    now: datetime | None = None,
) -> ResolveOutcome:
    """Score new records against the records of their blocks only; write links, review items
    and block entries, and resolve. Call it after the observations are written (their
    identifiers and attributes are in the store), inside or outside the batch transaction."""
    outcome = ResolveOutcome()
    if not rules.rules or not new_observations:
        return outcome
    now = now or utc_now()
    db = _sqlite(store)
    anchors: dict[IdKey, Mapping[str, Any]] = {}
    for obs in new_observations:
        anchor = _anchor(obs, config)
        if anchor is not None and obs.attributes:
            anchors[anchor] = obs.attributes
    with store.transaction():
        ids = sqlite_fuzzy.identifier_ids(db, sorted(anchors))
        for rule in rules.rules:
            new_ids = sorted(i for k, i in ids.items() if rule.applies_to(k[0]))
            if new_ids:
                outcome.add(_incremental_rule(db, config, rule, rules, new_ids, now))
    return outcome


def _incremental_rule(
    db: SQLiteStore,
    config: Config,
    rule: MatchRule,
    rules: RuleSet,
    new_ids: list[int],
    now: datetime,
) -> ResolveOutcome:
    new_recs = sqlite_fuzzy.records_by_ids(db, new_ids, rule.attributes)
    new_table = build_table(rule, [(r.key, r.attributes) for r in new_recs], rules.nicknames)
    rows = _block_rows(rule, new_table, [r.ident for r in new_recs])
    sqlite_fuzzy.add_blocks(db, rule.name, rows)
    members = sqlite_fuzzy.block_members(db, rule.name, [b for b, _ in rows])
    fresh = {r.ident for r in new_recs}
    pair_set: set[tuple[int, int]] = set()
    for block, ident in rows:
        group = members.get(block, [])
        if len(group) > rule.max_block_size:
            continue
        for other in group:
            if other != ident and (other not in fresh or other > ident):
                pair_set.add((min(ident, other), max(ident, other)))
    if not pair_set:
        return ResolveOutcome()
    needed = sorted({x for p in pair_set for x in p})
    recs = sqlite_fuzzy.records_by_ids(db, needed, rule.attributes)
    table = build_table(rule, [(r.key, r.attributes) for r in recs], rules.nicknames)
    pos = {r.ident: n for n, r in enumerate(recs)}
    pairs = sorted(p for p in pair_set if p[0] in pos and p[1] in pos)
    i = np.asarray([pos[a] for a, _ in pairs], dtype=np.int64)
    j = np.asarray([pos[b] for _, b in pairs], dtype=np.int64)
    stored = sqlite_fuzzy.load_model(db, rule.name)
    model = FSModel.from_json(stored) if stored else prior_model(rule)
    if not model.matches(rule):
        model = prior_model(rule)
    s = score(rule, table, i, j, model)
    link_rows, review_rows = _bands(rule, s)
    links, new_keys = _keep_first_seen(db, _links(rule, model, table, s, link_rows, now))
    db.put_links(links)
    idents = [r.ident for r in recs]
    sqlite_fuzzy.put_review_items(
        db,
        rule.name,
        [
            (
                min(idents[int(s.i[n])], idents[int(s.j[n])]),
                max(idents[int(s.i[n])], idents[int(s.j[n])]),
                float(s.probability[n]),
                _details(rule, model, s, n),
            )
            for n in review_rows.tolist()
        ],
        now,
        replace_open=False,
    )
    if not links:
        return ResolveOutcome()
    touched = {k for ln in links for k in (ln.a, ln.b)}
    return Resolver(db, config).incremental(touched, links, new_keys, now)
