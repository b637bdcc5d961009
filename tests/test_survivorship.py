"""Golden attributes: pure, no store."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from identity_graph.config import Config, SourceConfig
from identity_graph.models import AttributeValue, GoldenValue
from identity_graph.survivorship import golden_attributes, updated_most_recent

T0 = datetime(2024, 3, 1, tzinfo=UTC)
ANCHOR = ("email", "a@example.com")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def value(name: str, v: object, source: str, hours: float) -> AttributeValue:
    return AttributeValue(ANCHOR, name, v, source, at(hours))


def with_rule(rule: str, config: Config | None = None) -> Config:
    return replace(config or Config(), survivorship_default=rule)


def prioritised() -> Config:
    return (
        Config()
        .with_source(SourceConfig("crm", priority=30))
        .with_source(SourceConfig("pos", priority=20))
        .with_source(SourceConfig("web", priority=5))
    )


# -- most_recent ------------------------------------------------------------------------------


def test_most_recent_takes_the_latest_value_with_its_source_and_time() -> None:
    values = [
        value("name", "Ann", "crm", 1),
        value("name", "Anne", "web", 5),
        value("name", "A.", "pos", 3),
    ]
    golden = golden_attributes(values, Config())
    assert golden == {"name": GoldenValue("Anne", "web", at(5), "most_recent")}


def test_attributes_are_chosen_independently() -> None:
    values = [
        value("name", "Ann", "crm", 9),
        value("city", "Leeds", "web", 2),
        value("city", "York", "crm", 4),
        value("name", "Anne", "web", 1),
    ]
    golden = golden_attributes(values, Config())
    assert golden["name"] == GoldenValue("Ann", "crm", at(9), "most_recent")
    assert golden["city"] == GoldenValue("York", "crm", at(4), "most_recent")


def test_no_values_no_golden_attributes() -> None:
    assert golden_attributes([], Config()) == {}


# -- source_priority --------------------------------------------------------------------------


def test_source_priority_prefers_the_higher_priority_source() -> None:
    values = [
        value("name", "Ann Web", "web", 10),  # latest, but the lowest priority
        value("name", "Ann CRM", "crm", 1),
        value("name", "Ann POS", "pos", 8),
    ]
    golden = golden_attributes(values, with_rule("source_priority", prioritised()))
    assert golden["name"] == GoldenValue("Ann CRM", "crm", at(1), "source_priority")


def test_source_priority_breaks_ties_by_recency_within_a_source() -> None:
    values = [
        value("phone", "+441", "crm", 1),
        value("phone", "+442", "crm", 7),
        value("phone", "+443", "web", 9),
    ]
    golden = golden_attributes(values, with_rule("source_priority", prioritised()))
    assert golden["phone"] == GoldenValue("+442", "crm", at(7), "source_priority")


def test_unknown_sources_get_the_default_priority() -> None:
    # Default priority is 10: above web (5), below pos (20).
    config = with_rule("source_priority", prioritised())
    values = [value("tier", "gold", "web", 9), value("tier", "silver", "shop", 1)]
    assert golden_attributes(values, config)["tier"].source == "shop"
    values.append(value("tier", "bronze", "pos", 0))
    assert golden_attributes(values, config)["tier"] == GoldenValue(
        "bronze", "pos", at(0), "source_priority"
    )


def test_rule_per_attribute_overrides_the_default() -> None:
    config = replace(prioritised(), survivorship={"name": "source_priority"})
    values = [
        value("name", "Ann CRM", "crm", 1),
        value("name", "Ann Web", "web", 5),
        value("city", "Leeds", "crm", 1),
        value("city", "York", "web", 5),
    ]
    golden = golden_attributes(values, config)
    assert golden["name"] == GoldenValue("Ann CRM", "crm", at(1), "source_priority")
    assert golden["city"] == GoldenValue("York", "web", at(5), "most_recent")


# -- most_frequent ----------------------------------------------------------------------------


def test_most_frequent_takes_the_commonest_value_at_its_latest_sighting() -> None:
    values = [
        value("city", "Leeds", "crm", 1),
        value("city", "Leeds", "web", 4),
        value("city", "Leeds", "pos", 2),
        value("city", "York", "web", 10),
    ]
    golden = golden_attributes(values, with_rule("most_frequent"))
    assert golden["city"] == GoldenValue("Leeds", "web", at(4), "most_frequent")


def test_most_frequent_counts_structured_values_by_content() -> None:
    values = [
        value("address", {"city": "Leeds", "zip": "LS1"}, "crm", 1),
        value("address", {"zip": "LS1", "city": "Leeds"}, "web", 2),
        value("address", {"city": "York", "zip": "YO1"}, "web", 9),
    ]
    golden = golden_attributes(values, with_rule("most_frequent"))
    assert golden["address"].value == {"city": "Leeds", "zip": "LS1"}
    assert (golden["address"].source, golden["address"].timestamp) == ("web", at(2))


def test_most_frequent_tie_goes_to_the_more_recent_value() -> None:
    values = [
        value("city", "Leeds", "crm", 1),
        value("city", "York", "crm", 2),
        value("city", "Leeds", "web", 3),
        value("city", "York", "web", 6),
    ]
    golden = golden_attributes(values, with_rule("most_frequent"))
    assert golden["city"] == GoldenValue("York", "web", at(6), "most_frequent")


# -- determinism ------------------------------------------------------------------------------


def test_same_time_ties_are_broken_by_source_then_value_not_input_order() -> None:
    tied = [
        value("name", "Bea", "crm", 3),
        value("name", "Ann", "web", 3),
        value("name", "Cid", "crm", 3),
    ]
    results = set()
    for seed in range(12):
        shuffled = list(tied)
        random.Random(seed).shuffle(shuffled)
        results.add(golden_attributes(shuffled, Config())["name"])
    assert len(results) == 1
    # Ties on time: the source name decides ("web" > "crm"), then the value's text.
    assert results == {GoldenValue("Ann", "web", at(3), "most_recent")}
    same_source = [value("name", "Bea", "crm", 3), value("name", "Cid", "crm", 3)]
    assert golden_attributes(same_source, Config())["name"].value == "Cid"
    assert golden_attributes(same_source[::-1], Config())["name"].value == "Cid"


def _canonical(v: object) -> str:
    return json.dumps(v, sort_keys=True)


attribute_values = st.lists(
    st.builds(
        value,
        st.sampled_from(["name", "city", "tier"]),
        st.one_of(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 3),
            st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 2), max_size=2),
        ),
        st.sampled_from(["crm", "web", "pos", "shop"]),
        st.integers(0, 5),
    ),
    max_size=12,
)


@settings(max_examples=200)
@given(
    attribute_values,
    st.sampled_from(["most_recent", "source_priority", "most_frequent"]),
    st.randoms(use_true_random=False),
)
def test_golden_values_are_deterministic_and_keep_source_and_time(
    values: list[AttributeValue], rule: str, rnd: random.Random
) -> None:
    config = with_rule(rule, prioritised())
    golden = golden_attributes(values, config)
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert golden_attributes(shuffled, config) == golden
    assert set(golden) == {v.name for v in values}
    for name, g in golden.items():
        assert g.rule == rule
        # The golden value is one observed value, with that observation's source and time.
        assert any(
            v.name == name
            and v.value == g.value
            and v.source == g.source
            and v.timestamp == g.timestamp
            for v in values
        )
        candidates = [v for v in values if v.name == name]
        if rule == "most_recent":
            assert g.timestamp == max(v.timestamp for v in candidates)
        elif rule == "source_priority":
            best = max(config.source(v.source).priority for v in candidates)
            assert config.source(g.source).priority == best
        else:
            counts = Counter(_canonical(v.value) for v in candidates)
            assert counts[_canonical(g.value)] == max(counts.values())


# -- growing a golden record without the history (updated_most_recent) -----------------------
values_strategy = st.lists(
    st.builds(
        value,
        st.sampled_from(["name", "city", "tier"]),
        st.one_of(st.sampled_from(["Ann", "ann", "Bo", ""]), st.integers(0, 3)),
        st.sampled_from(["crm", "pos", "web"]),
        st.integers(0, 4),  # few distinct times: ties on time are common
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(values_strategy, min_size=1, max_size=4), values_strategy)
def test_growing_a_most_recent_golden_record_equals_computing_it_from_all_values(
    profiles: list[list[AttributeValue]], new: list[AttributeValue]
) -> None:
    config = Config()  # most_recent for every attribute
    goldens = [golden_attributes(vs, config) for vs in profiles]
    everything = [v for vs in profiles for v in vs] + new
    assert updated_most_recent(goldens, new, config) == golden_attributes(everything, config)


def test_growing_needs_the_history_when_another_rule_decides() -> None:
    config = replace(Config(), survivorship={"tier": "most_frequent"})
    old = golden_attributes([value("name", "Ann", "web", 1)], config)
    assert updated_most_recent([old], [value("name", "Bo", "crm", 2)], config) is not None
    assert updated_most_recent([old], [value("tier", "gold", "crm", 2)], config) is None
    # a stored golden value decided by a rule the configuration no longer has
    stale = {"name": GoldenValue("Ann", "web", at(1), "source_priority")}
    assert updated_most_recent([stale], [], config) is None
    # the configuration changed the rule of an attribute the profile already has
    by_priority = replace(Config(), survivorship={"name": "source_priority"})
    assert updated_most_recent([old], [], by_priority) is None
