"""The segment rule language as data: a tree of conditions. Pure, no I/O.

    Rule      := Condition
    Condition := All | AnyOf | Not
               | AttributeCondition | IdentifierCondition | EventCondition
               | ConsentCondition | SizeCondition | FirstSeenCondition

`parse.py` builds the tree from JSON (and reports where a rule is wrong); a `Dialect`
(`dialect.py`, `sql.py`) compiles it into one store query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Scalar = str | int | float | bool
CompareOp = Literal["equals", "gt", "gte", "lt", "lte"]
AttributeOp = Literal["equals", "in", "contains", "gt", "gte", "lt", "lte", "exists"]
EventMeasure = Literal["count", "sum", "last_within_days", "first_before"]
ConsentState = Literal["granted", "denied", "unknown"]

COMPARE_OPS: tuple[CompareOp, ...] = ("equals", "gt", "gte", "lt", "lte")
ATTRIBUTE_OPS: tuple[AttributeOp, ...] = (
    "equals",
    "in",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`<measure> <op> value`, e.g. count gte 3."""

    op: CompareOp
    value: float

    def holds(self, measured: float) -> bool:
        if self.op == "equals":
            return measured == self.value
        if self.op == "gt":
            return measured > self.value
        if self.op == "gte":
            return measured >= self.value
        if self.op == "lt":
            return measured < self.value
        return measured <= self.value


def all_hold(comparisons: tuple[Comparison, ...], measured: float) -> bool:
    return all(c.holds(measured) for c in comparisons)


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """A golden attribute: `{"attribute": "country", "equals": "GB"}`."""

    name: str
    op: AttributeOp
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class IdentifierCondition:
    """How many identifiers of a type the profile holds: `{"identifier": "email"}`."""

    type: str
    count: tuple[Comparison, ...]


@dataclass(frozen=True, slots=True)
class EventCondition:
    """An aggregate of the profile's behavioural events with one name.

    count / sum: comparisons over the events since `within_days` (all events without it);
    last_within_days: an event in the last `days`; first_before: an event before `before`.
    """

    name: str
    measure: EventMeasure
    compare: tuple[Comparison, ...] = ()
    property: str | None = None
    within_days: float | None = None
    before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsentCondition:
    """The latest consent signal for a purpose across the profile's identifiers."""

    purpose: str
    state: ConsentState = "granted"


@dataclass(frozen=True, slots=True)
class SizeCondition:
    """Number of identifiers in the profile."""

    compare: tuple[Comparison, ...]


@dataclass(frozen=True, slots=True)
class FirstSeenCondition:
    """The profile's earliest identifier was first seen before `before`."""

    before: datetime


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition


Condition = (
    All
    | AnyOf
    | Not
    | AttributeCondition
    | IdentifierCondition
    | EventCondition
    | ConsentCondition
    | SizeCondition
    | FirstSeenCondition
)


def with_consent(rule: Condition, purpose: str) -> Condition:
    """`rule` restricted to profiles whose latest signal for `purpose` grants it."""
    return All((rule, ConsentCondition(purpose, "granted")))
