"""Parse and validate a segment rule (JSON, or YAML with PyYAML installed) into the model.

Every error names the offending part of the rule by its path, e.g.
`rule.all[2].attribute: unknown operator 'equalz' (did you mean 'equals'?)`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from identity_graph.config import TYPE_NAME
from identity_graph.errors import InputError
from identity_graph.segments.model import (
    ATTRIBUTE_OPS,
    COMPARE_OPS,
    All,
    AnyOf,
    AttributeCondition,
    AttributeOp,
    CompareOp,
    Comparison,
    Condition,
    ConsentCondition,
    ConsentState,
    EventCondition,
    FirstSeenCondition,
    IdentifierCondition,
    Not,
    Scalar,
    SizeCondition,
)

KINDS = (
    "all",
    "any",
    "not",
    "attribute",
    "identifier",
    "event",
    "consent",
    "size",
    "first_seen_before",
)
CONSENT_STATES: tuple[ConsentState, ...] = ("granted", "denied", "unknown")
EVENT_MEASURES = ("count", "sum", "last_within_days", "first_before")
MAX_DEPTH = 16
MAX_CONDITIONS = 200
MAX_IN_VALUES = 10_000
MAX_NAME = 200
PURPOSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


class RuleError(InputError):
    """An invalid segment rule; `field` is the path of the offending part."""

    def describe(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _fail(path: str, message: str) -> RuleError:
    return RuleError(message, field=path)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"expected a number, got {json.dumps(value)[:60]}")
    if not math.isfinite(value):
        raise _fail(path, "expected a finite number")
    return float(value)


def _positive(value: Any, path: str) -> float:
    number = _number(value, path)
    if number <= 0:
        raise _fail(path, f"must be greater than 0, got {json.dumps(value)}")
    return number


def _name(value: Any, path: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"expected {what} (a non-empty string)")
    if len(value) > MAX_NAME:
        raise _fail(path, f"{what} longer than {MAX_NAME} characters")
    if '"' in value or any(ord(c) < 32 for c in value):
        raise _fail(path, f"{what} must not contain double quotes or control characters")
    return value


def parse_date(value: Any, path: str) -> datetime:
    """An ISO 8601 date (`2025-01-01`, midnight UTC) or timestamp; naive means UTC."""
    if not isinstance(value, str):
        raise _fail(path, 'expected an ISO 8601 date such as "2025-01-01"')
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise _fail(path, f"not an ISO 8601 date: {value[:40]!r}") from e
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _comparisons(value: Any, path: str) -> tuple[Comparison, ...]:
    if not isinstance(value, Mapping) or not value:
        raise _fail(path, f'expected a comparison such as {{"gte": 2}} using {COMPARE_OPS}')
    result = []
    for op, operand in value.items():
        if op not in COMPARE_OPS:
            raise _fail(path, f"unknown comparison {op!r}{_suggest(op, COMPARE_OPS)}")
        result.append(Comparison(cast(CompareOp, op), _number(operand, f"{path}.{op}")))
    return tuple(result)


def _only(raw: Mapping[str, Any], path: str, allowed: Iterable[str], kind: str) -> None:
    allowed = set(allowed)
    for key in raw:
        if key not in allowed:
            raise _fail(f"{path}.{kind}", f"unknown key {key!r}{_suggest(key, allowed)}")


class _Parser:
    def __init__(self) -> None:
        self.conditions = 0

    def condition(self, raw: Any, path: str, depth: int) -> Condition:
        if depth > MAX_DEPTH:
            raise _fail(path, f"rule nested deeper than {MAX_DEPTH} levels")
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise _fail(path, f"rule has more than {MAX_CONDITIONS} conditions")
        if not isinstance(raw, Mapping):
            raise _fail(path, f"expected a condition object with one of: {', '.join(KINDS)}")
        kinds = [k for k in raw if k in KINDS]
        if not kinds:
            unknown = next(iter(raw), None)
            hint = f": unknown key {unknown!r}{_suggest(unknown, KINDS)}" if unknown else ""
            raise _fail(path, f"expected one of {', '.join(KINDS)}{hint}")
        if len(kinds) > 1:
            raise _fail(
                path,
                f"one condition per object, got {kinds[0]!r} and {kinds[1]!r}; "
                "combine them with all or any",
            )
        kind = kinds[0]
        if kind in ("all", "any"):
            _only(raw, path, [kind], kind)
            parts = raw[kind]
            if not isinstance(parts, list) or not parts:
                raise _fail(f"{path}.{kind}", "expected a non-empty list of conditions")
            conds = tuple(
                self.condition(p, f"{path}.{kind}[{i}]", depth + 1) for i, p in enumerate(parts)
            )
            return All(conds) if kind == "all" else AnyOf(conds)
        if kind == "not":
            _only(raw, path, ["not"], kind)
            return Not(self.condition(raw["not"], f"{path}.not", depth + 1))
        leaf: Callable[[Mapping[str, Any], str], Condition] = getattr(self, kind)
        return leaf(raw, path)

    def attribute(self, raw: Mapping[str, Any], path: str) -> Condition:
        name = _name(raw["attribute"], f"{path}.attribute", "an attribute name")
        ops = [k for k in raw if k != "attribute"]
        for op in ops:
            if op not in ATTRIBUTE_OPS:
                raise _fail(
                    f"{path}.attribute", f"unknown operator {op!r}{_suggest(op, ATTRIBUTE_OPS)}"
                )
        if not ops:
            raise _fail(f"{path}.attribute", f"needs one operator: {', '.join(ATTRIBUTE_OPS)}")
        if len(ops) > 1:
            raise _fail(
                f"{path}.attribute",
                f"one operator per condition, got {ops[0]!r} and {ops[1]!r}; "
                "combine two conditions with all",
            )
        op = cast(AttributeOp, ops[0])
        value = raw[op]
        where = f"{path}.{op}"
        operand: Scalar | tuple[Scalar, ...]
        if op == "exists":
            if not isinstance(value, bool):
                raise _fail(where, "expected true or false")
            operand = value
        elif op == "in":
            if not isinstance(value, list) or not value:
                raise _fail(where, "expected a non-empty list of strings or numbers")
            if len(value) > MAX_IN_VALUES:
                raise _fail(where, f"more than {MAX_IN_VALUES} values")
            items: list[Scalar] = []
            for i, item in enumerate(value):
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    raise _fail(f"{where}[{i}]", "expected a string or a number")
                items.append(item if isinstance(item, str) else _number(item, f"{where}[{i}]"))
            operand = tuple(items)
        elif op == "equals":
            if not isinstance(value, str | int | float | bool):
                raise _fail(where, "expected a string, number or boolean (use exists for null)")
            operand = value if isinstance(value, str | bool) else _number(value, where)
        elif op == "contains":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _fail(where, "expected a string or a number")
            operand = value if isinstance(value, str) else _number(value, where)
        else:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _fail(where, "expected a number (or a string, compared as text)")
            operand = value if isinstance(value, str) else _number(value, where)
        return AttributeCondition(name, op, operand)

    def identifier(self, raw: Mapping[str, Any], path: str) -> Condition:
        _only(raw, path, ["identifier", "at_least", "count"], "identifier")
        type_ = raw["identifier"]
        if not isinstance(type_, str) or not TYPE_NAME.match(type_):
            raise _fail(f"{path}.identifier", 'expected an identifier type such as "email"')
        if "at_least" in raw and "count" in raw:
            raise _fail(f"{path}.identifier", "use at_least or count, not both")
        if "count" in raw:
            return IdentifierCondition(type_, _comparisons(raw["count"], f"{path}.count"))
        at_least = raw.get("at_least", 1)
        if isinstance(at_least, bool) or not isinstance(at_least, int) or at_least < 1:
            raise _fail(f"{path}.at_least", "expected a whole number of at least 1")
        return IdentifierCondition(type_, (Comparison("gte", float(at_least)),))

    def event(self, raw: Mapping[str, Any], path: str) -> Condition:
        allowed = ["event", "within_days", *EVENT_MEASURES]
        _only(raw, path, allowed, "event")
        name = _name(raw["event"], f"{path}.event", "an event name")
        measures = [m for m in EVENT_MEASURES if m in raw]
        if len(measures) > 1:
            raise _fail(
                f"{path}.event",
                f"one measure per condition, got {measures[0]!r} and {measures[1]!r}",
            )
        within = None
        if "within_days" in raw:
            within = _positive(raw["within_days"], f"{path}.within_days")
        measure = measures[0] if measures else "count"
        if measure in ("last_within_days", "first_before") and within is not None:
            raise _fail(f"{path}.within_days", f"does not go with {measure}")
        if measure == "last_within_days":
            days = _positive(raw[measure], f"{path}.{measure}")
            return EventCondition(name, "last_within_days", within_days=days)
        if measure == "first_before":
            before = parse_date(raw[measure], f"{path}.{measure}")
            return EventCondition(name, "first_before", before=before)
        if measure == "sum":
            spec = raw["sum"]
            where = f"{path}.sum"
            if not isinstance(spec, Mapping) or "property" not in spec:
                raise _fail(where, 'expected {"property": NAME, "gte": N, ...}')
            prop = _name(spec["property"], f"{where}.property", "a property name")
            rest = {k: v for k, v in spec.items() if k != "property"}
            return EventCondition(
                name, "sum", _comparisons(rest, where), property=prop, within_days=within
            )
        compare = (
            _comparisons(raw["count"], f"{path}.count")
            if "count" in raw
            else (Comparison("gte", 1.0),)
        )
        return EventCondition(name, "count", compare, within_days=within)

    def consent(self, raw: Mapping[str, Any], path: str) -> Condition:
        _only(raw, path, ["consent", "is"], "consent")
        purpose = raw["consent"]
        if not isinstance(purpose, str) or not PURPOSE.match(purpose):
            raise _fail(f"{path}.consent", 'expected a purpose such as "email_marketing"')
        state = raw.get("is", "granted")
        if state not in CONSENT_STATES:
            hint = _suggest(state, CONSENT_STATES) if isinstance(state, str) else ""
            raise _fail(f"{path}.is", f"expected one of {', '.join(CONSENT_STATES)}{hint}")
        return ConsentCondition(purpose, cast(ConsentState, state))

    def size(self, raw: Mapping[str, Any], path: str) -> Condition:
        _only(raw, path, ["size"], "size")
        return SizeCondition(_comparisons(raw["size"], f"{path}.size"))

    def first_seen_before(self, raw: Mapping[str, Any], path: str) -> Condition:
        _only(raw, path, ["first_seen_before"], "first_seen_before")
        return FirstSeenCondition(parse_date(raw["first_seen_before"], f"{path}.first_seen_before"))


def parse_rule(raw: Any) -> Condition:
    """The rule tree of a decoded JSON rule; raises `RuleError` naming the offending part."""
    return _Parser().condition(raw, "rule", 0)


def _plain(data: Any) -> Any:
    """YAML reads unquoted dates as date objects; the language (and JSON) wants ISO text."""
    if isinstance(data, date):
        return data.isoformat()
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def decode_rule_text(text: str, origin: str, *, yaml: bool = False) -> Any:
    """JSON text (or YAML when `yaml`) to plain data; errors name the origin and position."""
    if yaml:
        try:
            import yaml as pyyaml
        except ImportError as e:
            raise InputError(f"{origin}: YAML rules need PyYAML (pip install pyyaml)") from e
        try:
            return _plain(pyyaml.safe_load(text))
        except pyyaml.YAMLError as e:
            raise InputError(f"{origin}: invalid YAML: {e}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"{origin}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from e


def load_rule_file(path: Path) -> Any:
    """A rule file as plain data (validate it with `parse_rule`). `.yaml`/`.yml` is YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(f"rule file not found: {path}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read rule file {path}: {e}") from e
    return decode_rule_text(text, str(path), yaml=path.suffix.lower() in (".yaml", ".yml"))
