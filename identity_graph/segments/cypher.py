"""The Cypher dialect of the segment language (Neo4j 5, no plugins).

Each condition becomes a boolean expression over one `(p:Profile)` that is never null, so
`not` behaves as in the rule language. Every value, and every attribute or property name, is a
parameter (`$p0`, `$p1`, ... numbered in text order); the query text holds only the shape of
the rule. Aggregates are subquery expressions correlated on `p` (`COUNT { }`, `EXISTS { }`,
`COLLECT { }`); a comparison is applied to a one-element list (`all(n IN [COUNT {...}] WHERE
n >= $p1 AND n < $p2)`) so the aggregate is computed once, and a profile without events counts
as 0 because `COUNT { }` of nothing is 0.

Golden values and event properties are JSON text on the graph, and Cypher 5 cannot parse JSON
without APOC. So the store writes, next to the JSON, the facts a rule can test, computed in
Python with the same rules as the SQL dialect (`golden_facts`, `event_numbers`):

    (:Profile)-[:HAS_GOLDEN]->(:Golden {name, kind, text, num, items_text, items_num})
    (:Event {..., num_names, num_values})      numeric properties as two parallel lists

`kind` is SQLite's `json_type` of the value (text, integer, real, true, false, array, object),
`text` is the value as SQLite's `CAST(... AS TEXT)` gives it, `num` the value as a number (JSON
numbers, booleans as 1/0, numeric text; absent otherwise); for arrays `items_text` / `items_num`
hold the elements the same way. Null values get no Golden node (a null matches only `exists:
false`, as in SQL).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from identity_graph.models import iso
from identity_graph.segments.dialect import Fragment, Query, TextDialect, join_params
from identity_graph.segments.model import (
    AttributeCondition,
    Comparison,
    Condition,
    ConsentCondition,
    EventCondition,
    FirstSeenCondition,
    IdentifierCondition,
    SizeCondition,
)
from identity_graph.segments.sql import _number_text

HOLE = "$?"  # a parameter placeholder in a fragment; numbered when the query is finished
LIVE = "p.created IS NOT NULL AND p.merged_into IS NULL AND p.size > 0"
OPS = {"equals": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
MEMBERS = "(p)<-[:IN_PROFILE]-(i:Identifier)"
EVENTS = "(p)<-[:IN_PROFILE]-(:Identifier)<-[:ANCHORED_AT]-(:Observation)-[:HAS_EVENT]->(e:Event)"
CONSENT = (
    "(p)<-[:IN_PROFILE]-(:Identifier)<-[:ANCHORED_AT]-(:Observation)-[:HAS_CONSENT]->(c:Consent)"
)
GOLDEN = "(p)-[:HAS_GOLDEN]->(g:Golden)"
_NUMERIC_TEXT = re.compile(r"[0-9.+-]*")
_NUMBER_PREFIX = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


# -- the facts the store writes next to the JSON ----------------------------------------------
def value_kind(v: Any) -> str:
    """SQLite's `json_type` of a JSON value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "real"
    if isinstance(v, str):
        return "text"
    if isinstance(v, list):
        return "array"
    return "object"


def value_text(v: Any) -> str | None:
    """The value as SQLite's `CAST(json_extract(...) AS TEXT)` gives it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list | dict):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return str(v)


def value_number(v: Any) -> float | None:
    """The value as the SQL dialect's `_num` reads it: JSON numbers (booleans are 1 and 0 in
    SQLite), and text made only of digits, '.', '+', '-' with at least one digit (cast like
    SQLite: the longest numeric prefix); anything else None."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if not isinstance(v, str):
        return None
    t = v.strip(" ")
    if not t or not _NUMERIC_TEXT.fullmatch(t) or not any(ch.isdigit() for ch in t):
        return None
    prefix = _NUMBER_PREFIX.match(t)
    return float(prefix.group(0)) if prefix else 0.0


