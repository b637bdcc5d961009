"""Reading back what the stores write as text: golden records (JSON) and timestamps (ISO)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from identity_graph.jsontext import dumps
from identity_graph.models import GoldenValue, golden_from_json, iso, parse_iso, parse_stored_iso

T0 = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)  # beyond 64 bits both ways
    | st.floats(allow_nan=False, allow_infinity=False)  # the writer makes those null
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def typed(value: Any) -> str:
    """A text that tells 1 from 1.0 and True (plain `==` does not)."""
    return json.dumps(value, sort_keys=True) + repr(type(value))


def stored(golden: dict[str, GoldenValue]) -> str:
    return dumps({name: g.to_json() for name, g in golden.items()})


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=4))
def test_golden_values_read_back_exactly_as_written(values: dict[str, Any]) -> None:
    golden = {name: GoldenValue(v, "crm", T0, "most_recent") for name, v in values.items()}
    text = stored(golden)
    read = golden_from_json(text)
    assert read == golden
    assert {n: typed(g.value) for n, g in read.items()} == {n: typed(v) for n, v in values.items()}
    assert read == by_the_standard_library(text)


def by_the_standard_library(text: str) -> dict[str, GoldenValue]:
    return {
        name: GoldenValue(g["value"], g["source"], parse_iso(g["timestamp"]), g["rule"])
        for name, g in json.loads(text).items()
    }


def test_integers_orjson_would_round_stay_exact() -> None:
    for value in (2**64, -(2**63) - 1, 12345678901234567890123, [1, 2**70], {"n": 2**65}):
        golden = {"ltv": GoldenValue(value, "pos", T0, "source_priority")}
        read = golden_from_json(stored(golden))
        assert read["ltv"].value == value
        assert typed(read["ltv"].value) == typed(value)


def test_text_orjson_refuses_is_read_by_json() -> None:
    def record(value_json: str) -> str:
        rest = f'"source":"web","timestamp":"{iso(T0)}","rule":"r"'
        return '{"a":{"value":' + value_json + "," + rest + "}}"

    assert golden_from_json(record('"\\ud800"'))["a"].value == "\ud800"  # a lone surrogate
    assert math.isnan(golden_from_json(record("NaN"))["a"].value)
    assert golden_from_json("{}") == {}


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30)), None]),
    )
)
def test_stored_timestamps_parse_back_to_the_same_instant_in_utc(ts: datetime) -> None:
    text = iso(ts)
    back = parse_stored_iso(text)
    assert back.tzinfo is UTC
    assert back == parse_iso(text)
    assert back == (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC))


def test_stored_timestamps_of_the_first_format_still_read_as_utc() -> None:
    # The first `iso` wrote "...Z"; `fromisoformat` reads that as UTC too.
    back = parse_stored_iso("2024-03-01T12:30:00.000000Z")
    assert back == T0 and back.tzinfo is UTC
