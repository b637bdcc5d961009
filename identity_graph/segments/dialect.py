"""The small interface between the segment language and a store's query language.

A `Dialect` turns a rule tree into ONE query of its store (SQL for SQLite today; a Cypher
dialect can implement the same methods). It never runs the query: the store does, so the
compiler stays pure and testable without a database. Values always travel as parameters.

`compile_predicate` walks the tree and calls one method per kind of condition; a dialect
implements those plus the three query shapes the surfaces need (count, a page of members
ordered by profile id, and a sample).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

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
)

F = TypeVar("F")  # the dialect's predicate fragment


@dataclass(frozen=True, slots=True)
class Query:
    """Query text with placeholders and its parameters, in the store's own conventions."""

    text: str
    params: tuple[object, ...]


class Dialect(ABC, Generic[F]):
    name: str = "abstract"

    def compile_predicate(self, cond: Condition, now: datetime) -> F:
        """The predicate of `cond` for one profile, evaluated relative to `now`."""
        if isinstance(cond, All):
            return self.all_of([self.compile_predicate(c, now) for c in cond.parts])
        if isinstance(cond, AnyOf):
            return self.any_of([self.compile_predicate(c, now) for c in cond.parts])
        if isinstance(cond, Not):
            return self.negate(self.compile_predicate(cond.part, now))
        if isinstance(cond, AttributeCondition):
            return self.attribute(cond)
        if isinstance(cond, IdentifierCondition):
            return self.identifier(cond)
        if isinstance(cond, EventCondition):
            return self.event(cond, now)
        if isinstance(cond, ConsentCondition):
            return self.consent(cond)
        if isinstance(cond, SizeCondition):
            return self.size(cond)
        return self.first_seen(cond)

    # -- one method per kind of condition -------------------------------------------------
    @abstractmethod
    def all_of(self, parts: list[F]) -> F: ...

    @abstractmethod
    def any_of(self, parts: list[F]) -> F: ...

    @abstractmethod
    def negate(self, part: F) -> F: ...

    @abstractmethod
    def attribute(self, cond: AttributeCondition) -> F: ...

    @abstractmethod
    def identifier(self, cond: IdentifierCondition) -> F: ...

    @abstractmethod
    def event(self, cond: EventCondition, now: datetime) -> F: ...

    @abstractmethod
    def consent(self, cond: ConsentCondition) -> F: ...

    @abstractmethod
    def size(self, cond: SizeCondition) -> F: ...

    @abstractmethod
    def first_seen(self, cond: FirstSeenCondition) -> F: ...

    # -- the query shapes -------------------------------------------------------------------
    @abstractmethod
    def count(self, rule: Condition, now: datetime) -> Query:
        """One row, one column: how many live profiles match."""

    @abstractmethod
    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> Query:
        """Ids of matching live profiles greater than `after`, ascending, at most `limit`
        (None: all of them, which is how an export reads a segment in one query)."""


@dataclass(frozen=True, slots=True)
class Fragment:
    """A predicate fragment: text with positional holes and its parameters in text order."""

    text: str
    params: tuple[object, ...] = ()


def join_params(parts: list[Fragment]) -> tuple[object, ...]:
    return tuple(x for p in parts for x in p.params)


class TextDialect(Dialect[Fragment]):
    """A dialect whose predicates are text fragments. AND / OR / NOT read the same in SQL and
    Cypher, so the combinators live here once."""

    def all_of(self, parts: list[Fragment]) -> Fragment:
        return Fragment("(" + " AND ".join(p.text for p in parts) + ")", join_params(parts))

    def any_of(self, parts: list[Fragment]) -> Fragment:
        return Fragment("(" + " OR ".join(p.text for p in parts) + ")", join_params(parts))

    def negate(self, part: Fragment) -> Fragment:
        return Fragment(f"(NOT {part.text})", part.params)