def golden_facts(golden: dict[str, Any]) -> list[dict[str, Any]]:
    """One Golden node's properties per non-null golden value (`{name: value}`)."""
    facts = []
    for name, value in golden.items():
        if value is None:
            continue
        items = value if isinstance(value, list) else []
        facts.append(
            {
                "name": name,
                "kind": value_kind(value),
                "text": value_text(value),
                "num": value_number(value),
                "items_text": [t for t in map(value_text, items) if t is not None],
                "items_num": [n for n in map(value_number, items) if n is not None],
            }
        )
    return facts


def event_numbers(properties: dict[str, Any]) -> tuple[list[str], list[float]]:
    """(names, values) of an event's properties that read as numbers, in the same order."""
    pairs = [(k, value_number(v)) for k, v in properties.items()]
    kept = [(k, n) for k, n in pairs if n is not None]
    return [k for k, _ in kept], [n for _, n in kept]


# -- fragments ----------------------------------------------------------------------------------
Cy = Fragment  # text with `$?` holes


_join = join_params


def _compare(measure: Cy, compare: tuple[Comparison, ...]) -> Cy:
    """`measure` (computed once) satisfies every comparison."""
    tests = " AND ".join(f"n {OPS[c.op]} {HOLE}" for c in compare)
    return Cy(
        f"all(n IN [{measure.text}] WHERE {tests})",
        measure.params + tuple(c.value for c in compare),
    )


def finish(text: str, params: tuple[object, ...]) -> Query:
    """Number the holes `$p0`, `$p1`, ... in text order."""
    pieces = text.split(HOLE)
    assert len(pieces) == len(params) + 1, "one parameter per hole"
    out = [pieces[0]]
    for i, piece in enumerate(pieces[1:]):
        out.append(f"$p{i}{piece}")
    return Query("".join(out), params)


def parameters(query: Query) -> dict[str, object]:
    """The parameter map of a query this dialect compiled."""
    return {f"p{i}": v for i, v in enumerate(query.params)}


