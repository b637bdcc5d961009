"""Golden attributes: pick one value per attribute from a profile's observed values. Pure.

Rules: `most_recent` (latest observation wins), `source_priority` (highest-priority source
wins, then the latest), `most_frequent` (the value seen most often, then the latest). Ties
are broken deterministically by source name and the value's text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from identity_graph.config import Config
from identity_graph.models import AttributeValue, GoldenValue


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
            best = max(candidates, key=lambda v: (v.timestamp, v.source, _text(v.value)))
        golden[name] = GoldenValue(best.value, best.source, best.timestamp, rule)
    return golden
