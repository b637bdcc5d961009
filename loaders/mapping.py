"""The TOML mapping file that tells the CSV loader what each column means.

```toml
[source]                          # optional: the source's trust and survivorship priority
trust = 0.9                       # 0..1
priority = 20
[record]
key_column = "customer_id"        # required: the record key, unique per row in this source
key_type = "crm_id"               # required: identifier type of the record key
timestamp_column = "updated_at"   # optional; absent (or an empty cell): the file's mtime (UTC)
timestamp_format = "%Y-%m-%d %H:%M:%S"  # optional strptime format; default ISO 8601
delimiter = ","                   # optional, one character
[identifiers]                     # column = identifier type
email = "email"
[attributes]                      # column = attribute name
first_name = "first_name"
[consent]                         # column = purpose
marketing_opt_in = "email_marketing"
```

Unknown sections or keys are errors, so a typo never silently drops a column.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from identity_graph.config import TYPE_NAME, SourceConfig, source_from_dict
from identity_graph.errors import ConfigError

_SECTIONS = {"source", "record", "identifiers", "attributes", "consent"}
_SOURCE_KEYS = {"trust", "priority"}
_RECORD_KEYS = {"key_column", "key_type", "timestamp_column", "timestamp_format", "delimiter"}


@dataclass(frozen=True)
class Mapping:
    """What the columns of one CSV layout mean. Column names match header cells (trimmed)."""

    key_column: str
    key_type: str
    identifiers: dict[str, str] = field(default_factory=dict)  # column -> identifier type
    attributes: dict[str, str] = field(default_factory=dict)  # column -> attribute name
    consent: dict[str, str] = field(default_factory=dict)  # column -> purpose
    timestamp_column: str | None = None
    timestamp_format: str | None = None  # strptime format; None means ISO 8601
    delimiter: str = ","
    # Trust and priority from [source]; the name is "" until the CLI names the source.
    source: SourceConfig | None = None
    path: str = ""

    def source_config(self, name: str) -> SourceConfig | None:
        """The [source] settings under the source name given on the command line."""
        return replace(self.source, name=name) if self.source is not None else None

    def columns(self) -> list[str]:
        """Every column the mapping reads, each once, key column first."""
        cols = [self.key_column]
        if self.timestamp_column is not None:
            cols.append(self.timestamp_column)
        cols.extend(self.identifiers)
        cols.extend(self.attributes)
        cols.extend(self.consent)
        return list(dict.fromkeys(cols))

    def identifier_types(self) -> list[str]:
        return list(dict.fromkeys([self.key_type, *self.identifiers.values()]))

    def check_header(self, header: Sequence[str], file: str) -> dict[str, int]:
        """Column name -> index for every mapped column; ConfigError when one is missing."""
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(name, i)
        missing = [c for c in self.columns() if c not in index]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            raise ConfigError(
                f"{file}: column(s) {names} named in mapping {self.path or '(mapping)'} "
                f"not found in the header"
            )
        doubled = [c for c in self.columns() if list(header).count(c) > 1]
        if doubled:
            raise ConfigError(f"{file}: mapped column {doubled[0]!r} appears twice in the header")
        return {c: index[c] for c in self.columns()}


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; every problem is a ConfigError naming file and key."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"mapping file not found: {where}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot read mapping file: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: invalid TOML: {e}") from e
    return mapping_from_dict(data, where)


def mapping_from_dict(data: dict[str, Any], where: str = "mapping") -> Mapping:
    _no_unknown(data, _SECTIONS, where, "section")
    tables = {name: _table(data, name, where) for name in _SECTIONS}
    record = tables["record"]
    _no_unknown(record, _RECORD_KEYS, where, "key", "record.")
    key_column = _required(record, "key_column", where)
    key_type = _required(record, "key_type", where)
    _type_name(key_type, where, "record.key_type")
    ts_column = _text(record, "timestamp_column", where, "record.")
    ts_format = _text(record, "timestamp_format", where, "record.")
    if ts_format is not None and ts_column is None:
        raise ConfigError(f"{where}: record.timestamp_format needs record.timestamp_column")
    delimiter = record.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ConfigError(f"{where}: record.delimiter must be one character (not a quote/newline)")
    identifiers = _columns(tables["identifiers"], where, "identifiers")
    for column, id_type in identifiers.items():
        _type_name(id_type, where, f"identifiers.{column}")
    attributes = _columns(tables["attributes"], where, "attributes")
    _unique_values(attributes, where, "attributes")
    consent = _columns(tables["consent"], where, "consent")
    _unique_values(consent, where, "consent")
    return Mapping(
        key_column=key_column,
        key_type=key_type,
        identifiers=identifiers,
        attributes=attributes,
        consent=consent,
        timestamp_column=ts_column,
        timestamp_format=ts_format,
        delimiter=delimiter,
        source=_source(data, where),
        path=where,
    )


def _source(data: dict[str, Any], where: str) -> SourceConfig | None:
    if "source" not in data:
        return None
    raw = _table(data, "source", where)
    _no_unknown(raw, _SOURCE_KEYS, where, "key", "source.")
    for key, kinds in (("trust", (int, float)), ("priority", (int,))):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise ConfigError(f"{where}: source.{key} must be a number")
    return source_from_dict("", raw, f"{where}: source")


def _table(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    return value


def _no_unknown(
    table: dict[str, Any], known: set[str], where: str, what: str, prefix: str = ""
) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown {what} {prefix}{unknown[0]!r}")


def _required(record: dict[str, Any], key: str, where: str) -> str:
    value = _text(record, key, where, "record.")
    if value is None:
        raise ConfigError(f"{where}: missing required key record.{key}")
    return value


def _text(table: dict[str, Any], key: str, where: str, prefix: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {prefix}{key} must be a non-empty string")
    return value.strip()


def _columns(table: dict[str, Any], where: str, section: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for column, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {section}.{column} must be a non-empty string")
        out[column.strip()] = value.strip()
    return out


def _unique_values(columns: dict[str, str], where: str, section: str) -> None:
    seen: set[str] = set()
    for column, value in columns.items():
        if value in seen:
            raise ConfigError(f"{where}: {section}.{column}: {value!r} is mapped twice")
        seen.add(value)


def _type_name(name: str, where: str, key: str) -> None:
    if not TYPE_NAME.match(name):
        raise ConfigError(f"{where}: {key}: invalid identifier type name {name!r}")
