"""Segment-spec JSONL loader: mapping, every reject kind, line accounting, robustness."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_graph.config import Config
from identity_graph.errors import ConfigError, InputError
from identity_graph.identifiers import Normalizer
from identity_graph.loaders import (
    RejectWriter,
    UnitReader,
    detect_format,
    open_reader,
    parse_event,
)
from identity_graph.models import BehaviourEvent, Observation, Reject

TS = "2024-03-01T12:00:00.000Z"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(Config())


def event(kind: str = "identify", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "messageId": "m-1", "timestamp": TS}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def parse(normalizer: Normalizer, obj: object, raw: str = "") -> Observation | Reject:
    return parse_event(obj, source="web", normalizer=normalizer, file="f.jsonl", line=7, raw=raw)


def accepted(normalizer: Normalizer, obj: object) -> Observation:
    unit = parse(normalizer, obj)
    assert isinstance(unit, Observation), unit
    return unit


def rejected(normalizer: Normalizer, obj: object, raw: str = "") -> Reject:
    unit = parse(normalizer, obj, raw)
    assert isinstance(unit, Reject), unit
    assert (unit.file, unit.line) == ("f.jsonl", 7)
    return unit


def read(path: Path, normalizer: Normalizer) -> list[Observation | Reject]:
    return list(open_reader(path, fmt="segment", source="web", normalizer=normalizer))


def write_lines(tmp_path: Path, lines: list[str | bytes], name: str = "e.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


# --- mapping -------------------------------------------------------------------------------


def test_identify_maps_ids_traits_and_attributes(normalizer: Normalizer) -> None:
    obs = accepted(
        normalizer,
        event(
            userId="u-1",
            anonymousId=" anon-1 ",
            context={"device": {"id": "dev-9"}, "ip": "1.2.3.4"},
            traits={
                "email": "  Ann.Lee@Example.COM ",
                "phone": "+44 7911 123456",
                "first_name": "Ann",
                "age": 41,
                "vip": True,
                "address": {"city": "Leeds", "geo": {"lat": 53.8}},
                "tags": ["a", "b"],
                "nickname": None,
            },
        ),
    )
    assert obs.source == "web"
    assert obs.record_key == "m-1"
    assert obs.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert obs.identifiers == (
        ("user_id", "u-1"),
        ("anonymous_id", "anon-1"),
        ("device_id", "dev-9"),
        ("email", "ann.lee@example.com"),
        ("phone", "+447911123456"),
    )
    assert obs.attributes == {
        "first_name": "Ann",
        "age": 41,
        "vip": True,
        "address.city": "Leeds",
        "address.geo.lat": 53.8,
    }
    assert obs.event is None
    assert (obs.file, obs.line) == ("f.jsonl", 7)


def test_context_traits_map_like_traits_and_explicit_traits_win(normalizer: Normalizer) -> None:
    obs = accepted(
        normalizer,
        event(
            "track",
            event="Signed Up",
            anonymousId="a-1",
            traits={"email": "one@example.com", "plan": "pro"},
            context={
                "traits": {
                    "email": "two@example.com",
                    "phone": "07911 123456",
                    "plan": "free",
                    "city": "York",
                },
            },
        ),
    )
    assert obs.identifiers == (
        ("anonymous_id", "a-1"),
        ("email", "one@example.com"),
        ("email", "two@example.com"),
        ("phone", "+447911123456"),
    )
    assert obs.attributes == {"plan": "pro", "city": "York"}


def test_alias_links_previous_id_and_user_id(normalizer: Normalizer) -> None:
    obs = accepted(normalizer, event("alias", previousId="anon-old", userId="u-7"))
    assert obs.identifiers == (("user_id", "u-7"), ("anonymous_id", "anon-old"))
    assert obs.event is None


def test_previous_id_only_counts_for_alias(normalizer: Normalizer) -> None:
    obs = accepted(normalizer, event("identify", previousId="anon-old", userId="u-7"))
    assert obs.identifiers == (("user_id", "u-7"),)


def test_track_is_a_behaviour_event(normalizer: Normalizer) -> None:
    props = {"sku": "A1", "price": 9.5, "items": [1, 2]}
    obs = accepted(
        normalizer, event("track", anonymousId="a", event=" Order Completed ", properties=props)
    )
    assert obs.event == BehaviourEvent("Order Completed", props)


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("page", None, "Page Viewed"),
        ("page", "Pricing", "Pricing"),
        ("screen", None, "Screen Viewed"),
        ("screen", "Home", "Home"),
        ("page", "  ", "Page Viewed"),
    ],
)
def test_page_and_screen_names(
    normalizer: Normalizer, kind: str, name: str | None, expected: str
) -> None:
    obs = accepted(normalizer, event(kind, anonymousId="a", name=name))
    assert obs.event == BehaviourEvent(expected, {})


def test_group_traits_describe_the_group_not_the_person(normalizer: Normalizer) -> None:
    obs = accepted(
        normalizer,
        event(
            "group",
            userId="u-1",
            groupId="g-42",
            traits={"name": "Initech", "email": "billing@initech.example", "plan": {"tier": 2}},
        ),
    )
    assert obs.identifiers == (("user_id", "u-1"),)
    assert obs.attributes == {
        "group.id": "g-42",
        "group.name": "Initech",
        "group.email": "billing@initech.example",
        "group.plan.tier": 2,
    }


def test_consent_category_preferences(normalizer: Normalizer) -> None:
    consent = {"categoryPreferences": {"marketing": True, "analytics": False, "ads": "yes"}}
    obs = accepted(normalizer, event(userId="u", context={"consent": consent}))
    assert obs.consent == {"marketing": True, "analytics": False}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"timestamp": "2024-03-01T14:00:00+02:00"}, datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ({"timestamp": "2024-03-01T12:00:00"}, datetime(2024, 3, 1, 12, tzinfo=UTC)),
        (
            {"timestamp": None, "originalTimestamp": "2024-01-02T00:00:00Z", "sentAt": "x"},
            datetime(2024, 1, 2, tzinfo=UTC),
        ),
        (
            {"timestamp": None, "sentAt": "2024-01-03T00:00:00Z", "receivedAt": "x"},
            datetime(2024, 1, 3, tzinfo=UTC),
        ),
        (
            {"timestamp": None, "receivedAt": "2024-01-04T00:00:00Z"},
            datetime(2024, 1, 4, tzinfo=UTC),
        ),
    ],
)
def test_timestamp_fallbacks_give_aware_utc(
    normalizer: Normalizer, fields: dict[str, Any], expected: datetime
) -> None:
    obs = accepted(normalizer, event(userId="u", **fields))
    assert obs.timestamp == expected
    assert obs.timestamp.utcoffset() is not None and obs.timestamp.tzinfo == UTC


def test_placeholders_are_dropped_silently(normalizer: Normalizer) -> None:
    obs = accepted(
        normalizer,
        event(userId="u-1", anonymousId="null", traits={"email": "test@test.com", "phone": "n/a"}),
    )
    assert obs.identifiers == (("user_id", "u-1"),)


def test_duplicate_identifiers_are_kept_once_in_first_seen_order(normalizer: Normalizer) -> None:
    obs = accepted(
        normalizer,
        event(
            anonymousId="a-1",
            traits={"email": "X@example.com"},
            context={"traits": {"email": "x@EXAMPLE.com "}, "device": {"id": "a-1"}},
        ),
    )
    assert obs.identifiers == (
        ("anonymous_id", "a-1"),
        ("device_id", "a-1"),
        ("email", "x@example.com"),
    )


def test_numeric_ids_are_accepted_as_text(normalizer: Normalizer) -> None:
    obs = accepted(normalizer, event(userId=42, messageId=1001))
    assert obs.identifiers == (("user_id", "42"),)
    assert obs.record_key == "1001"


# --- rejects, each with its field and reason ----------------------------------------------


def test_not_an_object_is_invalid_json(normalizer: Normalizer) -> None:
    r = rejected(normalizer, [1, 2], raw="[1, 2]")
    assert (r.field, r.reason, r.raw) == (
        None,
        "invalid JSON: expected an object, got an array",
        "[1, 2]",
    )


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (None, "missing type"),
        ("purchase", "unsupported type 'purchase'"),
        (["track"], "unsupported type ['track']"),
    ],
)
def test_bad_type(normalizer: Normalizer, kind: object, reason: str) -> None:
    obj = event(userId="u")
    obj["type"] = kind
    if kind is None:
        del obj["type"]
    r = rejected(normalizer, obj)
    assert (r.field, r.reason) == ("type", reason)


@pytest.mark.parametrize("message_id", [None, "", "   ", {"id": 1}, True])
def test_missing_message_id(normalizer: Normalizer, message_id: object) -> None:
    obj = event(userId="u")
    obj["messageId"] = message_id
    r = rejected(normalizer, obj)
    assert (r.field, r.reason) == ("messageId", "missing messageId")


def test_message_id_over_the_value_bound(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event(userId="u", messageId="m" * 300))
    assert (r.field, r.reason) == ("messageId", "value is 300 characters, over the limit of 256")


def test_missing_timestamp(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event(userId="u", timestamp=None))
    assert (r.field, r.reason) == ("timestamp", "missing timestamp")


@pytest.mark.parametrize(
    ("fields", "field", "reason_start"),
    [
        ({"timestamp": "yesterday"}, "timestamp", "invalid timestamp: Invalid isoformat string"),
        ({"timestamp": 1709294400}, "timestamp", "invalid timestamp: expected an ISO 8601 string"),
        ({"timestamp": None, "sentAt": "2024-13-01T00:00:00Z"}, "sentAt", "invalid timestamp: "),
    ],
)
def test_invalid_timestamp_names_its_field(
    normalizer: Normalizer, fields: dict[str, Any], field: str, reason_start: str
) -> None:
    r = rejected(normalizer, event(userId="u", **fields))
    assert r.field == field
    assert r.reason.startswith(reason_start)


@pytest.mark.parametrize(
    ("fields", "field", "reason_start"),
    [
        ({"traits": {"email": "not-an-email"}}, "traits.email", "invalid email: "),
        ({"context": {"traits": {"phone": "12"}}}, "context.traits.phone", "invalid phone number"),
        ({"userId": "u\x00x"}, "userId", "id contains control characters"),
        ({"anonymousId": "a" * 300}, "anonymousId", "value is 300 characters"),
        ({"context": {"device": {"id": {"x": 1}}}}, "context.device.id", "expected a string"),
        ({"userId": True}, "userId", "expected a string, got a boolean"),
    ],
)
def test_invalid_identifier_rejects_the_whole_unit(
    normalizer: Normalizer, fields: dict[str, Any], field: str, reason_start: str
) -> None:
    r = rejected(normalizer, event(**{"userId": "u-1", "anonymousId": "fine", **fields}))
    assert r.field == field
    assert r.reason.startswith(reason_start), r.reason


def test_no_identifier(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event("track", event="E", userId="", traits={"email": "null"}))
    assert (r.field, r.reason) == (None, "no identifier")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"traits": {"bio": "x" * 4097}}, "traits.bio"),
        ({"traits": {"profile": {"bio": "x" * 4097}}}, "traits.profile.bio"),
        ({"context": {"traits": {"bio": "x" * 4097}}}, "context.traits.bio"),
    ],
)
def test_attribute_over_4096_chars(
    normalizer: Normalizer, fields: dict[str, Any], field: str
) -> None:
    r = rejected(normalizer, event(userId="u", **fields))
    assert (r.field, r.reason) == (field, "value is 4097 characters, over the limit of 4096")


def test_attribute_of_4096_chars_is_fine(normalizer: Normalizer) -> None:
    obs = accepted(normalizer, event(userId="u", traits={"bio": "x" * 4096}))
    assert len(obs.attributes["bio"]) == 4096


def test_track_needs_an_event_name(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event("track", userId="u"))
    assert (r.field, r.reason) == ("event", "track without an event name")


def test_properties_must_be_an_object(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event("track", userId="u", event="E", properties=[1]))
    assert (r.field, r.reason) == ("properties", "expected an object, got an array")


def test_lone_surrogate_is_rejected(normalizer: Normalizer) -> None:
    r = rejected(normalizer, event(userId="u", traits={"name": "\ud800"}))
    assert r.reason == "invalid JSON: string with a lone surrogate escape"


# --- the file reader ------------------------------------------------------------------------


def good(message_id: str, **fields: Any) -> str:
    return json.dumps(event("identify", messageId=message_id, userId="u-" + message_id, **fields))


def test_reader_accounts_for_every_non_blank_line(tmp_path: Path, normalizer: Normalizer) -> None:
    path = write_lines(
        tmp_path,
        [good("1"), "", "   ", '{"type": "identify", "messageId": "2",', good("3"), "[1]", "\t"],
    )
    units = read(path, normalizer)
    assert [(type(u).__name__, u.line) for u in units] == [
        ("Observation", 1),
        ("Reject", 4),
        ("Observation", 5),
        ("Reject", 6),
    ]
    bad = units[1]
    assert isinstance(bad, Reject)
    assert bad.file == str(path)
    assert bad.reason.startswith("invalid JSON: ")
    assert bad.raw == '{"type": "identify", "messageId": "2",'
    assert bad.field is None


def test_reader_handles_crlf_bom_and_missing_final_newline(
    tmp_path: Path, normalizer: Normalizer
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good("1").encode() + b"\r\n\r\n" + good("2").encode())
    units = read(path, normalizer)
    assert [(type(u).__name__, u.line) for u in units] == [("Observation", 1), ("Observation", 3)]


def test_invalid_utf8_is_a_reject_for_that_line(tmp_path: Path, normalizer: Normalizer) -> None:
    path = write_lines(tmp_path, [good("1"), b'{"type": "\xff\xfe"}', good("3")])
    units = read(path, normalizer)
    bad = units[1]
    assert isinstance(bad, Reject)
    assert (bad.line, bad.field) == (2, None)
    assert bad.reason == "invalid UTF-8: invalid start byte at byte 10"
    assert bad.raw == '{"type": "\ufffd\ufffd"}'
    assert [type(u) for u in units] == [Observation, Reject, Observation]


def test_line_over_size_limit(tmp_path: Path) -> None:
    normalizer = Normalizer(replace(Config(), max_line_bytes=300))
    long_line = good("2", traits={"bio": "y" * 400})
    path = write_lines(tmp_path, [good("1"), long_line, good("3"), " " * 1000, good("5")])
    reader = open_reader(path, fmt="segment", source="web", normalizer=normalizer)
    units = list(reader)
    assert [(type(u).__name__, u.line) for u in units] == [
        ("Observation", 1),
        ("Reject", 2),
        ("Observation", 3),
        ("Observation", 5),
    ]
    bad = units[1]
    assert isinstance(bad, Reject)
    assert (bad.field, bad.reason) == (None, "line over size limit")
    assert long_line.startswith(bad.raw) and bad.raw
    assert reader.bytes_read == path.stat().st_size


def test_bytes_read_tracks_progress(tmp_path: Path, normalizer: Normalizer) -> None:
    path = write_lines(tmp_path, [good(str(i)) for i in range(50)])
    reader: UnitReader = open_reader(path, fmt="segment", source="web", normalizer=normalizer)
    assert reader.bytes_read == 0
    seen = []
    for _ in reader:
        seen.append(reader.bytes_read)
    assert seen == sorted(seen) and seen[0] > 0
    assert reader.bytes_read == path.stat().st_size


def test_rejects_round_trip_through_the_writer(tmp_path: Path, normalizer: Normalizer) -> None:
    path = write_lines(
        tmp_path, [good("1"), "{oops", json.dumps(event(userId="u", timestamp=None))]
    )
    out = tmp_path / "rejects.jsonl"
    with RejectWriter(out) as writer:
        for unit in read(path, normalizer):
            if isinstance(unit, Reject):
                writer.write(unit)
    assert writer.count == 2
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["file"], r["line"], r["field"]) for r in rows] == [
        (str(path), 2, None),
        (str(path), 3, "timestamp"),
    ]
    assert rows[0]["raw"] == "{oops"
    assert rows[1]["reason"] == "missing timestamp"


# --- open_reader / detect_format -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.jsonl", "segment"), ("a.JSON", "segment"), ("a.ndjson", "segment"), ("x/b.csv", "csv")],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(Path(name)) == fmt


@pytest.mark.parametrize("name", ["a.txt", "noext", "a.csv.gz"])
def test_detect_format_unknown(name: str) -> None:
    with pytest.raises(InputError, match="pass --format segment|csv"):
        detect_format(Path(name))


def test_open_reader_errors(tmp_path: Path, normalizer: Normalizer) -> None:
    path = write_lines(tmp_path, [good("1")])
    with pytest.raises(InputError, match="file not found"):
        open_reader(tmp_path / "nope.jsonl", fmt="segment", source="w", normalizer=normalizer)
    with pytest.raises(ConfigError, match="unknown format 'xml'"):
        open_reader(path, fmt="xml", source="w", normalizer=normalizer)
    with pytest.raises(ConfigError, match="csv needs --mapping"):
        open_reader(path, fmt="csv", source="w", normalizer=normalizer)


# --- properties ------------------------------------------------------------------------------

_JSON_WS = b" \t\r\n\x0b\x0c"
garbage_line = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")),
    st.text(max_size=40).map(lambda t: t.replace("\n", "").encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"  ", b"\r", b"\xef\xbb\xbf", b"{}", b"[]", b"null", b'"x"', b"{"]),
    st.builds(
        lambda mid, uid: json.dumps(event(messageId=mid, userId=uid)).encode(),
        st.text(max_size=5),
        st.text(max_size=8),
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(garbage_line, max_size=12), final_newline=st.booleans())
def test_one_unit_per_non_blank_line_and_never_raises(
    tmp_path: Path, lines: list[bytes], final_newline: bool
) -> None:
    normalizer = Normalizer(replace(Config(), max_line_bytes=40))
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    physical = data.split(b"\n")
    if physical and physical[0].startswith(b"\xef\xbb\xbf"):
        physical[0] = physical[0][3:]
    expected = [i + 1 for i, line in enumerate(physical) if line.strip(_JSON_WS)]
    reader = open_reader(path, fmt="segment", source="web", normalizer=normalizer)
    units = list(reader)
    assert [u.line for u in units] == expected
    assert reader.bytes_read == len(data)


json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(
    kind=st.sampled_from(["identify", "track", "page", "screen", "alias", "group", "x"]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "userId",
                "anonymousId",
                "previousId",
                "event",
                "name",
                "properties",
                "traits",
                "context",
                "groupId",
                "messageId",
                "timestamp",
            ]
        ),
        json_value,
        max_size=6,
    ),
    email=st.text(max_size=30),
    phone=st.text(max_size=20),
)
def test_parse_event_never_raises(
    kind: str, fields: dict[str, Any], email: str, phone: str
) -> None:
    normalizer = Normalizer(Config())
    obj = {**event(kind, userId="u"), **fields}
    obj.setdefault("context", {})
    if isinstance(obj["context"], dict):
        obj["context"] = {**obj["context"], "traits": {"email": email, "phone": phone}}
    unit = parse(normalizer, obj)
    assert isinstance(unit, Observation | Reject)
    if isinstance(unit, Observation):
        assert unit.identifiers
        assert len(set(unit.identifiers)) == len(unit.identifiers)
