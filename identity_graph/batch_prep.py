"""Everything about a batch of observations that does not need the store. Pure.

`prepare_batch` sets aside record keys repeated inside the batch, and works out what the store
step will write: each identifier's first/last sighting, each observation's anchor (its star
centre) and its rows as stored text, and the batch's co-observation links already aggregated.
A load that parses in a second process runs this there too (`loaders/parallel.py`), so the
loading process, which holds the store's write lock, only does what needs the store.

`prepared_batches` groups a reader's units into batches whose sizes ramp up from
`FIRST_BATCH_UNITS` to `batch_size` and down again near the end of the file. The sizes depend
on unit counts and byte offsets alone, never on timing, so every load of a file (and a re-run
after a kill) splits it the same way and gives the same profile ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from identity_graph.config import Config
from identity_graph.jsontext import dumps as dumps_json
from identity_graph.matching import co_observation_links, star_centre
from identity_graph.models import (
    AttributeValue,
    BehaviourEvent,
    IdKey,
    Link,
    LinkKey,
    Observation,
    Reject,
    iso,
    parse_iso,
    remember_iso,
)

FIRST_BATCH_UNITS = 1000
BIG_FILE_FACTOR = 3


@dataclass(slots=True)
class ObservationRows:
    """A batch's observations as the text the store keeps. Anchors are identifier keys (the
    store maps them to its own ids); `position` is the observation's index in `observations`."""

    observations: list[tuple[str, str, str, IdKey]] = field(default_factory=list)
    # (position, anchor, name, value JSON, source, ts)
    attributes: list[tuple[int, IdKey, str, str, str, str]] = field(default_factory=list)
    # (position, anchor, event name, properties JSON, ts)
    events: list[tuple[int, IdKey, str, str, str]] = field(default_factory=list)
    # (position, anchor, purpose, granted 0/1, source, ts)
    consent: list[tuple[int, IdKey, str, int, str, str]] = field(default_factory=list)


@dataclass(slots=True)
class PreparedBatch:
    """One batch, ready for the store step (`ingest.ingest_batch`).

    `fresh()` are the batch's observations minus in-batch repeats, in input order; everything
    else describes those. A batch made in this process keeps the observation objects; one that
    came from the parsing process rebuilds them from its rows, only when the store step needs
    them (the store already holds some record keys, the suppression list is in use, fuzzy
    rules run): that saves sending every observation twice.
    """

    size: int
    duplicate_positions: list[int]
    record_keys: list[tuple[str, str]]
    sightings: list[tuple[IdKey, datetime, datetime]]
    rows: ObservationRows
    links: dict[LinkKey, Link]
    with_traits: set[IdKey]
    identifiers: list[tuple[IdKey, ...]]  # of each fresh observation
    origins: list[tuple[str, int]]  # (file, line) of each fresh observation
    _fresh: list[Observation] | None = None

    @property
    def anchors(self) -> list[IdKey]:
        return [row[3] for row in self.rows.observations]

    def attribute_values(self) -> list[AttributeValue]:
        """The batch's attribute values as stored, anchored on their observation's anchor."""
        return [
            AttributeValue(anchor, name, json.loads(value), source, parse_iso(ts))
            for _, anchor, name, value, source, ts in self.rows.attributes
        ]

    def fresh(self) -> list[Observation]:
        if self._fresh is None:
            self._fresh = self._rebuild()
        return self._fresh

    def _rebuild(self) -> list[Observation]:
        rows = self.rows
        attributes: dict[int, dict[str, Any]] = {}
        for position, _, name, value, _, _ in rows.attributes:
            attributes.setdefault(position, {})[name] = json.loads(value)
        events = {
            position: BehaviourEvent(name, json.loads(properties))
            for position, _, name, properties, _ in rows.events
        }
        consent: dict[int, dict[str, bool]] = {}
        for position, _, purpose, granted, _, _ in rows.consent:
            consent.setdefault(position, {})[purpose] = bool(granted)
        return [
            Observation(
                source,
                record_key,
                parse_iso(ts),
                ids,
                attributes.get(position, {}),
                events.get(position),
                consent.get(position, {}),
                file,
                line,
            )
            for position, ((source, record_key, ts, _), ids, (file, line)) in enumerate(
                zip(rows.observations, self.identifiers, self.origins, strict=True)
            )
        ]

    def fresh_positions(self) -> list[int]:
        """The position in the batch of each fresh observation."""
        repeated = set(self.duplicate_positions)
        return [p for p in range(self.size) if p not in repeated]

    # -- the parsing process sends batches as plain tuples ------------------------------------
    def to_wire(self) -> tuple[Any, ...]:
        rows = self.rows
        return (
            self.size,
            self.duplicate_positions,
            self.record_keys,
            self.sightings,
            (rows.observations, rows.attributes, rows.events, rows.consent),
            [
                (
                    ln.a,
                    ln.b,
                    ln.rule,
                    ln.weight,
                    ln.count,
                    ln.first_seen,
                    ln.last_seen,
                    ln.sources,
                    ln.samples,
                    ln.details,
                )
                for ln in self.links.values()
            ],
            sorted(self.with_traits),
            self.identifiers,
            self.origins,
            self._timestamp_texts(),
        )

    def _timestamp_texts(self) -> list[tuple[datetime, str]]:
        """The text of every time the store step will format (first/last seen), already made
        here while writing the rows: sent along so the other side need not format them again."""
        times = {t for _, first, last in self.sightings for t in (first, last)}
        times.update(t for ln in self.links.values() for t in (ln.first_seen, ln.last_seen))
        return [(t, iso(t)) for t in times]

    @classmethod
    def from_wire(cls, wire: tuple[Any, ...]) -> PreparedBatch:
        size, dups, record_keys, sightings, rows, links, traits, identifiers, origins, texts = wire
        remember_iso(texts)
        return cls(
            size,
            dups,
            record_keys,
            sightings,
            ObservationRows(*rows),
            {(ln[0], ln[1], ln[2]): Link(*ln) for ln in links},
            set(traits),
            identifiers,
            origins,
        )


