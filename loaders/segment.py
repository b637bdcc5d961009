"""Segment-spec events (JSONL files and HTTP batches) to Observations.

One JSON object per line; blank lines are skipped, every other line yields exactly one
Observation or Reject. `parse_event` is the shared per-event step, also used by the HTTP
ingest endpoint. The physical line reader (`LineSource`) is shared with the CSV loader.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from identity_graph.identifiers import InvalidIdentifier, Normalizer
from identity_graph.models import BehaviourEvent, IdKey, Observation, Reject, parse_iso

EVENT_TYPES = frozenset({"identify", "track", "page", "screen", "alias", "group"})
TIMESTAMP_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
MAX_ATTRIBUTE_CHARS = 4096
MAX_TRAIT_DEPTH = 8
IDENTIFIER_TRAITS = {"email": "email", "phone": "phone"}
SNIPPET_CHARS = 500
_EVENT_KINDS = {"track": "", "page": "Page Viewed", "screen": "Screen Viewed"}  # default names
_SURROGATE = "invalid JSON: string with a lone surrogate escape"
_EMPTY: dict[str, Any] = {}  # read-only stand-in for a missing object
_BOM = b"\xef\xbb\xbf"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# NaN / Infinity are not JSON and would poison comparisons downstream.
_DECODER: Any = json.JSONDecoder(parse_constant=_no_constants)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # the C scanner


def decode_json(text: str) -> Any:
    """`json.loads` without its Python-level overhead (about 15% of a typical line)."""
    s = text.strip(" \t\r\n")
    try:
        obj, end = _SCAN(s, 0)
    except StopIteration as e:
        raise json.JSONDecodeError("Expecting value", s, e.value) from None
    if end != len(s):
        raise json.JSONDecodeError("Extra data", s, end)
    return obj


class LineSource:
    """Physical lines of a binary stream (split on LF), each at most `limit` bytes of content.

    Yields (line number, bytes, oversize). An oversize line is skipped to its end without
    holding it in memory; its first bytes come back with oversize=True (a blank line is never
    oversize). A UTF-8 BOM opening the stream is dropped. `bytes_read` counts every byte
    consumed, for a progress bar over the file size.
    """

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.bytes_read = 0
        self.line = 0

    def __iter__(self) -> Iterator[tuple[int, bytes, bool]]:
        readline = self._stream.readline
        limit = self._limit
        cap = limit + 2  # content plus CRLF
        while True:
            data = readline(cap)
            if not data:
                return
            size = len(data)
            self.bytes_read += size
            self.line += 1
            if size == cap and data[-1] != 10:  # the line goes on: skip to its end
                blank = data.isspace()
                tail = data
                while tail and tail[-1] != 10:
                    tail = readline(1 << 16)
                    self.bytes_read += len(tail)
                    blank = blank and (not tail or tail.isspace())
                # A long run of whitespace is still a blank line, not an oversize unit.
                yield (self.line, b"\n", False) if blank else (self.line, data, True)
                continue
            if self.line == 1 and data.startswith(_BOM):
                data = data[3:]
                size -= 3
            if data[-1:] == b"\n":
                size -= 2 if data[-2:] == b"\r\n" else 1
            yield self.line, data, size > limit and not data.isspace()


def lone_surrogates(value: object) -> bool:
    """True when a string anywhere in `value` holds a lone surrogate: legal as a JSON escape,
    but it cannot be encoded as UTF-8, so no store could keep it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


class SegmentReader:
    """Streams a JSONL file of Segment events: one Observation or Reject per non-blank line."""

    def __init__(self, path: Path, *, source: str, normalizer: Normalizer) -> None:
        self.path = path
        self.source = source
        self.normalizer = normalizer
        self._lines: LineSource | None = None

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read if self._lines is not None else 0

    def __iter__(self) -> Iterator[Observation | Reject]:
        file = str(self.path)
        source, normalizer = self.source, self.normalizer
        with self.path.open("rb") as stream:
            self._lines = lines = LineSource(stream, normalizer.config.max_line_bytes)
            for number, data, oversize in lines:
                if oversize:
                    raw = data[: SNIPPET_CHARS * 4].decode("utf-8", "replace")[:SNIPPET_CHARS]
                    yield Reject(file, number, "line over size limit", None, raw)
                    continue
                if not data or data.isspace():
                    continue
                yield parse_line(data, source=source, normalizer=normalizer, file=file, line=number)


