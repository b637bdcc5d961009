"""The use cases. The CLI and the API call this module and nothing below it."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import networkx as nx

from identity_graph.batch_prep import (
    FIRST_BATCH_UNITS,
    PreparedBatch,
    prepare_batch,
    prepared_batches,
)
from identity_graph.config import Config, load_config
from identity_graph.errors import InputError, NotFound
from identity_graph.explain import counts, path_json, profile_graph, strongest_path
from identity_graph.fuzzy.pipeline import full_pass
from identity_graph.fuzzy.rules import rules_from_dict
from identity_graph.gc_tuning import bulk_gc
from identity_graph.history import CHANGE_KINDS, joined_by, members_as_of
from identity_graph.identifiers import InvalidIdentifier, Normalizer
from identity_graph.ingest import BatchResult, ingest_batch
from identity_graph.models import (
    AuditEvent,
    IdentifierNode,
    IdKey,
    Observation,
    Override,
    ProfileRecord,
    Reject,
    StoreStats,
    iso,
    key_text,
    utc_now,
)
from identity_graph.resolve import ResolveOutcome, Resolver
from identity_graph.review import ReviewItem, parse_item, review_items
from identity_graph.steward import Steward, StewardResult
from identity_graph.stores import open_store
from identity_graph.stores.base import Store

ProgressCallback = Callable[[int], None]


@dataclass
class LoadSummary:
    file: str
    source: str
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    new: int = 0
    duplicates: int = 0
    suppressed: int = 0
    rejects_path: str | None = None
    batch: BatchResult = field(default_factory=BatchResult)

    def to_json(self) -> dict[str, Any]:
        o = self.batch.outcome
        return {
            "file": self.file,
            "source": self.source,
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "new": self.new,
            "duplicates": self.duplicates,
            "suppressed": self.suppressed,
            "rejects_file": self.rejects_path,
            "profiles_created": o.profiles_created,
            "merges": o.merges,
            "splits": o.splits,
            "merges_blocked": o.blocked,
            "newly_generic": o.newly_generic,
        }


@dataclass
class ProfileView:
    requested_id: int
    profile: ProfileRecord
    members: list[IdentifierNode]
    emptied_by: str = "split"  # what left a profile without members: "split" or "erased"

    @property
    def merged(self) -> bool:
        return self.requested_id != self.profile.id

    def to_json(self) -> dict[str, Any]:
        p = self.profile
        return {
            "profile_id": p.id,
            "requested_id": self.requested_id,
            "merged": self.merged,
            "status": "merged" if self.merged else (self.emptied_by if p.size == 0 else "active"),
            "size": len(self.members),
            "created": iso(p.created),
            "updated": iso(p.updated),
            "golden": {k: v.to_json() for k, v in sorted(p.golden.items())},
            "identifiers": [
                {
                    "type": n.key[0],
                    "value": n.key[1],
                    "id": key_text(n.key),
                    "first_seen": iso(n.first_seen),
                    "last_seen": iso(n.last_seen),
                    "generic": n.generic,
                    "blocked": n.blocked,
                }
                for n in sorted(self.members, key=lambda n: n.key)
            ],
        }


@dataclass(frozen=True)
class EventResult:
    index: int
    accepted: bool
    duplicate: bool = False
    profile_id: int | None = None
    reason: str | None = None
    field: str | None = None


@dataclass
class ParsedEvents:
    """Events parsed for ingest: the rejected ones already have their result, the accepted
    ones are prepared as one batch (see batch_prep), ready for the store step."""

    results: list[EventResult | None]
    accepted: list[tuple[int, Observation]]
    prepared: PreparedBatch


def parse_identifier(text: str, value: str | None = None) -> tuple[str, str]:
    """`TYPE VALUE` or `TYPE:VALUE` from the command line or a query string."""
    if value is not None:
        return text.strip(), value
    type_, sep, rest = text.partition(":")
    if not sep or not type_ or not rest:
        raise InputError(f"expected TYPE:VALUE (for example email:ann@example.com), got {text!r}")
    return type_.strip(), rest


class IdentityService:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.normalizer = Normalizer(config)
        # Fuzzy rules run on ingest and recluster only when the config has a [fuzzy] table.
        self.fuzzy_rules = (
            rules_from_dict({"fuzzy": config.fuzzy}, "config") if config.fuzzy else None
        )

    @classmethod
    def open(
        cls, url: str | None = None, config_path: Path | None = None, *, create: bool = True
    ) -> IdentityService:
        return cls(open_store(url, create=create), load_config(config_path))

    def close(self) -> None:
        self.store.close()

    # -- ingest -----------------------------------------------------------------------------
    def load_file(
        self,
        path: Path,
        *,
        source: str,
        fmt: str | None = None,
        mapping_path: Path | None = None,
        rejects_path: Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> LoadSummary:
        from identity_graph.loaders import UnitReader, detect_format, open_reader
        from identity_graph.loaders.mapping import load_mapping
        from identity_graph.loaders.parallel import ParallelBatches
        from identity_graph.loaders.rejects import RejectWriter

        if not path.exists():
            raise InputError(f"file not found: {path}")
        fmt = fmt or detect_format(path)
        mapping = load_mapping(mapping_path) if mapping_path else None
        if mapping is not None:
            source_config = mapping.source_config(source)
            if source_config is not None:
                self.config = self.config.with_source(source_config)
        # Opening checks format, mapping and header here, before any process starts.
        reader: UnitReader = open_reader(
            path, fmt=fmt, source=source, normalizer=self.normalizer, mapping=mapping
        )
        # Batches start small and grow to batch_size: resolving starts while a parsing
        # process warms up instead of waiting for a full batch (see batch_prep).
        items: Iterable[Reject | PreparedBatch]
        position: UnitReader | ParallelBatches = reader
        min_bytes = self.config.parallel_parse_min_mb * 2**20
        if self.config.parallel_parse and path.stat().st_size >= min_bytes:
            items = position = ParallelBatches(
                path,
                fmt=fmt,
                source=source,
                config=self.config,
                mapping=mapping,
                fallback=reader,
                first_batch=FIRST_BATCH_UNITS,
            )
        else:
            items = prepared_batches(reader, self.config, FIRST_BATCH_UNITS, path.stat().st_size)
        summary = LoadSummary(file=str(path), source=source)
        rejects_path = rejects_path or path.with_name(path.name + ".rejects.jsonl")
        with RejectWriter(rejects_path) as rejects, bulk_gc():
            last_bytes = 0
            for item in items:
                if isinstance(item, Reject):
                    summary.read += 1
                    summary.rejected += 1
                    rejects.write(item)
                else:
                    summary.read += item.size
                    summary.accepted += item.size
                    self._flush(item, summary, rejects)
                if progress is not None and position.bytes_read - last_bytes >= 1 << 20:
                    progress(position.bytes_read - last_bytes)
                    last_bytes = position.bytes_read
            if progress is not None:
                progress(position.bytes_read - last_bytes)
            summary.rejects_path = str(rejects.path) if rejects.count else None
        return summary

    def _flush(self, batch: PreparedBatch, summary: LoadSummary, rejects: Any) -> None:
        result = ingest_batch(self.store, self.config, batch, fuzzy_rules=self.fuzzy_rules)
        summary.new += result.new
        summary.duplicates += result.duplicates
        for reject in result.suppressed:  # erased people: rejected and counted, never silent
            rejects.write(reject)
            summary.accepted -= 1
            summary.rejected += 1
            summary.suppressed += 1
        summary.batch.add(result)

    def ingest_events(self, events: Sequence[object], *, source: str) -> list[EventResult]:
        """Real-time ingest of Segment-spec events: resolved before this returns."""
        return self.ingest_parsed(self.parse_events(events, source=source))

    def parse_events(self, events: Sequence[object], *, source: str) -> ParsedEvents:
        """The store-free half of `ingest_events`: parse and normalize every event. Safe to
        run beside another request's store work (the normalizer's cache is thread-safe)."""
        from identity_graph.loaders.segment import parse_event

        results: list[EventResult | None] = [None] * len(events)
        accepted: list[tuple[int, Observation]] = []
        for index, raw in enumerate(events):
            unit = parse_event(
                raw, source=source, normalizer=self.normalizer, file="request", line=index
            )
            if isinstance(unit, Reject):
                results[index] = EventResult(index, False, reason=unit.reason, field=unit.field)
            else:
                accepted.append((index, unit))
        prepared = prepare_batch([o for _, o in accepted], self.config)
        return ParsedEvents(results, accepted, prepared)

    def ingest_parsed(self, parsed: ParsedEvents) -> list[EventResult]:
        """Write and resolve what `parse_events` accepted; one result per event, in order."""
        results, accepted = parsed.results, parsed.accepted
        if accepted:
            batch = ingest_batch(
                self.store, self.config, parsed.prepared, fuzzy_rules=self.fuzzy_rules
            )
            duplicates = {accepted[p][0] for p in batch.duplicate_positions}
            suppressed = {r.line: r for r in batch.suppressed}
            # The batch placed its identifiers; only duplicates and suppressed events ask
            # the store.
            keys = [o.identifiers[0] for _, o in accepted]
            placed = batch.outcome.placed
            profiles = {k: placed[k] for k in keys if k in placed}
            missing = [k for k in keys if k not in profiles]
            if missing:
                profiles.update(self.store.resolve_many(missing))
            for index, obs in accepted:
                if index in suppressed:
                    r = suppressed[index]
                    results[index] = EventResult(index, False, reason=r.reason, field=r.field)
                    continue
                results[index] = EventResult(
                    index,
                    True,
                    duplicate=index in duplicates,
                    profile_id=profiles.get(obs.identifiers[0]),
                )
        return [r for r in results if r is not None]

    # -- reads ------------------------------------------------------------------------------
    def normalize_key(self, id_type: str, value: str) -> IdKey:
        try:
            normalized = self.normalizer.normalize(id_type, value)
        except InvalidIdentifier as e:
            raise InputError(str(e), field=id_type) from e
        if normalized is None:
            raise InputError(f"{value!r} is a placeholder value, never an identifier")
        return (id_type, normalized)

    def resolve(self, id_type: str, value: str) -> ProfileView:
        key = self.normalize_key(id_type, value)
        found = self.store.resolve_profile(key)
        if found is None:
            raise NotFound(f"no profile for {key[0]}:{key[1]}")
        record, members = found
        if record.merged_into is not None:  # not left by the resolver; followed all the same
            return self.profile(record.id)
        return ProfileView(record.id, record, members)

    def resolve_many(self, keys: Iterable[tuple[str, str]]) -> list[tuple[IdKey, int | None]]:
        normalized: list[IdKey | None] = []
        for t, v in keys:
            try:
                normalized.append(self.normalize_key(t, v))
            except InputError:
                normalized.append(None)
        found = self.store.resolve_many([k for k in normalized if k is not None])
        return [
            ((t, v) if k is None else k, None if k is None else found.get(k))
            for (t, v), k in zip(keys, normalized, strict=True)
        ]

    def profile(self, profile_id: int) -> ProfileView:
        record = self._follow(profile_id)
        members = self.store.profile_members([record.id]).get(record.id, [])
        emptied_by = "split"
        if not members and self.store.audit_events([record.id], kinds=["erased"], limit=1):
            emptied_by = "erased"
        return ProfileView(profile_id, record, members, emptied_by)

    def _follow(self, profile_id: int) -> ProfileRecord:
        seen: set[int] = set()
        current = profile_id
        while True:
            record = self.store.get_profiles([current]).get(current)
            if record is None:
                raise NotFound(f"no profile {profile_id}")
            if record.merged_into is None or current in seen:
                return record
            seen.add(current)
            current = record.merged_into

    def stats(self, top: int = 10) -> StoreStats:
        return self.store.stats(top)

    # -- clustering -------------------------------------------------------------------------
    def recluster(self) -> ResolveOutcome:
        if self.fuzzy_rules is not None and self.fuzzy_rules.rules:
            full_pass(self.store, self.config, self.fuzzy_rules)
        with self.store.transaction():
            return Resolver(self.store, self.config).recompute(None, utc_now(), reason="recluster")

    # -- exports ----------------------------------------------------------------------------
    def export_assignments(self, out: IO[str]) -> int:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["identifier_type", "identifier_value", "profile_id"])
        n = 0
        for (t, v), pid in self.store.iter_assignments():
            writer.writerow([t, v, pid])
            n += 1
        return n

    def export_records(self, out: IO[str]) -> int:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["source", "record_key", "profile_id"])
        n = 0
        for source, key, pid in self.store.iter_record_assignments():
            writer.writerow([source, key, "" if pid is None else pid])
            n += 1
        return n

    def iter_assignments(self) -> Iterator[tuple[IdKey, int]]:
        return self.store.iter_assignments()


class StewardService:
    """Audit, explanations and steward decisions, over the same store as `IdentityService`."""

    def __init__(self, svc: IdentityService) -> None:
        self.svc = svc
        self.store = svc.store
        self.config = svc.config

    def key(self, text: str) -> IdKey:
        return self.svc.normalize_key(*parse_identifier(text))

    # -- audit ------------------------------------------------------------------------------
    def audit(self, profile_id: int, limit: int = 10_000) -> list[AuditEvent]:
        record = self.svc._follow(profile_id)
        family = self.store.merged_family(record.id)
        return self.store.audit_events(sorted(set(family) | {profile_id}), limit=limit)

    def changes(self, since: int = 0, limit: int = 100) -> list[AuditEvent]:
        if limit < 1 or since < 0:
            raise InputError("changes: since must be >= 0 and limit >= 1")
        return self.store.audit_events(None, since=since, limit=limit, kinds=CHANGE_KINDS)

    def profile_as_of(self, profile_id: int, when: datetime) -> list[IdKey]:
        family = self.store.merged_family(profile_id)
        events = self.store.audit_events(sorted(family), limit=1_000_000)
        return members_as_of(events, profile_id, when)

    def why(self, key: IdKey) -> dict[str, Any]:
        node = self.store.get_identifiers([key]).get(key)
        if node is None or node.profile_id is None:
            raise NotFound(f"no identifier {key_text(key)}")
        pid = node.profile_id
        event = joined_by(self.store.audit_events([pid], limit=1_000_000), key, pid)
        members = {n.key for n in self.store.profile_members([pid]).get(pid, [])}
        generic = {
            k
            for k, n in self.store.get_identifiers(sorted(members)).items()
            if n.generic or n.blocked
        }
        cut = self._cut()
        links = [ln for ln in self.store.links_of([key]) if ln.a in members and ln.b in members]
        links.sort(key=lambda ln: (-ln.weight, ln.first_seen))
        return {
            "identifier": key_text(key),
            "profile_id": pid,
            "generic": node.generic or node.blocked,
            "joined_by": event.to_json() if event else None,
            "links": [
                {
                    **ln.evidence(),
                    "counts": counts(ln, self.config, generic, cut) is None,
                    "not_counted_because": counts(ln, self.config, generic, cut),
                }
                for ln in links
            ],
        }

    def _cut(self) -> set[frozenset[IdKey]]:
        return {
            frozenset((o.a, o.b)) for o in self.store.overrides() if o.kind == "cut_link" and o.b
        }

    def explain(self, a: IdKey, b: IdKey) -> dict[str, Any]:
        nodes = self.store.get_identifiers([a, b])
        for k in (a, b):
            if k not in nodes or nodes[k].profile_id is None:
                raise NotFound(f"no identifier {key_text(k)}")
        pa, pb = nodes[a].profile_id, nodes[b].profile_id
        assert pa is not None and pb is not None
        members = self.store.profile_members(sorted({pa, pb}))
        all_members = [n for ms in members.values() for n in ms]
        generic = {n.key for n in all_members if n.generic or n.blocked}
        cut = self._cut()
        links = self.store.links_among([n.key for n in all_members])
        result: dict[str, Any] = {
            "a": key_text(a),
            "b": key_text(b),
            "profile_a": pa,
            "profile_b": pb,
            "same_profile": pa == pb,
        }
        if pa == pb:
            usable = {
                (ln.a, ln.b, ln.rule)
                for ln in links
                if counts(ln, self.config, generic, cut) is None
            }
            result["path"] = path_json(strongest_path(links, a, b, usable))
            return result
        reasons: list[dict[str, Any]] = []
        pair = {a, b}
        for o in self.store.overrides():
            if o.kind == "never_link" and o.b and {o.a, o.b} == pair:
                reasons.append(
                    {
                        "reason": "never_link override",
                        "actor": o.actor,
                        "why": o.reason,
                        "timestamp": iso(o.timestamp),
                    }
                )
        side = {n.key: n.profile_id for n in all_members}
        for ln in links:
            if side.get(ln.a) == side.get(ln.b):
                continue
            why_not = counts(ln, self.config, generic, cut)
            reasons.append(
                {
                    "reason": why_not or "the merge was blocked by a constraint",
                    "link": ln.evidence(),
                }
            )
        sides = {n.key for n in all_members}
        bridges: dict[IdKey, set[int]] = {}
        for ln in self.store.links_of(sorted(sides)):
            inner, outer = (ln.a, ln.b) if ln.a in sides else (ln.b, ln.a)
            if outer not in sides:
                bridges.setdefault(outer, set()).add(side[inner] or 0)
        through = sorted(k for k, ps in bridges.items() if {pa, pb} <= ps)
        if through:
            flags = self.store.get_identifiers(through)
            for k in through:
                node = flags.get(k)
                what = "blocked" if node and node.blocked else "generic"
                reasons.append(
                    {
                        "reason": f"only connected through {what} identifier "
                        f"{key_text(k)}, whose links do not count"
                    }
                )
        for ev in self.store.audit_events(sorted({pa, pb}), kinds=["merge_blocked"]):
            if {pa, pb} <= set(ev.profiles_before):
                reasons.append({"reason": ev.reason, "audit": ev.to_json()})
        if not reasons:
            reasons.append({"reason": "different components: no link connects the two profiles"})
        result["why_not"] = reasons
        return result

    def profile_graph(self, profile_id: int) -> nx.Graph:
        record = self.svc._follow(profile_id)
        members = self.store.profile_members([record.id]).get(record.id, [])
        links = self.store.links_among([n.key for n in members])
        return profile_graph(members, links, record.id)

    # -- decisions --------------------------------------------------------------------------
    def _steward(self, actor: str, reason: str) -> Steward:
        return Steward(self.store, self.config, actor, reason)

    def link(
        self, a: str, b: str, *, actor: str, reason: str, force: bool = False
    ) -> StewardResult:
        return self._steward(actor, reason).link(self.key(a), self.key(b), force=force)

    def unlink(self, a: str, b: str, *, actor: str, reason: str) -> StewardResult:
        return self._steward(actor, reason).unlink(self.key(a), self.key(b))

    def block(
        self, identifier: str, *, actor: str, reason: str, unblock: bool = False
    ) -> StewardResult:
        id_type, _, value = identifier.partition(":")
        try:
            key = self.key(identifier)
        except InputError:
            if not value:
                raise
            key = (id_type, value.strip())  # a junk value may not be a valid identifier
        return self._steward(actor, reason).block(key, unblock=unblock)

    def overrides(self) -> list[Override]:
        return self.store.overrides()


def review(svc: IdentityService, limit: int = 50) -> list[ReviewItem]:
    return review_items(svc.store, svc.config, limit)


def decide_review(
    svc: IdentityService, item_id: str, decision: str, *, actor: str, reason: str
) -> StewardResult:
    """accept: keep together (force link / mark reviewed); reject: split (never link / block)."""
    if decision not in ("accept", "reject"):
        raise InputError("decision must be accept or reject")
    kind, a, b = parse_item(item_id)
    if not kind or not a[0] or not a[1]:
        raise InputError(f"not a review item: {item_id!r}")
    steward = Steward(svc.store, svc.config, actor, f"review {item_id}: {reason}")
    if b is not None:
        if decision == "accept":
            return steward.link(a, b, force=kind == "blocked_merge")
        return steward.unlink(a, b)
    if decision == "reject":
        return steward.block(a)
    with svc.store.transaction():
        svc.store.add_override(Override("reviewed", a, None, actor, reason, utc_now()))
    return StewardResult(
        "reviewed", {key_text(a): svc.store.resolve_many([a]).get(a)}, ResolveOutcome()
    )
