"""Write one batch of observations and resolve it, in one store transaction.

Idempotent by (source, record_key): an observation already stored, or repeated inside the
batch, is counted as a duplicate and changes nothing. A batch is all or nothing, so a load
that is interrupted leaves whole batches behind and a re-run completes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from identity_graph.config import Config
from identity_graph.fuzzy.pipeline import fuzzy_incremental
from identity_graph.fuzzy.rules import RuleSet
from identity_graph.matching import aggregate_links, merge_link, star_centre, star_links
from identity_graph.models import IdKey, Link, Observation, Reject, utc_now
from identity_graph.resolve import ResolveOutcome, Resolver
from identity_graph.stores.base import Store
from identity_graph.suppression import filter_suppressed


@dataclass
class BatchResult:
    new: int = 0
    duplicates: int = 0
    duplicate_positions: list[int] = field(default_factory=list)  # of one batch, not summed
    links_written: int = 0
    outcome: ResolveOutcome = field(default_factory=ResolveOutcome)
    suppressed: list[Reject] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.new += other.new
        self.suppressed.extend(other.suppressed)
        self.duplicates += other.duplicates
        self.links_written += other.links_written
        self.outcome.add(other.outcome)


def ingest_batch(
    store: Store,
    config: Config,
    observations: Sequence[Observation],
    now: datetime | None = None,
    fuzzy_rules: RuleSet | None = None,
) -> BatchResult:
    now = now or utc_now()
    result = BatchResult()
    with store.transaction():
        keys = [(o.source, o.record_key) for o in observations]
        existing = store.existing_record_keys(keys)
        fresh: list[Observation] = []
        seen: set[tuple[str, str]] = set()
        for position, (obs, key) in enumerate(zip(observations, keys, strict=True)):
            if key in existing or key in seen:
                result.duplicates += 1
                result.duplicate_positions.append(position)
                continue
            seen.add(key)
            fresh.append(obs)
        # Inside the transaction: re-admitting an erased identifier deletes its suppression row.
        fresh, result.suppressed = filter_suppressed(
            store, fresh, allow_with_new_consent=config.erasure_allow_with_new_consent
        )
        result.new = len(fresh)
        if not fresh:
            return result
        sightings: dict[IdKey, tuple[datetime, datetime]] = {}
        for obs in fresh:
            for key in obs.identifiers:
                span = sightings.get(key)
                ts = obs.timestamp
                if span is None:
                    sightings[key] = (ts, ts)
                elif ts < span[0] or ts > span[1]:
                    sightings[key] = (min(span[0], ts), max(span[1], ts))
        store.upsert_identifiers([(k, a, b) for k, (a, b) in sightings.items()])
        centres = [star_centre(o.identifiers, config) for o in fresh]
        store.write_observations(fresh, centres)
        deltas = aggregate_links(
            (
                link
                for obs, centre in zip(fresh, centres, strict=True)
                for link in star_links(obs, config, centre)
            ),
            config.link_sample_size,
        )
        old = store.get_links(list(deltas))
        merged: list[Link] = [
            merge_link(old[k], d, config.link_sample_size) if k in old else d
            for k, d in deltas.items()
        ]
        store.put_links(merged)
        result.links_written = len(merged)
        with_traits = {c for o, c in zip(fresh, centres, strict=True) if o.attributes}
        result.outcome = Resolver(store, config).incremental(
            set(sightings), merged, set(deltas) - set(old), now, new_attributes=with_traits
        )
        if fuzzy_rules is not None and fuzzy_rules.rules:
            result.outcome.add(fuzzy_incremental(store, config, fuzzy_rules, fresh, now))
    return result