class CypherDialect(TextDialect):
    name = "cypher"

    # -- leaves -----------------------------------------------------------------------------
    def attribute(self, cond: AttributeCondition) -> Cy:
        op, value = cond.op, cond.value
        if op == "exists":
            found = Cy(f"EXISTS {{ MATCH {GOLDEN} WHERE g.name = {HOLE} }}", (cond.name,))
            return found if value else self.negate(found)
        if op == "equals" and isinstance(value, bool):
            test = Cy(f"g.kind = {HOLE}", ("true" if value else "false",))
        elif op == "equals":
            test = (
                Cy(f"g.text = {HOLE}", (value,))
                if isinstance(value, str)
                else Cy(f"g.num = {HOLE}", (value,))
            )
        elif op == "in":
            assert isinstance(value, tuple)
            texts = [x for x in value if isinstance(x, str)]
            numbers = [float(x) for x in value if not isinstance(x, str)]
            ors: list[Cy] = []
            if texts:
                ors.append(Cy(f"g.text IN {HOLE}", (texts,)))
            if numbers:
                ors.append(Cy(f"g.num IN {HOLE}", (numbers,)))
            test = Cy("(" + " OR ".join(o.text for o in ors) + ")", _join(ors))
        elif op == "contains":
            assert not isinstance(value, tuple | bool)
            if isinstance(value, str):
                element, needle = Cy(f"{HOLE} IN g.items_text", (value,)), value
            else:
                element, needle = Cy(f"{HOLE} IN g.items_num", (value,)), _number_text(value)
            test = Cy(
                f"((g.kind = 'array' AND {element.text}) OR "
                f"(g.kind = 'text' AND toLower(g.text) CONTAINS toLower({HOLE})))",
                element.params + (needle,),
            )
        else:
            test = (
                Cy(f"g.kind = 'text' AND g.text {OPS[op]} {HOLE}", (value,))
                if isinstance(value, str)
                else Cy(f"g.num {OPS[op]} {HOLE}", (value,))
            )
        return Cy(
            f"EXISTS {{ MATCH {GOLDEN} WHERE g.name = {HOLE} AND {test.text} }}",
            (cond.name, *test.params),
        )

    def identifier(self, cond: IdentifierCondition) -> Cy:
        count = Cy(f"COUNT {{ MATCH {MEMBERS} WHERE i.type = {HOLE} }}", (cond.type,))
        return _compare(count, cond.count)

    def event(self, cond: EventCondition, now: datetime) -> Cy:
        where = f"e.name = {HOLE}"
        params: tuple[object, ...] = (cond.name,)
        if cond.measure == "last_within_days":
            assert cond.within_days is not None
            cutoff = iso(now - timedelta(days=cond.within_days))
            return Cy(
                f"EXISTS {{ MATCH {EVENTS} WHERE {where} AND e.ts >= {HOLE} }}",
                (*params, cutoff),
            )
        if cond.measure == "first_before":
            assert cond.before is not None
            return Cy(
                f"EXISTS {{ MATCH {EVENTS} WHERE {where} AND e.ts < {HOLE} }}",
                (*params, iso(cond.before)),
            )
        if cond.within_days is not None:
            where += f" AND e.ts >= {HOLE}"
            params += (iso(now - timedelta(days=cond.within_days)),)
        if cond.measure == "count":
            return _compare(Cy(f"COUNT {{ MATCH {EVENTS} WHERE {where} }}", params), cond.compare)
        assert cond.property is not None
        total = Cy(
            f"reduce(s = 0.0, x IN COLLECT {{ MATCH {EVENTS} WHERE {where} "
            "UNWIND [k IN range(0, size(coalesce(e.num_names, [])) - 1) "
            f"WHERE e.num_names[k] = {HOLE} | e.num_values[k]] AS v RETURN v }} | s + x)",
            (*params, cond.property),
        )
        return _compare(total, cond.compare)

    def consent(self, cond: ConsentCondition) -> Cy:
        if cond.state == "unknown":
            return Cy(f"NOT EXISTS {{ MATCH {CONSENT} WHERE c.purpose = {HOLE} }}", (cond.purpose,))
        # The latest signal wins; at the same instant a denial wins (false sorts first).
        latest = (
            f"head(COLLECT {{ MATCH {CONSENT} WHERE c.purpose = {HOLE} "
            "WITH c ORDER BY c.ts DESC, c.granted ASC LIMIT 1 RETURN c.granted })"
        )
        return Cy(
            f"coalesce({latest} = {HOLE}, false)",
            (cond.purpose, cond.state == "granted"),
        )

    def size(self, cond: SizeCondition) -> Cy:
        tests = " AND ".join(f"p.size {OPS[c.op]} {HOLE}" for c in cond.compare)
        return Cy(f"({tests})", tuple(c.value for c in cond.compare))

    def first_seen(self, cond: FirstSeenCondition) -> Cy:
        return Cy(f"EXISTS {{ MATCH {MEMBERS} WHERE i.first_seen < {HOLE} }}", (iso(cond.before),))

    # -- queries ----------------------------------------------------------------------------
    def count(self, rule: Condition, now: datetime) -> Query:
        pred = self.compile_predicate(rule, now)
        return finish(
            f"MATCH (p:Profile)\nWHERE {LIVE}\n  AND {pred.text}\nRETURN count(p) AS n",
            pred.params,
        )

    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> Query:
        pred = self.compile_predicate(rule, now)
        text = (
            f"MATCH (p:Profile)\nWHERE {LIVE} AND p.id > {HOLE}\n  AND {pred.text}\n"
            "RETURN p.id AS id\nORDER BY id"
        )
        params: tuple[object, ...] = (after if after is not None else 0, *pred.params)
        if limit is not None:
            text += f"\nLIMIT {HOLE}"
            params += (limit,)
        return finish(text, params)
