"""Batch preparation (`identity_graph.batch_prep`): what a batch will write, worked out without
the store, and how a reader's units are split into batches."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from identity_graph.batch_prep import (
    BIG_FILE_FACTOR,
    PreparedBatch,
    prepare_batch,
    prepared_batches,
)
from identity_graph.config import Config
from identity_graph.matching import (
    aggregate_links,
    co_observation_links,
    star_centre,
    star_links,
)
from identity_graph.models import BehaviourEvent, IdKey, Observation, Reject, iso

T0 = datetime(2026, 3, 1, tzinfo=UTC)
EMAIL: IdKey = ("email", "ann@example.com")
COOKIE: IdKey = ("anonymous_id", "c-1")
DEVICE: IdKey = ("device_id", "d-1")


def obs(key: str, day: int, *ids: IdKey, **attributes: object) -> Observation:
    return Observation(
        "web",
        key,
        T0 + timedelta(days=day),
        ids,
        dict(attributes),
        BehaviourEvent("Viewed", {"page": key}),
        {"marketing": True} if day == 2 else {},
        "events.jsonl",
        day + 1,
    )


def test_repeats_inside_a_batch_are_set_aside_with_their_positions() -> None:
    batch = [obs("m1", 0, COOKIE), obs("m2", 1, COOKIE, EMAIL), obs("m1", 2, DEVICE)]
    prepared = prepare_batch(batch, Config())
    assert prepared.size == 3
    assert prepared.duplicate_positions == [2]
    assert prepared.record_keys == [("web", "m1"), ("web", "m2")]
    assert prepared.fresh() == batch[:2]
    assert prepared.fresh_positions() == [0, 1]
    # the repeat's identifier is not sighted: it will not be written
    assert {k for k, _, _ in prepared.sightings} == {COOKIE, EMAIL}


def test_sightings_span_every_time_an_identifier_is_seen() -> None:
    batch = [obs("m1", 3, COOKIE), obs("m2", 1, COOKIE, EMAIL), obs("m3", 5, COOKIE)]
    spans = {k: (a, b) for k, a, b in prepare_batch(batch, Config()).sightings}
    assert spans[COOKIE] == (T0 + timedelta(days=1), T0 + timedelta(days=5))
    assert spans[EMAIL] == (T0 + timedelta(days=1), T0 + timedelta(days=1))


def test_rows_are_anchored_on_the_star_centre_and_links_are_aggregated() -> None:
    config = Config()
    batch = [
        obs("m1", 0, COOKIE, EMAIL, first_name="Ann"),
        obs("m2", 2, COOKIE, EMAIL, DEVICE),
        obs("m3", 4, DEVICE),
    ]
    prepared = prepare_batch(batch, config)
    centre = star_centre((COOKIE, EMAIL), config)
    assert prepared.anchors == [centre, star_centre((COOKIE, EMAIL, DEVICE), config), DEVICE]
    assert prepared.rows.observations[0] == ("web", "m1", iso(T0), centre)
    assert prepared.rows.attributes == [(0, centre, "first_name", '"Ann"', "web", iso(T0))]
    assert [e[0] for e in prepared.rows.events] == [0, 1, 2]
    assert prepared.rows.events[1][3] == '{"page":"m2"}'
    assert prepared.rows.consent == [
        (1, prepared.anchors[1], "marketing", 1, "web", iso(T0 + timedelta(days=2)))
    ]
    assert prepared.with_traits == {centre}
    expected = aggregate_links(
        (ln for o in batch for ln in star_links(o, config)), config.link_sample_size
    )
    assert prepared.links == expected
    (cookie_email,) = [ln for ln in prepared.links.values() if {ln.a, ln.b} == {COOKIE, EMAIL}]
    assert cookie_email.count == 2


def test_a_batch_survives_the_trip_between_processes() -> None:
    batch = [obs("m1", 0, COOKIE, EMAIL, first_name="Ann"), obs("m1", 1, DEVICE)]
    prepared = prepare_batch(batch, Config())
    wire = pickle.loads(pickle.dumps(prepared.to_wire(), pickle.HIGHEST_PROTOCOL))
    back = PreparedBatch.from_wire(wire)
    for name in ("size", "duplicate_positions", "record_keys", "sightings", "rows", "links"):
        assert getattr(back, name) == getattr(prepared, name), name
    assert back.with_traits == prepared.with_traits
    assert back.fresh() == prepared.fresh()


class ListReader:
    """A reader over a list, each unit `unit_bytes` long."""

    def __init__(self, units: list[Observation | Reject], unit_bytes: int = 100) -> None:
        self.units = units
        self.unit_bytes = unit_bytes
        self.bytes_read = 0

    def __iter__(self) -> Iterator[Observation | Reject]:
        for unit in self.units:
            self.bytes_read += self.unit_bytes
            yield unit


def sizes(units: list[Observation | Reject], config: Config, first: int, total: int | None):
    reader = ListReader(units)
    return [
        item.size if isinstance(item, PreparedBatch) else "reject"
        for item in prepared_batches(reader, config, first, total)
    ]


def test_batches_ramp_up_and_rejects_pass_through_in_order() -> None:
    units: list[Observation | Reject] = [obs(f"m{i}", 0, COOKIE) for i in range(100)]
    units.insert(5, Reject("f", 6, "bad"))
    got = sizes(units, Config(batch_size=40), first=4, total=None)
    assert got == [4, "reject", 5, 6, 7, 8, 10, 12, 15, 18, 15]
    assert sum(s for s in got if s != "reject") == 100


def test_batches_ramp_down_towards_the_end_of_the_file() -> None:
    units: list[Observation | Reject] = [obs(f"m{i}", 0, COOKIE) for i in range(1500)]
    got = sizes(units, Config(batch_size=200), first=10, total=100 * len(units))
    assert sum(got) == 1500  # type: ignore[arg-type]
    assert got[:6] == [10, 12, 15, 18, 22, 27]
    # then full batches while far from the end, and halving near it: a small last batch
    assert max(got) == 200
    assert got[-1] <= 20
    tail = got[got.index(200) :]
    assert tail == sorted(tail, reverse=True)
    # and the same file is always split the same way
    assert got == sizes(units, Config(batch_size=200), first=10, total=100 * len(units))


def test_batches_of_a_big_file_grow_past_batch_size_to_a_tenth_of_what_was_read() -> None:
    units: list[Observation | Reject] = [obs(f"m{i}", 0, COOKIE) for i in range(30_000)]
    got = sizes(units, Config(batch_size=200), first=10, total=100 * len(units))
    assert sum(got) == 30_000  # type: ignore[arg-type]
    assert max(got) == 200 * BIG_FILE_FACTOR  # type: ignore[type-var]
    read = 0
    for size in got:
        assert isinstance(size, int)
        assert size <= max(200, read // 10)
        read += size
    assert got[-1] <= 20  # still ramping down at the end
    assert got == sizes(units, Config(batch_size=200), first=10, total=100 * len(units))


KEYS = [COOKIE, EMAIL, DEVICE, ("phone", "+447700900123"), ("user_id", "u-1"), ("crm_id", "c1")]


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True),
            st.integers(0, 30),
            st.sampled_from(["web", "crm"]),
        ),
        max_size=40,
    )
)
def test_co_observation_links_equal_merging_each_star_in_turn(
    rows: list[tuple[list[IdKey], int, str]],
) -> None:
    config = Config(link_sample_size=3)
    batch = [
        Observation(source, f"m{i}", T0 + timedelta(hours=h), tuple(ids))
        for i, (ids, h, source) in enumerate(rows)
    ]
    centres = [star_centre(o.identifiers, config) for o in batch]
    expected = aggregate_links(
        (ln for o, c in zip(batch, centres, strict=True) for ln in star_links(o, config, c)),
        config.link_sample_size,
    )
    got = co_observation_links(batch, centres, config)
    assert list(got.items()) == list(expected.items())  # same links, in the same order
