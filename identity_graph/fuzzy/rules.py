"""Fuzzy match rules: parsed from a rules TOML file (`--rules FILE`) or a `[fuzzy]` table.

```toml
[[fuzzy.rules]]                    # in a rules file the `fuzzy.` prefix is optional
name = "person"
record_types = ["source_a_id", "source_b_id"]   # or ["*"]: any record type
link_threshold = 0.9              # probability >= this: a link
review_threshold = 0.6            # [review_threshold, link_threshold): a review item
required = ["first_name", "dob"]  # mandatory evidence: none of these may disagree
blocking = [["last_name[:3]", "dob_year"], ["postcode", "first_name[:1]"]]

[[fuzzy.rules.fields]]
attribute = "first_name"
comparison = "jaro_winkler"       # exact | jaro_winkler | levenshtein | token_set | date |
                                  # numeric | phonetic
normalize = ["case", "accents", "punctuation", "whitespace", "nicknames"]
swap_with = "last_name"           # also agree when first and last name were swapped
levels = [0.92, 0.8]              # similarity cut-offs of the agreement levels, high to low
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identity_graph.errors import ConfigError

COMPARISONS = (
    "exact",
    "jaro_winkler",
    "levenshtein",
    "token_set",
    "date",
    "numeric",
    "phonetic",
)
NORMALIZATIONS = (
    "case",
    "accents",
    "punctuation",
    "whitespace",
    "nicknames",
    "address",
    "date",
    "digits",
    "nospace",
)
DEFAULT_LEVELS: dict[str, tuple[float, ...]] = {
    "exact": (),
    "jaro_winkler": (0.92, 0.8),
    "levenshtein": (0.9, 0.75),
    "token_set": (0.9, 0.75),
    "date": (),
    "numeric": (),
    "phonetic": (),
}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
BLOCK_EXPR = re.compile(
    r"^(?:(?P<fn>phonetic)\((?P<fattr>[a-z][a-z0-9_]*)\)"
    r"|(?P<attr>[a-z][a-z0-9_]*?)(?P<year>_year)?(?:\[:(?P<n>[1-9][0-9]?)\])?)$"
)


@dataclass(frozen=True)
class FieldRule:
    """One compared attribute: its comparison, normalization and agreement levels."""

    attribute: str
    comparison: str
    normalize: tuple[str, ...] = ("case", "accents", "punctuation", "whitespace")
    levels: tuple[float, ...] = ()
    swap_with: str | None = None
    tolerance: float = 1.0  # numeric: |a - b| <= tolerance is the partial level

    @property
    def level_count(self) -> int:
        """Agreement levels 0 (disagree) .. level_count - 1 (exact); -1 is "missing"."""
        if self.comparison in ("jaro_winkler", "levenshtein", "token_set"):
            return len(self.levels) + 2
        if self.comparison == "date":
            return 4  # 0 differ, 1 same year & one digit off, 2 day/month swapped, 3 equal
        if self.comparison == "numeric":
            return 3  # 0 differ, 1 within tolerance, 2 equal
        return 2


@dataclass(frozen=True)
class BlockPart:
    """One part of a blocking key: an attribute's normalized value, prefix, year or phonetic."""

    attribute: str
    prefix: int | None = None
    year: bool = False
    phonetic: bool = False
    text: str = ""


