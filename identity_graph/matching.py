"""Deterministic links from co-observation. Pure.

The identifiers seen together in one observation are linked as a star around the
observation's strongest identifier (by type strength, then key), not as a clique: n - 1 links
instead of n(n - 1)/2, and a junk value on the rim cannot connect the others to each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from identity_graph.config import Config, IdentifierType
from identity_graph.models import IdKey, Link, LinkKey, Observation

CO_OBSERVED = "co_observed"


def star_centre(identifiers: Iterable[IdKey], config: Config) -> IdKey:
    ids = tuple(identifiers)
    if len(ids) == 1:
        return ids[0]
    return min(ids, key=lambda k: (-config.type(k[0]).strength, k))


def star_links(obs: Observation, config: Config, centre: IdKey | None = None) -> list[Link]:
    """One observation's links: a star around `centre` (its strongest identifier)."""
    if len(obs.identifiers) < 2:
        return []
    centre = centre or star_centre(obs.identifiers, config)
    return list(co_observation_links([obs], [centre], config).values())


def co_observation_links(
    observations: Sequence[Observation], centres: Sequence[IdKey], config: Config
) -> dict[LinkKey, Link]:
    """The star links of many observations, each around its centre, aggregated as
    `aggregate_links` would merge them one by one, but without building and merging a Link
    per observation (a batch repeats the same pairs many times over)."""
    types: dict[str, IdentifierType] = {}
    trusts: dict[str, float] = {}
    # key -> [weight, count, first, last, sources, samples]
    acc: dict[LinkKey, list[Any]] = {}
    for obs, centre in zip(observations, centres, strict=True):
        if len(obs.identifiers) < 2:
            continue
        centre_type = types.get(centre[0]) or types.setdefault(centre[0], config.type(centre[0]))
        if not centre_type.linkable:
            continue
        trust = trusts.get(obs.source)
        if trust is None:
            trust = trusts[obs.source] = config.source(obs.source).trust
        ts = obs.timestamp
        sample = obs.observation_key
        for other in obs.identifiers:
            if other == centre:
                continue
            other_type = types.get(other[0]) or types.setdefault(other[0], config.type(other[0]))
            if not other_type.linkable:
                continue
            weight = min(centre_type.weight, other_type.weight) * trust
            key = (centre, other, CO_OBSERVED) if centre < other else (other, centre, CO_OBSERVED)
            found = acc.get(key)
            if found is None:
                acc[key] = [weight, 1, ts, ts, {obs.source}, {sample}]
                continue
            if weight > found[0]:
                found[0] = weight
            found[1] += 1
            if ts < found[2]:
                found[2] = ts
            if ts > found[3]:
                found[3] = ts
            found[4].add(obs.source)
            found[5].add(sample)
    size = config.link_sample_size
    return {
        key: Link(
            key[0],
            key[1],
            CO_OBSERVED,
            weight,
            count,
            first,
            last,
            tuple(sorted(sources)),
            tuple(sorted(samples)[:size]),
        )
        for key, (weight, count, first, last, sources, samples) in acc.items()
    }


def merge_link(old: Link, new: Link, sample_size: int) -> Link:
    """Combine two pieces of evidence for the same (a, b, rule). Order-independent."""
    return Link(
        a=old.a,
        b=old.b,
        rule=old.rule,
        weight=max(old.weight, new.weight),
        count=old.count + new.count,
        first_seen=min(old.first_seen, new.first_seen),
        last_seen=max(old.last_seen, new.last_seen),
        sources=tuple(sorted(set(old.sources) | set(new.sources))),
        samples=tuple(sorted(set(old.samples) | set(new.samples))[:sample_size]),
        details=new.details or old.details,
    )


def aggregate_links(links: Iterable[Link], sample_size: int) -> dict[LinkKey, Link]:
    merged: dict[LinkKey, Link] = {}
    for link in links:
        key = (link.a, link.b, link.rule)
        found = merged.get(key)
        merged[key] = link if found is None else merge_link(found, link, sample_size)
    return merged
