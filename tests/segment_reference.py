"""A plain-Python evaluator of the segment language over in-memory profiles: the reference a
store's compiled query must agree with (tests/test_segments_language.py runs it against the
SQLite dialect; a Cypher dialect can be checked against the same reference)."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from identity_graph.models import iso
from identity_graph.segments.model import (
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    FirstSeenCondition,
    IdentifierCondition,
    Not,
    SizeCondition,
    all_hold,
)

NUMERIC_TEXT = re.compile(r"^[0-9.+-]*[0-9][0-9.+-]*$")


@dataclass
class Ident:
    type: str
    value: str
    first_seen: datetime


@dataclass
class Event:
    name: str
    ts: datetime
    properties: dict[str, Any]


@dataclass
class Signal:
    purpose: str
    granted: bool
    ts: datetime


@dataclass
class Person:
    id: int
    golden: dict[str, Any]
    identifiers: list[Ident]
    events: list[Event] = field(default_factory=list)
    consent: list[Signal] = field(default_factory=list)
    live: bool = True


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str) and NUMERIC_TEXT.match(v.strip()):
        return float(v.strip())
    return None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | dict):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def _cmp(op: str, a: Any, b: Any) -> bool:
    return {
        "equals": a == b,
        "gt": a > b,
        "gte": a >= b,
        "lt": a < b,
        "lte": a <= b,
    }[op]


def _attribute(c: AttributeCondition, p: Person) -> bool:
    v = p.golden.get(c.name)
    x = c.value
    if c.op == "exists":
        return (v is not None) == x
    if v is None:
        return False
    if c.op == "equals":
        if isinstance(x, bool):
            return isinstance(v, bool) and v == x
        if isinstance(x, str):
            return _text(v) == x
        return _num(v) == x
    if c.op == "in":
        assert isinstance(x, tuple)
        texts = {s for s in x if isinstance(s, str)}
        numbers = {n for n in x if not isinstance(n, str)}
        return _text(v) in texts or (_num(v) is not None and _num(v) in numbers)
    if c.op == "contains":
        if isinstance(v, list):
            if isinstance(x, str):
                return any(_text(e) == x for e in v)
            return any(_num(e) == x for e in v)
        if isinstance(v, str):
            needle = (
                x if isinstance(x, str) else (str(int(x)) if float(x).is_integer() else repr(x))
            )
            return needle.lower() in v.lower()
        return False
    if isinstance(x, str):
        return isinstance(v, str) and _cmp(c.op, v, x)
    n = _num(v)
    return n is not None and _cmp(c.op, n, x)


def evaluate(rule: Condition, p: Person, now: datetime) -> bool:
    if isinstance(rule, All):
        return all(evaluate(r, p, now) for r in rule.parts)
    if isinstance(rule, AnyOf):
        return any(evaluate(r, p, now) for r in rule.parts)
    if isinstance(rule, Not):
        return not evaluate(rule.part, p, now)
    if isinstance(rule, AttributeCondition):
        return _attribute(rule, p)
    if isinstance(rule, IdentifierCondition):
        n = sum(1 for i in p.identifiers if i.type == rule.type)
        return all_hold(rule.count, n)
    if isinstance(rule, SizeCondition):
        return all_hold(rule.compare, len(p.identifiers))
    if isinstance(rule, FirstSeenCondition):
        return any(i.first_seen < rule.before for i in p.identifiers)
    if isinstance(rule, ConsentCondition):
        signals = [s for s in p.consent if s.purpose == rule.purpose]
        if rule.state == "unknown":
            return not signals
        if not signals:
            return False
        latest = max(signals, key=lambda s: (s.ts, not s.granted))
        return latest.granted == (rule.state == "granted")
    assert isinstance(rule, EventCondition)
    events = [e for e in p.events if e.name == rule.name]
    if rule.measure == "last_within_days":
        assert rule.within_days is not None
        return any(e.ts >= now - timedelta(days=rule.within_days) for e in events)
    if rule.measure == "first_before":
        assert rule.before is not None
        return any(e.ts < rule.before for e in events)
    if rule.within_days is not None:
        events = [e for e in events if e.ts >= now - timedelta(days=rule.within_days)]
    if rule.measure == "count":
        return all_hold(rule.compare, len(events))
    assert rule.property is not None
    total = sum(n for e in events if (n := _num(e.properties.get(rule.property))) is not None)
    return all_hold(rule.compare, total)


BASE = datetime(2026, 1, 1, tzinfo=UTC)
ATTR_VALUES: list[Any] = ["GB", "FR", "gb", "Great Britain", 30, 41.5, "30", " 12 ", True, False]


def random_people(seed: int, n: int = 80) -> list[Person]:
    rnd = random.Random(seed)
    people = []
    for pid in range(1, n + 1):
        golden: dict[str, Any] = {}
        for name in ("country", "age", "tier"):
            if rnd.random() < 0.75:
                golden[name] = rnd.choice(ATTR_VALUES)
        if rnd.random() < 0.2:
            golden["tags"] = rnd.sample(["vip", "new", 7, "GB"], rnd.randint(0, 3))
        idents = [
            Ident(
                rnd.choice(["email", "device_id", "anonymous_id"]),
                f"v{pid}-{k}",
                BASE + timedelta(days=rnd.randint(-400, 30)),
            )
            for k in range(rnd.randint(1, 4))
        ]
        events = [
            Event(
                rnd.choice(["Order Completed", "Page Viewed"]),
                BASE + timedelta(days=rnd.randint(-200, 30), hours=rnd.randint(0, 23)),
                rnd.choice([{"revenue": rnd.choice([5, 12.5, 100, "20", "n/a"])}, {}]),
            )
            for _ in range(rnd.randint(0, 5))
        ]
        day = BASE + timedelta(days=rnd.randint(-50, 0))
        consent = [
            Signal(
                rnd.choice(["email_marketing", "sms"]),
                rnd.random() < 0.6,
                day if rnd.random() < 0.3 else BASE + timedelta(days=rnd.randint(-100, 0)),
            )
            for _ in range(rnd.randint(0, 3))
        ]
        people.append(Person(pid, golden, idents, events, consent, live=rnd.random() > 0.1))
    return people


def write_store(conn: sqlite3.Connection, people: list[Person]) -> None:
    """The people as rows of an initialized SQLite store (foreign keys respected)."""
    now = iso(BASE)
    ident_id = obs_id = 0
    for p in people:
        golden = {
            k: {"value": v, "source": "t", "timestamp": now, "rule": "most_recent"}
            for k, v in p.golden.items()
        }
        conn.execute(
            "INSERT INTO profiles(id, created, updated, size, merged_into, golden) "
            "VALUES (?, ?, ?, ?, NULL, ?)",
            (p.id, now, now, len(p.identifiers) if p.live else 0, json.dumps(golden)),
        )
        anchors = []
        for i in p.identifiers:
            ident_id += 1
            anchors.append(ident_id)
            conn.execute(
                "INSERT INTO identifiers(id, type, value, first_seen, last_seen, profile_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (ident_id, i.type, i.value, iso(i.first_seen), iso(i.first_seen), p.id),
            )
        for k, e in enumerate(p.events):
            obs_id += 1
            anchor = anchors[k % len(anchors)]
            conn.execute(
                "INSERT INTO observations(id, source, record_key, ts, anchor_id) "
                "VALUES (?, 't', ?, ?, ?)",
                (obs_id, f"o{obs_id}", iso(e.ts), anchor),
            )
            conn.execute(
                "INSERT INTO events(observation_id, anchor_id, name, properties, ts) "
                "VALUES (?, ?, ?, ?, ?)",
                (obs_id, anchor, e.name, json.dumps(e.properties), iso(e.ts)),
            )
        for k, s in enumerate(p.consent):
            obs_id += 1
            anchor = anchors[(k + 1) % len(anchors)]
            conn.execute(
                "INSERT INTO observations(id, source, record_key, ts, anchor_id) "
                "VALUES (?, 't', ?, ?, ?)",
                (obs_id, f"o{obs_id}", iso(s.ts), anchor),
            )
            conn.execute(
                "INSERT INTO consent(observation_id, anchor_id, purpose, granted, source, ts) "
                "VALUES (?, ?, ?, ?, 't', ?)",
                (obs_id, anchor, s.purpose, int(s.granted), iso(s.ts)),
            )
