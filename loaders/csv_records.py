"""CSV records with a mapping file to Observations: one Observation or Reject per data row.

Line numbers are physical file lines (the header is line 1); a row whose quoted cells span
several lines is reported at its first line. Blank lines are not units. The file is read
line by line (bounded by `max_line_bytes`), so memory does not grow with the file size.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from identity_graph.errors import ConfigError, InputError
from identity_graph.identifiers import InvalidIdentifier, Normalizer
from identity_graph.models import IdKey, Observation, Reject, parse_iso

from .mapping import Mapping  # noqa: TID251
from .segment import MAX_ATTRIBUTE_CHARS, SNIPPET_CHARS, LineSource  # noqa: TID251

CONSENT_VALUES = {
    "true": True, "yes": True, "1": True, "granted": True,
    "false": False, "no": False, "0": False, "denied": False,
}  # fmt: skip
# Stands in for an oversize line: parses as a non-blank row (or stays inside a quoted cell).
_OVERSIZE_STAND_IN = '""\n'


class CsvReader:
    """Streams one CSV file through a Mapping. Opening checks the header against the mapping."""

    def __init__(
        self, path: Path, *, source: str, normalizer: Normalizer, mapping: Mapping
    ) -> None:
        self.path = path
        self.source = source
        self.normalizer = normalizer
        self.mapping = mapping
        self._lines: LineSource | None = None
        try:
            for id_type in mapping.identifier_types():
                normalizer.config.type(id_type)
        except ConfigError as e:
            raise ConfigError(f"{mapping.path}: {e}") from e
        with path.open("rb") as stream:
            lines = LineSource(stream, normalizer.config.max_line_bytes)
            reader = csv.reader(self._text(lines, deque(), []), delimiter=mapping.delimiter)
            mapping.check_header(self._header(reader), str(path))

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read if self._lines is not None else 0

    def __iter__(self) -> Iterator[Observation | Reject]:
        file = str(self.path)
        fallback = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        flags: deque[tuple[int, str]] = deque()
        raw: list[str] = []
        with self.path.open("rb") as stream:
            self._lines = LineSource(stream, self.normalizer.config.max_line_bytes)
            reader = csv.reader(
                self._text(self._lines, flags, raw), delimiter=self.mapping.delimiter
            )
            header = self._header(reader)
            build = _RowBuilder(self, header, file, fallback)
            flags.clear()
            raw.clear()
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                    error = None
                except StopIteration:
                    return
                except csv.Error as e:
                    row, error = [], f"malformed CSV row: {e}"
                end = reader.line_num
                while flags and flags[0][0] <= end:
                    flagged = flags.popleft()[1]
                    error = error or flagged
                snippet = "".join(raw).rstrip("\r\n")[:SNIPPET_CHARS]
                raw.clear()
                if error is not None:
                    yield Reject(file, start, error, None, snippet)
                elif row and (len(row) > 1 or row[0].strip()):
                    yield build(row, start, snippet)

    def _text(
        self, lines: LineSource, flags: deque[tuple[int, str]], raw: list[str]
    ) -> Iterator[str]:
        """Decoded lines for the csv module; oversize or undecodable lines are flagged so the
        row holding them becomes a Reject."""
        for number, data, oversize in lines:
            if oversize:
                flags.append((number, "line over size limit"))
                if len(raw) < 4:
                    raw.append(data[: SNIPPET_CHARS * 4].decode("utf-8", "replace")[:SNIPPET_CHARS])
                yield _OVERSIZE_STAND_IN
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as e:
                flags.append((number, f"invalid UTF-8: {e.reason} at byte {e.start}"))
                text = data.decode("utf-8", "replace")
            if len(raw) < 4:
                raw.append(text[:SNIPPET_CHARS])
            yield text

    def _header(self, reader: Iterable[list[str]]) -> list[str]:
        try:
            for row in reader:
                if row:
                    return [cell.strip() for cell in row]
        except csv.Error as e:
            raise InputError(f"unreadable header: {e}", file=str(self.path), line=1) from e
        raise InputError("empty file: expected a header row", file=str(self.path))


class _RowBuilder:
    """Turns one data row (a list of cells) into an Observation or a Reject."""

    def __init__(self, owner: CsvReader, header: list[str], file: str, fallback: datetime):
        m = owner.mapping
        index = m.check_header(header, file)
        self.source = owner.source
        self.normalize = owner.normalizer.normalize
        self.file = file
        self.columns = len(header)
        self.key_column, self.key_type = m.key_column, m.key_type
        self.key_index = index[m.key_column]
        self.identifiers = [(c, index[c], t) for c, t in m.identifiers.items()]
        self.attributes = [(c, index[c], name) for c, name in m.attributes.items()]
        self.consent = [(c, index[c], purpose) for c, purpose in m.consent.items()]
        self.ts_column = m.timestamp_column
        self.ts_index = index[m.timestamp_column] if m.timestamp_column is not None else None
        self.ts_format = m.timestamp_format
        self.fallback = fallback

    def __call__(self, row: list[str], line: int, raw: str) -> Observation | Reject:
        file = self.file

        def reject(reason: str, fld: str | None = None) -> Reject:
            return Reject(file, line, reason, fld, raw)

        if len(row) != self.columns:
            return reject(f"expected {self.columns} columns, got {len(row)}")
        key_cell = row[self.key_index].strip()
        if not key_cell:
            return reject("missing record key", self.key_column)
        normalize = self.normalize
        try:
            key = normalize(self.key_type, key_cell)
        except InvalidIdentifier as e:
            return reject(str(e), self.key_column)
        if key is None:
            return reject(f"missing record key: {key_cell!r} is a placeholder", self.key_column)
        identifiers: list[IdKey] = [(self.key_type, key)]
        for column, i, id_type in self.identifiers:
            cell = row[i]
            if not cell:
                continue
            try:
                value = normalize(id_type, cell)
            except InvalidIdentifier as e:
                return reject(str(e), column)
            if value is not None and (id_type, value) not in identifiers:
                identifiers.append((id_type, value))

        timestamp = self.fallback
        if self.ts_index is not None:
            cell = row[self.ts_index].strip()
            if cell:
                try:
                    timestamp = self._timestamp(cell)
                except (ValueError, OverflowError) as e:
                    return reject(f"invalid timestamp: {e}", self.ts_column)

        attributes: dict[str, Any] = {}
        for column, i, name in self.attributes:
            cell = row[i].strip()
            if not cell:
                continue
            if len(cell) > MAX_ATTRIBUTE_CHARS:
                return reject(
                    f"value is {len(cell)} characters, over the limit of {MAX_ATTRIBUTE_CHARS}",
                    column,
                )
            attributes[name] = cell

        consent: dict[str, bool] = {}
        for column, i, purpose in self.consent:
            cell = row[i].strip().lower()
            if not cell:
                continue
            granted = CONSENT_VALUES.get(cell)
            if granted is None:
                return reject(
                    f"invalid consent value {row[i].strip()[:50]!r}: "
                    "expected true/false, yes/no, 1/0 or granted/denied",
                    column,
                )
            consent[purpose] = granted

        return Observation(
            source=self.source,
            record_key=key,
            timestamp=timestamp,
            identifiers=tuple(identifiers),
            attributes=attributes,
            consent=consent,
            file=file,
            line=line,
        )

    def _timestamp(self, cell: str) -> datetime:
        if self.ts_format is None:
            return parse_iso(cell)
        value = datetime.strptime(cell, self.ts_format)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
