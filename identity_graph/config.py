"""Configuration: one TOML file (`idgraph.toml`) with defaults for everything.

Every key is optional; `load_config(None)` gives the built-in defaults documented in the README.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from identity_graph.errors import ConfigError

SURVIVORSHIP_RULES = ("most_recent", "source_priority", "most_frequent")
NORMALIZER_KINDS = ("email", "phone", "id")
TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class TypeLimit:
    """At most `max` identifiers of a type per profile; with `window_days`, at most `max`
    whose first sighting falls within any window of that many days."""

    max: int
    window_days: float | None = None


@dataclass(frozen=True)
class IdentifierType:
    name: str
    kind: str = "id"  # which normalizer: email | phone | id
    weight: float = 1.0  # match weight of a co-observation link through this type
    strength: int = 50  # star centre: the strongest identifier of an observation
    limit: TypeLimit | None = None
    linkable: bool = True


@dataclass(frozen=True)
class SourceConfig:
    name: str
    trust: float = 1.0
    priority: int = 10


DEFAULT_TYPES: dict[str, IdentifierType] = {
    t.name: t
    for t in (
        IdentifierType("user_id", "id", 1.0, 100, TypeLimit(1)),
        IdentifierType("crm_id", "id", 1.0, 90),
        IdentifierType("loyalty_id", "id", 1.0, 85),
        IdentifierType("email", "email", 0.95, 70),
        IdentifierType("phone", "phone", 0.9, 60),
        IdentifierType("device_id", "id", 0.8, 30),
        IdentifierType("anonymous_id", "id", 0.8, 20, TypeLimit(5, 7.0)),
    )
}

DEFAULT_PLACEHOLDERS = (
    "",
    "test@test.com",
    "test@example.com",
    "noemail@noemail.com",
    "0000000000",
    "00000000000",
    "1234567890",
    "n/a",
    "na",
    "null",
    "none",
    "unknown",
    "undefined",
    "-",
)


@dataclass(frozen=True)
class Config:
    link_threshold: float = 0.5
    max_profile_size: int = 500
    # An identifier linked to more than N distinct identifiers of type T is generic.
    generic_bounds: dict[str, int] = field(
        default_factory=lambda: {"user_id": 5, "crm_id": 5, "email": 8, "phone": 8}
    )
    default_region: str = "GB"
    fold_gmail: bool = False
    placeholders: frozenset[str] = frozenset(DEFAULT_PLACEHOLDERS)
    max_value_length: int = 256
    max_line_bytes: int = 1_000_000
    types: dict[str, IdentifierType] = field(default_factory=lambda: dict(DEFAULT_TYPES))
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    survivorship_default: str = "most_recent"
    survivorship: dict[str, str] = field(default_factory=dict)
    erasure_allow_with_new_consent: bool = True
    fuzzy: dict[str, Any] = field(default_factory=dict)  # the raw [fuzzy] table; see fuzzy/rules
    link_sample_size: int = 5
    batch_size: int = 20000
    # Files of at least this size are parsed in a second process while this one resolves.
    parallel_parse: bool = True
    parallel_parse_min_mb: float = 8.0

    def type(self, name: str) -> IdentifierType:
        """The settings of an identifier type; unknown record-key types get `id` defaults."""
        found = self.types.get(name)
        if found is not None:
            return found
        if not TYPE_NAME.match(name):
            raise ConfigError(f"invalid identifier type name {name!r}")
        return IdentifierType(name)

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name) or SourceConfig(name)

    def with_source(self, source: SourceConfig) -> Config:
        return replace(self, sources={**self.sources, source.name: source})

    def rule_for(self, attribute: str) -> str:
        return self.survivorship.get(attribute, self.survivorship_default)


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table[key]
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise ConfigError(f"{where}.{key}: expected {kind}, got a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: expected {kind}, got {type(value).__name__}")
    return value


def _limit(raw: Any, where: str) -> TypeLimit | None:
    if raw is None or raw is False:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return TypeLimit(raw)
    if isinstance(raw, dict):
        mx = _get(raw, "max", int, where)
        window = raw.get("window_days")
        if window is not None and not isinstance(window, int | float):
            raise ConfigError(f"{where}.window_days: expected a number")
        if mx < 1:
            raise ConfigError(f"{where}.max: must be at least 1")
        return TypeLimit(mx, float(window) if window is not None else None)
    raise ConfigError(f"{where}: expected a number or a table {{max, window_days}}")


def config_from_dict(data: dict[str, Any], origin: str = "config") -> Config:
    cfg = Config()
    known = {
        "clustering",
        "normalization",
        "identifier_types",
        "sources",
        "survivorship",
        "erasure",
        "fuzzy",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{origin}: unknown section(s) {sorted(unknown)}")
    changes: dict[str, Any] = {}
    cl = data.get("clustering", {})
    if "link_threshold" in cl:
        t = float(_get(cl, "link_threshold", (int, float), "clustering"))
        if not 0 <= t <= 1:
            raise ConfigError(f"{origin}: clustering.link_threshold must be in [0, 1]")
        changes["link_threshold"] = t
    if "max_profile_size" in cl:
        changes["max_profile_size"] = _get(cl, "max_profile_size", int, "clustering")
    if "generic_bounds" in cl:
        bounds = _get(cl, "generic_bounds", dict, "clustering")
        changes["generic_bounds"] = {str(k): int(v) for k, v in bounds.items()}
    if "batch_size" in cl:
        changes["batch_size"] = max(1, _get(cl, "batch_size", int, "clustering"))
    if "parallel_parse" in cl:
        changes["parallel_parse"] = _get(cl, "parallel_parse", bool, "clustering")
    if "parallel_parse_min_mb" in cl:
        mb = float(_get(cl, "parallel_parse_min_mb", (int, float), "clustering"))
        if mb < 0:
            raise ConfigError(f"{origin}: clustering.parallel_parse_min_mb must be >= 0")
        changes["parallel_parse_min_mb"] = mb
    nm = data.get("normalization", {})
    if "default_region" in nm:
        changes["default_region"] = str(_get(nm, "default_region", str, "normalization")).upper()
    if "fold_gmail" in nm:
        changes["fold_gmail"] = _get(nm, "fold_gmail", bool, "normalization")
    if "placeholders" in nm:
        values = _get(nm, "placeholders", list, "normalization")
        changes["placeholders"] = frozenset(str(v).strip().lower() for v in values) | {""}
    if "max_value_length" in nm:
        changes["max_value_length"] = _get(nm, "max_value_length", int, "normalization")
    types = dict(cfg.types)
    for name, raw in data.get("identifier_types", {}).items():
        where = f"identifier_types.{name}"
        if not TYPE_NAME.match(name) or not isinstance(raw, dict):
            raise ConfigError(f"{origin}: {where}: invalid type name or not a table")
        base = types.get(name, IdentifierType(name))
        kind = raw.get("kind", base.kind)
        if kind not in NORMALIZER_KINDS:
            raise ConfigError(f"{origin}: {where}.kind must be one of {NORMALIZER_KINDS}")
        weight = float(raw.get("weight", base.weight))
        if not 0 <= weight <= 1:
            raise ConfigError(f"{origin}: {where}.weight must be in [0, 1]")
        types[name] = IdentifierType(
            name=name,
            kind=kind,
            weight=weight,
            strength=int(raw.get("strength", base.strength)),
            limit=_limit(raw["limit"], where + ".limit") if "limit" in raw else base.limit,
            linkable=bool(raw.get("linkable", base.linkable)),
        )
    changes["types"] = types
    sources = {}
    for name, raw in data.get("sources", {}).items():
        sources[name] = source_from_dict(name, raw, f"{origin}: sources.{name}")
    changes["sources"] = sources
    if "fuzzy" in data:
        changes["fuzzy"] = _get(data, "fuzzy", dict, origin)
    erasure = data.get("erasure", {})
    if set(erasure) - {"allow_with_new_consent"}:
        raise ConfigError(f"{origin}: unknown key(s) in [erasure]: {sorted(set(erasure))}")
    if "allow_with_new_consent" in erasure:
        changes["erasure_allow_with_new_consent"] = _get(
            erasure, "allow_with_new_consent", bool, "erasure"
        )
    sv = data.get("survivorship", {})
    default_rule = sv.get("default", cfg.survivorship_default)
    per_attr = {str(k): str(v) for k, v in sv.get("attributes", {}).items()}
    for rule in (default_rule, *per_attr.values()):
        if rule not in SURVIVORSHIP_RULES:
            raise ConfigError(f"{origin}: survivorship rule {rule!r} not in {SURVIVORSHIP_RULES}")
    changes["survivorship_default"] = default_rule
    changes["survivorship"] = per_attr
    return replace(cfg, **changes)


def source_from_dict(name: str, raw: Any, where: str) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    trust = float(raw.get("trust", 1.0))
    if not 0 <= trust <= 1:
        raise ConfigError(f"{where}.trust must be in [0, 1]")
    return SourceConfig(name=name, trust=trust, priority=int(raw.get("priority", 10)))


def load_config(path: Path | None) -> Config:
    """Read `path` (or `./idgraph.toml` when it exists); no file means the defaults."""
    if path is None:
        default = Path("idgraph.toml")
        if not default.exists():
            return Config()
        path = default
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    return config_from_dict(data, str(path))