def prepare_batch(observations: Sequence[Observation], config: Config) -> PreparedBatch:
    duplicate_positions: list[int] = []
    fresh: list[Observation] = []
    record_keys: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for position, obs in enumerate(observations):
        key = (obs.source, obs.record_key)
        if key in seen:
            duplicate_positions.append(position)
            continue
        seen.add(key)
        fresh.append(obs)
        record_keys.append(key)

    sightings: dict[IdKey, tuple[datetime, datetime]] = {}
    for obs in fresh:
        ts = obs.timestamp
        for key in obs.identifiers:
            span = sightings.get(key)
            if span is None:
                sightings[key] = (ts, ts)
            elif ts < span[0] or ts > span[1]:
                sightings[key] = (min(span[0], ts), max(span[1], ts))
    centres = [star_centre(o.identifiers, config) for o in fresh]
    rows = observation_rows(fresh, centres)
    links = co_observation_links(fresh, centres, config)
    return PreparedBatch(
        size=len(observations),
        duplicate_positions=duplicate_positions,
        record_keys=record_keys,
        sightings=[(k, first, last) for k, (first, last) in sightings.items()],
        rows=rows,
        links=links,
        with_traits={c for o, c in zip(fresh, centres, strict=True) if o.attributes},
        identifiers=[o.identifiers for o in fresh],
        origins=[(o.file, o.line) for o in fresh],
        _fresh=fresh,
    )


def observation_rows(
    observations: Sequence[Observation], anchors: Sequence[IdKey]
) -> ObservationRows:
    rows = ObservationRows()
    for position, (obs, anchor) in enumerate(zip(observations, anchors, strict=True)):
        text = iso(obs.timestamp)
        source = obs.source
        rows.observations.append((source, obs.record_key, text, anchor))
        for name, value in obs.attributes.items():
            rows.attributes.append((position, anchor, name, dumps_json(value), source, text))
        event = obs.event
        if event is not None:
            rows.events.append((position, anchor, event.name, dumps_json(event.properties), text))
        for purpose, granted in obs.consent.items():
            rows.consent.append((position, anchor, purpose, int(granted), source, text))
    return rows


class _Positioned(Protocol):
    @property
    def bytes_read(self) -> int: ...

    def __iter__(self) -> Iterator[Observation | Reject]: ...


def prepared_batches(
    reader: _Positioned,
    config: Config,
    first: int = FIRST_BATCH_UNITS,
    size_bytes: int | None = None,
) -> Iterator[Reject | PreparedBatch]:
    """A reader's rejects as they come, and its observations in prepared batches.

    Sizes ramp up from `first`, each a quarter bigger than the last, to `batch_size`: the
    parsing process, almost as busy per unit as the store step, must make the next batch while
    the store step handles this one (doubling, or growing by half, left the store step
    waiting). With the file's `size_bytes` they also ramp down near its end (half the units
    estimated to remain, never under `first`), so the last batch, which the store step handles
    after parsing has finished, is small. In a big file they grow past `batch_size`, to a
    tenth of the units read so far and at most `BIG_FILE_FACTOR` times `batch_size`: once the
    store is big, a commit writes a page for every index page the batch touched, and the
    indexes on random keys are touched all over whatever the batch size, so fewer, bigger
    batches write less (a 1M-line file: 85 s with 50,000-unit batches, 100 s with 20,000).
    All of it depends on unit counts and byte offsets alone: the same file is always split
    the same way.
    """
    first = max(1, first)
    limit = min(config.batch_size, first)
    biggest = config.batch_size * BIG_FILE_FACTOR
    batch: list[Observation] = []
    units = 0
    for unit in reader:
        units += 1
        if isinstance(unit, Reject):
            yield unit
            continue
        batch.append(unit)
        if len(batch) >= limit:
            yield prepare_batch(batch, config)
            batch = []
            cap = max(config.batch_size, min(biggest, units // 10))
            limit = min(cap, max(limit + 1, limit * 5 // 4))
            done = reader.bytes_read
            if size_bytes is not None and done > 0:
                remaining = max(0, size_bytes - done) * units // done
                limit = min(limit, max(first, remaining // 2))
    if batch:
        yield prepare_batch(batch, config)
