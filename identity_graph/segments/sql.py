"""The SQL dialect of the segment language (SQLite, JSON1 functions).

Each condition becomes a predicate over one row `p` of `profiles` that is always 0 or 1 (never
NULL), so `not` behaves as in the rule language. Every value, and every attribute or property
name, is a `?` parameter: names travel inside a JSON path parameter (`$."name".value`), never
in the query text. Aggregates over events, identifiers and consent are uncorrelated
`p.id IN (SELECT profile_id ... GROUP BY ...)` subqueries, which SQLite evaluates once per
query; a comparison that zero satisfies (`count lt 2`) becomes `NOT IN` the complement, so
profiles with no events at all are counted as zero, not dropped.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

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
    all_hold,
)

LIVE = "p.merged_into IS NULL AND p.size > 0"
SQL_OPS = {"equals": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


Sql = Fragment  # text with `?` holes
_join = join_params


def attribute_path(name: str) -> str:
    """JSON path of a golden attribute's value; `parse` has refused names with quotes."""
    return f'$."{name}".value'


def property_path(name: str) -> str:
    return f'$."{name}"'


def _num(v: str) -> str:
    """`v` as a number: JSON numbers as they are, numeric text cast, anything else NULL."""
    t = f"trim({v})"
    return (
        f"(CASE WHEN typeof({v}) IN ('integer', 'real') THEN {v} "
        f"WHEN typeof({v}) = 'text' AND {t} <> '' AND {t} NOT GLOB '*[^0-9.+-]*' "
        f"AND {t} GLOB '*[0-9]*' THEN CAST({t} AS REAL) END)"
    )


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _having(expr: str, compare: tuple[Comparison, ...]) -> Sql:
    return Sql(
        " AND ".join(f"{expr} {SQL_OPS[c.op]} ?" for c in compare),
        tuple(c.value for c in compare),
    )


def _membership(select: Sql, aggregate: str, compare: tuple[Comparison, ...]) -> Sql:
    """Profiles whose `aggregate` over the rows of `select` (grouped by profile) satisfies
    `compare`, with profiles that have no rows counted as an aggregate of 0."""
    having = _having(aggregate, compare)
    if all_hold(compare, 0.0):
        return Sql(
            f"p.id NOT IN ({select.text} GROUP BY pid HAVING NOT ({having.text}))",
            select.params + having.params,
        )
    return Sql(
        f"p.id IN ({select.text} GROUP BY pid HAVING {having.text})",
        select.params + having.params,
    )