@dataclass(frozen=True)
class MatchRule:
    name: str
    fields: tuple[FieldRule, ...]
    blocking: tuple[tuple[BlockPart, ...], ...]
    record_types: tuple[str, ...] | None = None  # None: any record type
    link_threshold: float = 0.9
    review_threshold: float = 0.6
    required: tuple[str, ...] = ()
    max_block_size: int = 1000  # larger blocks are skipped and reported
    random_pairs: int = 200_000  # pairs sampled to estimate u
    em_iterations: int = 25

    @property
    def link_rule(self) -> str:
        return f"fuzzy:{self.name}"

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute read from the store: compared, swapped with, or blocked on."""
        names: list[str] = []
        for f in self.fields:
            for a in (f.attribute, f.swap_with):
                if a and a not in names:
                    names.append(a)
        for key in self.blocking:
            for part in key:
                if part.attribute not in names:
                    names.append(part.attribute)
        return tuple(names)

    def field(self, attribute: str) -> FieldRule | None:
        return next((f for f in self.fields if f.attribute == attribute), None)

    def applies_to(self, record_type: str) -> bool:
        return self.record_types is None or record_type in self.record_types


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[MatchRule, ...] = ()
    nicknames: dict[str, str] = field(default_factory=dict)  # extra nickname -> canonical


def _req(raw: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in raw:
        raise ConfigError(f"{where}: missing {key!r}")
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where}.{key}: expected {kind.__name__}")
    return value


def _unit(raw: dict[str, Any], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{where}.{key}: expected a number in [0, 1]")
    return float(value)


def parse_block_part(text: str, where: str) -> BlockPart:
    m = BLOCK_EXPR.match(text.strip())
    if not m:
        raise ConfigError(
            f"{where}: bad blocking key {text!r} "
            "(expected attr, attr[:n], attr_year or phonetic(attr))"
        )
    if m.group("fn"):
        return BlockPart(m.group("fattr"), phonetic=True, text=text)
    n = m.group("n")
    return BlockPart(
        m.group("attr"), prefix=int(n) if n else None, year=bool(m.group("year")), text=text
    )


def parse_field(raw: Any, where: str) -> FieldRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    attribute = _req(raw, "attribute", str, where)
    comparison = _req(raw, "comparison", str, where)
    if comparison not in COMPARISONS:
        raise ConfigError(f"{where}.comparison: {comparison!r} not in {COMPARISONS}")
    default_norm: tuple[str, ...] = ("case", "accents", "punctuation", "whitespace")
    if comparison == "date":
        default_norm = ("date",)
    elif comparison == "numeric":
        default_norm = ("digits",)
    norm = raw.get("normalize", list(default_norm))
    if not isinstance(norm, list) or any(n not in NORMALIZATIONS for n in norm):
        raise ConfigError(f"{where}.normalize: a list of {NORMALIZATIONS}")
    levels = raw.get("levels", list(DEFAULT_LEVELS[comparison]))
    if not isinstance(levels, list) or any(
        isinstance(x, bool) or not isinstance(x, int | float) or not 0 < x <= 1 for x in levels
    ):
        raise ConfigError(f"{where}.levels: a list of numbers in (0, 1]")
    if levels and comparison not in ("jaro_winkler", "levenshtein", "token_set"):
        raise ConfigError(f"{where}.levels: only for string similarity comparisons")
    if list(levels) != sorted(levels, reverse=True):
        raise ConfigError(f"{where}.levels: must be in decreasing order")
    swap = raw.get("swap_with")
    if swap is not None and not isinstance(swap, str):
        raise ConfigError(f"{where}.swap_with: expected an attribute name")
    tol = raw.get("tolerance", 1.0)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or tol < 0:
        raise ConfigError(f"{where}.tolerance: expected a non-negative number")
    return FieldRule(
        attribute=attribute,
        comparison=comparison,
        normalize=tuple(norm),
        levels=tuple(float(x) for x in levels),
        swap_with=swap,
        tolerance=float(tol),
    )


def parse_rule(raw: Any, where: str) -> MatchRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    name = _req(raw, "name", str, where)
    if not NAME.match(name):
        raise ConfigError(f"{where}.name: letters, digits, _ and - only")
    where = f"{where} ({name})"
    fields_raw = _req(raw, "fields", list, where)
    fields = tuple(parse_field(f, f"{where}.fields[{i}]") for i, f in enumerate(fields_raw))
    if not fields:
        raise ConfigError(f"{where}: at least one field")
    attrs = [f.attribute for f in fields]
    if len(set(attrs)) != len(attrs):
        raise ConfigError(f"{where}: an attribute is compared twice")
    blocking_raw = _req(raw, "blocking", list, where)
    blocking: list[tuple[BlockPart, ...]] = []
    for i, key in enumerate(blocking_raw):
        parts = [key] if isinstance(key, str) else key
        if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
            raise ConfigError(f"{where}.blocking[{i}]: a key or a list of keys")
        blocking.append(tuple(parse_block_part(p, f"{where}.blocking[{i}]") for p in parts))
    if not blocking:
        raise ConfigError(f"{where}: at least one blocking key (a full comparison is quadratic)")
    types_raw = raw.get("record_types", ["*"])
    if not isinstance(types_raw, list) or not all(isinstance(t, str) for t in types_raw):
        raise ConfigError(f"{where}.record_types: a list of identifier types")
    record_types = None if "*" in types_raw or not types_raw else tuple(types_raw)
    link_t = _unit(raw, "link_threshold", 0.9, where)
    review_t = _unit(raw, "review_threshold", min(0.6, link_t), where)
    if review_t > link_t:
        raise ConfigError(f"{where}: review_threshold must not exceed link_threshold")
    required = raw.get("required", [])
    if not isinstance(required, list) or any(r not in attrs for r in required):
        raise ConfigError(f"{where}.required: compared attributes only")
    max_block = raw.get("max_block_size", 1000)
    if isinstance(max_block, bool) or not isinstance(max_block, int) or max_block < 2:
        raise ConfigError(f"{where}.max_block_size: an integer >= 2")
    return MatchRule(
        name=name,
        fields=fields,
        blocking=tuple(blocking),
        record_types=record_types,
        link_threshold=link_t,
        review_threshold=review_t,
        required=tuple(required),
        max_block_size=max_block,
        random_pairs=int(raw.get("random_pairs", 200_000)),
        em_iterations=int(raw.get("em_iterations", 25)),
    )


def rules_from_dict(data: dict[str, Any], origin: str = "rules") -> RuleSet:
    """Rules from a parsed TOML document: a `[fuzzy]` table, or its content at the top."""
    table = data.get("fuzzy", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [fuzzy] must be a table")
    rules_raw = table.get("rules", [])
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{origin}: fuzzy.rules must be an array of tables")
    rules = tuple(parse_rule(r, f"{origin}: rules[{i}]") for i, r in enumerate(rules_raw))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: rule names must be unique")
    nick = table.get("nicknames", {})
    if not isinstance(nick, dict) or not all(isinstance(v, str) for v in nick.values()):
        raise ConfigError(f"{origin}: fuzzy.nicknames: a table of nickname = canonical name")
    return RuleSet(rules, {str(k).lower(): v.lower() for k, v in nick.items()})


def load_rules(path: Path | None) -> RuleSet:
    """Rules from `path`; without a path, the built-in person rule (`default_rules`)."""
    if path is None:
        return default_rules()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"rules file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    return rules_from_dict(data, str(path))


DEFAULT_RULES_TOML = """
[[fuzzy.rules]]
name = "person"
record_types = ["*"]
link_threshold = 0.8
review_threshold = 0.5
required = ["first_name", "dob"]
blocking = [
  ["last_name[:3]", "first_name[:1]", "dob_year"],
  ["first_name[:3]", "dob[:7]"],
  ["postcode", "first_name[:1]"],
  ["national_id"],
  ["dob", "postcode"],
  ["dob", "address[:4]"],
  ["phonetic(last_name)", "phonetic(first_name)", "dob_year"],
]

[[fuzzy.rules.fields]]
attribute = "first_name"
comparison = "jaro_winkler"
normalize = ["case", "accents", "punctuation", "whitespace", "nicknames"]
swap_with = "last_name"

[[fuzzy.rules.fields]]
attribute = "last_name"
comparison = "jaro_winkler"
swap_with = "first_name"

[[fuzzy.rules.fields]]
attribute = "dob"
comparison = "date"

[[fuzzy.rules.fields]]
attribute = "address"
comparison = "token_set"
normalize = ["case", "accents", "punctuation", "whitespace", "address"]

[[fuzzy.rules.fields]]
attribute = "postcode"
comparison = "exact"
normalize = ["case", "punctuation", "nospace"]

[[fuzzy.rules.fields]]
attribute = "national_id"
comparison = "levenshtein"
normalize = ["case", "punctuation", "nospace"]
levels = [0.85]

[[fuzzy.rules.fields]]
attribute = "phone"
comparison = "exact"
normalize = ["digits"]
"""


def default_rules() -> RuleSet:
    """The built-in rule for person records (name, date of birth, address, national id)."""
    return rules_from_dict(tomllib.loads(DEFAULT_RULES_TOML), "built-in rules")
