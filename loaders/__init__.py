"""Input formats to Observations: Segment-spec JSONL events and CSV records with a mapping.

`open_reader` gives a `UnitReader`: iterate it for exactly one Observation or Reject per input
unit (a non-blank JSON line, a CSV data row), so accepted + rejected = read. Files are streamed;
`bytes_read` tracks progress against the file size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from identity_graph.errors import ConfigError, InputError
from identity_graph.identifiers import Normalizer
from identity_graph.models import Observation, Reject

from .csv_records import CsvReader  # noqa: TID251
from .mapping import Mapping, load_mapping  # noqa: TID251
from .rejects import RejectWriter  # noqa: TID251
from .segment import SegmentReader, parse_event  # noqa: TID251

__all__ = [
    "FORMATS",
    "Mapping",
    "RejectWriter",
    "UnitReader",
    "detect_format",
    "load_mapping",
    "open_reader",
    "parse_event",
]

FORMATS = ("segment", "csv")
_SUFFIXES = {".jsonl": "segment", ".json": "segment", ".ndjson": "segment", ".csv": "csv"}


class UnitReader(Protocol):
    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for a progress bar over the file size)."""
        ...

    def __iter__(self) -> Iterator[Observation | Reject]: ...


def detect_format(path: Path) -> str:
    """The format a file's extension implies: "segment" (.jsonl, .json, .ndjson) or "csv"."""
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format from the extension {path.suffix or '(none)'!r}: "
            "pass --format segment|csv",
            file=str(path),
        )
    return fmt


def open_reader(
    path: Path,
    *,
    fmt: str,
    source: str,
    normalizer: Normalizer,
    mapping: Mapping | None = None,
) -> UnitReader:
    """A reader over `path`. Checks now what can be checked before reading: the file exists,
    the format is known, a CSV has a mapping and its header holds every mapped column."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        if fmt == "segment":
            if mapping is not None:
                raise ConfigError("--mapping applies only to --format csv")
            return SegmentReader(path, source=source, normalizer=normalizer)
        if mapping is None:
            raise ConfigError("csv needs --mapping")
        return CsvReader(path, source=source, normalizer=normalizer, mapping=mapping)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", file=str(path)) from e