def parse_line(
    data: bytes, *, source: str, normalizer: Normalizer, file: str, line: int
) -> Observation | Reject:
    """One JSONL line (bytes, with or without its line end) to an Observation or Reject."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raw = data.decode("utf-8", "replace")
        return _reject(file, line, raw, f"invalid UTF-8: {e.reason} at byte {e.start}")
    try:
        obj = decode_json(text)
    except (ValueError, RecursionError) as e:
        detail = e.msg if isinstance(e, json.JSONDecodeError) else str(e) or type(e).__name__
        return _reject(file, line, text, f"invalid JSON: {detail}")
    if b"\\u" in data and lone_surrogates(obj):
        return _reject(file, line, text, _SURROGATE)
    return parse_event(
        obj, source=source, normalizer=normalizer, file=file, line=line, raw=text, check_text=False
    )


def parse_event(
    obj: object,
    *,
    source: str,
    normalizer: Normalizer,
    file: str,
    line: int,
    raw: str = "",
    check_text: bool = True,
) -> Observation | Reject:
    """One decoded Segment message to an Observation, or a Reject naming the field and why.

    `raw` is the message text quoted in a Reject. `check_text` rejects strings holding lone
    surrogates (JSON may carry them as escapes; no store can encode them); the file reader
    checks that itself, cheaply, and passes False.
    """
    if not isinstance(obj, dict):
        return _reject(file, line, raw, f"invalid JSON: expected an object, got {_kind(obj)}")
    if check_text and lone_surrogates(obj):
        return _reject(file, line, raw, _SURROGATE)
    get = obj.get
    kind = get("type")
    if type(kind) is not str or kind not in EVENT_TYPES:
        reason = "missing type" if kind is None else f"unsupported type {_short(kind)}"
        return _reject(file, line, raw, reason, "type")

    message_id = get("messageId")
    if type(message_id) is not str:
        if type(message_id) is not int:
            return _reject(file, line, raw, "missing messageId", "messageId")
        message_id = str(message_id)
    message_id = message_id.strip()
    if not message_id:
        return _reject(file, line, raw, "missing messageId", "messageId")
    limit = normalizer.config.max_value_length
    if len(message_id) > limit:
        reason = f"value is {len(message_id)} characters, over the limit of {limit}"
        return _reject(file, line, raw, reason, "messageId")

    ts_field = "timestamp"
    ts_raw = get(ts_field)
    if ts_raw is None:
        for ts_field in TIMESTAMP_FIELDS[1:]:
            ts_raw = get(ts_field)
            if ts_raw is not None:
                break
        else:
            return _reject(file, line, raw, "missing timestamp", "timestamp")
    if type(ts_raw) is not str:
        return _reject(file, line, raw, "invalid timestamp: expected an ISO 8601 string", ts_field)
    try:
        timestamp = parse_iso(ts_raw)
    except (ValueError, OverflowError) as e:
        return _reject(file, line, raw, f"invalid timestamp: {e}", ts_field)

    context = get("context")
    if type(context) is not dict:
        context = _EMPTY
    ctx_traits = context.get("traits")
    if type(ctx_traits) is not dict:
        ctx_traits = _EMPTY
    traits = get("traits")
    if type(traits) is not dict:
        traits = _EMPTY
    group_traits = _EMPTY
    if kind == "group":  # a group's traits describe the group, not the person
        group_traits, traits = traits, _EMPTY

    # Identifiers in first-seen order: ids, device, explicit traits, then context.traits.
    found: list[tuple[str, str, object]] = [
        ("userId", "user_id", get("userId")),
        ("anonymousId", "anonymous_id", get("anonymousId")),
    ]
    if kind == "alias":
        found.append(("previousId", "anonymous_id", get("previousId")))
    device = context.get("device")
    if type(device) is dict:
        found.append(("context.device.id", "device_id", device.get("id")))
    if traits:
        found.append(("traits.email", "email", traits.get("email")))
        found.append(("traits.phone", "phone", traits.get("phone")))
    if ctx_traits:
        found.append(("context.traits.email", "email", ctx_traits.get("email")))
        found.append(("context.traits.phone", "phone", ctx_traits.get("phone")))
    normalize = normalizer.normalize
    identifiers: list[IdKey] = []
    for fld, id_type, value in found:
        if value is None:
            continue
        if type(value) is not str and type(value) is not int:
            return _reject(file, line, raw, f"expected a string, got {_kind(value)}", fld)
        try:
            norm = normalize(id_type, value)
        except InvalidIdentifier as e:
            return _reject(file, line, raw, str(e), fld)
        if norm is not None:
            key = (id_type, norm)
            if key not in identifiers:
                identifiers.append(key)

    attributes: dict[str, Any] = {}
    for where, table in (("context.traits", ctx_traits), ("traits", traits)):  # later wins
        if table:
            bad = _flatten(table, where, "", attributes, 0, IDENTIFIER_TRAITS)
            if bad is not None:
                return _reject(file, line, raw, bad[1], bad[0])
    if kind == "group":
        group_id = get("groupId")
        if type(group_id) is str or type(group_id) is int:
            attributes["group.id"] = str(group_id)
        bad = _flatten(group_traits, "traits", "group.", attributes, 0, None)
        if bad is not None:
            return _reject(file, line, raw, bad[1], bad[0])

    event: BehaviourEvent | None = None
    if kind in _EVENT_KINDS:
        properties = get("properties")
        if properties is None:
            properties = {}
        elif type(properties) is not dict:
            reason = f"expected an object, got {_kind(properties)}"
            return _reject(file, line, raw, reason, "properties")
        name = get("event") if kind == "track" else get("name")
        if type(name) is not str or not name.strip():
            if kind == "track":
                return _reject(file, line, raw, "track without an event name", "event")
            name = _EVENT_KINDS[kind]
        event = BehaviourEvent(name.strip(), properties)

    consent: dict[str, bool] = {}
    consent_raw = context.get("consent")
    if type(consent_raw) is dict:
        prefs = consent_raw.get("categoryPreferences")
        if type(prefs) is dict:
            consent = {k: v for k, v in prefs.items() if type(v) is bool}

    if not identifiers:
        return _reject(file, line, raw, "no identifier")
    return Observation(
        source=source,
        record_key=message_id,
        timestamp=timestamp,
        identifiers=tuple(identifiers),
        attributes=attributes,
        event=event,
        consent=consent,
        file=file,
        line=line,
    )


def _reject(file: str, line: int, raw: str, reason: str, fld: str | None = None) -> Reject:
    return Reject(file, line, reason, fld, raw[: SNIPPET_CHARS + 2].rstrip("\r\n")[:SNIPPET_CHARS])


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _flatten(
    table: dict[str, Any],
    where: str,
    prefix: str,
    out: dict[str, Any],
    depth: int,
    skip: dict[str, str] | None,
) -> tuple[str, str] | None:
    """Copy scalar traits into `out` (nested objects as dotted names; lists and nulls dropped).
    Returns (field, reason) for a string over the size bound."""
    for key, value in table.items():
        if skip is not None and key in skip:
            continue
        if value is None or isinstance(value, list):
            continue
        if isinstance(value, dict):
            if depth < MAX_TRAIT_DEPTH:
                bad = _flatten(value, f"{where}.{key}", f"{prefix}{key}.", out, depth + 1, None)
                if bad is not None:
                    return bad
            continue
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
            return (
                f"{where}.{key}",
                f"value is {len(value)} characters, over the limit of {MAX_ATTRIBUTE_CHARS}",
            )
        out[prefix + key] = value
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__
