"""Write one batch of observations and resolve it, in one store transaction.

Idempotent by (source, record_key): an observation already stored, or repeated inside the
batch, is counted as a duplicate and changes nothing. A batch is all or nothing, so a load
that is interrupted leaves whole batches behind and a re-run completes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from identity_graph.batch_prep import PreparedBatch, prepare_batch
from identity_graph.config import Config
from identity_graph.fuzzy.pipeline import fuzzy_incremental
from identity_graph.fuzzy.rules import RuleSet
from identity_graph.matching import merge_link
from identity_graph.models import Link, Observation, Reject, utc_now
from identity_graph.resolve import ResolveOutcome, Resolver
from identity_graph.stores.base import Store
from identity_graph.suppression import filter_suppressed, suppression_in_use


@dataclass
class BatchResult:
    new: int = 0
    duplicates: int = 0
    duplicate_positions: list[int] = field(default_factory=list)  # of one batch, not summed
    links_written: int = 0
    outcome: ResolveOutcome = field(default_factory=ResolveOutcome)
    suppressed: list[Reject] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        """Running totals of a load: counts only. The per-batch detail (positions, suppressed
        rejects, changed profile ids, placements) is the caller's to use batch by batch; kept
        here it would grow with the file."""
        self.new += other.new
        self.duplicates += other.duplicates
        self.links_written += other.links_written
        self.outcome.add_counts(other.outcome)


def ingest_batch(
    store: Store,
    config: Config,
    batch: Sequence[Observation] | PreparedBatch,
    now: datetime | None = None,
    fuzzy_rules: RuleSet | None = None,
) -> BatchResult:
    now = now or utc_now()
    prepared = batch if isinstance(batch, PreparedBatch) else prepare_batch(batch, config)
    result = BatchResult()
    with store.transaction():
        duplicates = list(prepared.duplicate_positions)
        existing = store.existing_record_keys(prepared.record_keys)
        if existing:  # a re-run, or events sent twice: prepare again without those
            positions = prepared.fresh_positions()
            duplicates.extend(
                p for p, k in zip(positions, prepared.record_keys, strict=True) if k in existing
            )
            if len(existing) < len(prepared.record_keys):
                kept = [o for o in prepared.fresh() if (o.source, o.record_key) not in existing]
            else:  # all of it: nothing to rebuild (a re-run of a whole file)
                kept = []
            prepared = prepare_batch(kept, config)
        result.duplicate_positions = sorted(duplicates)
        result.duplicates = len(duplicates)
        if suppression_in_use(store):
            # Inside the transaction: re-admitting an erased identifier deletes its row.
            kept, result.suppressed = filter_suppressed(
                store,
                prepared.fresh(),
                allow_with_new_consent=config.erasure_allow_with_new_consent,
            )
            if result.suppressed:
                prepared = prepare_batch(kept, config)
        result.new = len(prepared.record_keys)
        if not result.new:
            return result
        nodes = store.upsert_identifiers(prepared.sightings)
        store.write_observation_batch(prepared)
        deltas = prepared.links
        old = store.get_links(list(deltas))
        merged: list[Link] = [
            merge_link(old[k], d, config.link_sample_size) if k in old else d
            for k, d in deltas.items()
        ]
        store.put_links(merged)
        result.links_written = len(merged)
        result.outcome = Resolver(store, config).incremental(
            set(nodes),
            merged,
            set(deltas) - set(old),
            now,
            new_attributes=prepared.with_traits,
            nodes=nodes,
            new_values=prepared.attribute_values(),
        )
        if fuzzy_rules is not None and fuzzy_rules.rules:
            result.outcome.add(fuzzy_incremental(store, config, fuzzy_rules, prepared.fresh(), now))
            result.outcome.placed = {}  # fuzzy merges may have moved them since
    return result
