"""Golden attributes: pick one value per attribute from a profile's observed values. Pure.

Rules: `most_recent` (latest observation wins), `source_priority` (highest-priority source
wins, then the latest), `most_frequent` (the value seen most often, then the latest). Ties
are broken deterministically by source name and the value's text.

`most_recent` depends on nothing but the values themselves, so a profile that only grows
(new observations, merged profiles) gets its golden record from the golden records it had
and the new values: `updated_most_recent`. The other rules need the whole history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from identity_graph.config import Config
from identity_graph.models import AttributeValue, GoldenValue

MOST_RECENT = "most_recent"


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def golden_attributes(values: Iterable[AttributeValue], config: Config) -> dict[str, GoldenValue]:
    by_name: dict[str, list[AttributeValue]] = {}
    for v in values:
        by_name.setdefault(v.name, []).append(v)
    priority: Callable[[str], int] = lambda s: config.source(s).priority  # noqa: E731
    golden: dict[str, GoldenValue] = {}
    for name in sorted(by_name):
        candidates = by_name[name]
        rule = config.rule_for(name)
        if rule == "source_priority":
            best = max(
                candidates,
                key=lambda v: (priority(v.source), v.timestamp, v.source, _text(v.value)),
            )
        elif rule == "most_frequent":
            counts: dict[str, int] = {}
            for v in candidates:
                counts[_text(v.value)] = counts.get(_text(v.value), 0) + 1
            best = max(
                candidates,
                key=lambda v: (counts[_text(v.value)], v.timestamp, v.source, _text(v.value)),
            )
        else:
            best = max(candidates, key=_recency)
        golden[name] = GoldenValue(best.value, best.source, best.timestamp, rule)
    return golden


def _recency(v: AttributeValue | GoldenValue) -> tuple[object, str, str]:
    return (v.timestamp, v.source, _text(v.value))


def updated_most_recent(
    goldens: Iterable[Mapping[str, GoldenValue]],
    new_values: Iterable[AttributeValue],
    config: Config,
) -> dict[str, GoldenValue] | None:
    """The golden record of a profile made of profiles with `goldens` plus `new_values`,
    equal to `golden_attributes` over all their values; None unless every attribute involved
    is (and was) decided by `most_recent`."""
    best: dict[str, AttributeValue | GoldenValue] = {}
    for golden in goldens:
        for name, g in golden.items():
            if g.rule != MOST_RECENT or config.rule_for(name) != MOST_RECENT:
                return None
            held = best.get(name)
            if held is None or _recency(g) > _recency(held):
                best[name] = g
    for v in new_values:
        held = best.get(v.name)
        if held is None:
            if config.rule_for(v.name) != MOST_RECENT:
                return None
            best[v.name] = v
        elif _recency(v) > _recency(held):
            best[v.name] = v
    return {
        name: GoldenValue(b.value, b.source, b.timestamp, MOST_RECENT)
        for name, b in sorted(best.items())
    }