class SqliteDialect(TextDialect):
    name = "sqlite"

    # -- leaves -----------------------------------------------------------------------------
    def attribute(self, cond: AttributeCondition) -> Sql:
        path = attribute_path(cond.name)
        op, value = cond.op, cond.value
        if op == "equals" and isinstance(value, bool):
            return Sql(
                "coalesce(json_type(p.golden, ?) = ?, 0)", (path, "true" if value else "false")
            )
        if op == "exists":
            test = Sql("v IS NOT NULL" if value else "v IS NULL")
        elif op == "equals":
            test = (
                Sql("CAST(v AS TEXT) = ?", (value,))
                if isinstance(value, str)
                else Sql(f"{_num('v')} = ?", (value,))
            )
        elif op == "in":
            assert isinstance(value, tuple)
            texts = [x for x in value if isinstance(x, str)]
            numbers = [x for x in value if not isinstance(x, str)]
            ors: list[Sql] = []
            if texts:
                ors.append(
                    Sql("CAST(v AS TEXT) IN (SELECT value FROM json_each(?))", (json.dumps(texts),))
                )
            if numbers:
                ors.append(
                    Sql(f"{_num('v')} IN (SELECT value FROM json_each(?))", (json.dumps(numbers),))
                )
            test = Sql("(" + " OR ".join(o.text for o in ors) + ")", _join(ors))
        elif op == "contains":
            assert not isinstance(value, tuple | bool)
            if isinstance(value, str):
                element, needle = Sql("CAST(je.value AS TEXT) = ?", (value,)), value
            else:
                element, needle = Sql(f"{_num('je.value')} = ?", (value,)), _number_text(value)
            test = Sql(
                "CASE WHEN t = 'array' THEN EXISTS (SELECT 1 FROM json_each(v) je WHERE "
                f"{element.text}) WHEN t = 'text' THEN instr(lower(v), lower(?)) > 0 ELSE 0 END",
                element.params + (needle,),
            )
        else:
            sql_op = SQL_OPS[op]
            test = (
                Sql(f"t = 'text' AND v {sql_op} ?", (value,))
                if isinstance(value, str)
                else Sql(f"{_num('v')} {sql_op} ?", (value,))
            )
        return Sql(
            f"coalesce((SELECT {test.text} FROM (SELECT json_extract(p.golden, ?) AS v, "
            "json_type(p.golden, ?) AS t)), 0)",
            test.params + (path, path),
        )

    def identifier(self, cond: IdentifierCondition) -> Sql:
        select = Sql(
            "SELECT profile_id AS pid FROM identifiers WHERE type = ? AND profile_id IS NOT NULL",
            (cond.type,),
        )
        return _membership(select, "count(*)", cond.count)

    def event(self, cond: EventCondition, now: datetime) -> Sql:
        where = "e.name = ? AND i.profile_id IS NOT NULL"
        params: tuple[object, ...] = (cond.name,)
        if cond.measure == "last_within_days":
            assert cond.within_days is not None
            cutoff = iso(now - timedelta(days=cond.within_days))
            return Sql(
                "p.id IN (SELECT i.profile_id FROM events e JOIN identifiers i ON i.id = "
                f"e.anchor_id WHERE {where} AND e.ts >= ?)",
                (*params, cutoff),
            )
        if cond.measure == "first_before":
            assert cond.before is not None
            return Sql(
                "p.id IN (SELECT i.profile_id FROM events e JOIN identifiers i ON i.id = "
                f"e.anchor_id WHERE {where} AND e.ts < ?)",
                (*params, iso(cond.before)),
            )
        if cond.within_days is not None:
            where += " AND e.ts >= ?"
            params += (iso(now - timedelta(days=cond.within_days)),)
        if cond.measure == "count":
            select = Sql(
                "SELECT i.profile_id AS pid FROM events e JOIN identifiers i ON i.id = "
                f"e.anchor_id WHERE {where}",
                params,
            )
            return _membership(select, "count(*)", cond.compare)
        assert cond.property is not None
        select = Sql(
            "SELECT pid FROM (SELECT i.profile_id AS pid, json_extract(e.properties, ?) AS x "
            f"FROM events e JOIN identifiers i ON i.id = e.anchor_id WHERE {where})",
            (property_path(cond.property), *params),
        )
        return _membership(select, f"coalesce(sum({_num('x')}), 0)", cond.compare)

    def consent(self, cond: ConsentCondition) -> Sql:
        signals = (
            "SELECT i.profile_id AS pid, c.granted AS granted, c.ts AS ts FROM consent c "
            "JOIN identifiers i ON i.id = c.anchor_id "
            "WHERE c.purpose = ? AND i.profile_id IS NOT NULL"
        )
        if cond.state == "unknown":
            return Sql(f"p.id NOT IN (SELECT pid FROM ({signals}))", (cond.purpose,))
        # The latest signal wins; at the same instant a denial wins (see docs/segments.md).
        latest = (
            "SELECT pid, granted, row_number() OVER (PARTITION BY pid ORDER BY ts DESC, "
            f"granted ASC) AS rn FROM ({signals})"
        )
        return Sql(
            f"p.id IN (SELECT pid FROM ({latest}) WHERE rn = 1 AND granted = ?)",
            (cond.purpose, 1 if cond.state == "granted" else 0),
        )

    def size(self, cond: SizeCondition) -> Sql:
        having = _having("p.size", cond.compare)
        return Sql(f"({having.text})", having.params)

    def first_seen(self, cond: FirstSeenCondition) -> Sql:
        return Sql(
            "p.id IN (SELECT profile_id FROM identifiers WHERE first_seen < ? "
            "AND profile_id IS NOT NULL)",
            (iso(cond.before),),
        )

    # -- queries ----------------------------------------------------------------------------
    def count(self, rule: Condition, now: datetime) -> Query:
        pred = self.compile_predicate(rule, now)
        return Query(f"SELECT count(*) FROM profiles p WHERE {LIVE} AND {pred.text}", pred.params)

    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> Query:
        pred = self.compile_predicate(rule, now)
        return Query(
            f"SELECT p.id FROM profiles p WHERE {LIVE} AND p.id > ? AND {pred.text} "
            "ORDER BY p.id LIMIT ?",
            (after if after is not None else 0, *pred.params, -1 if limit is None else limit),
        )
