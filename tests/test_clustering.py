"""Constrained clustering and co-observation links: pure, no store.

Differential (constraints off = networkx connected components on random graphs) and by
properties (limits always hold, blocked unions are reported, any input order gives the same
partition).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity_graph.clustering import (
    Blocked,
    NodeState,
    cluster,
    link_order,
    map_to_profiles,
    window_count_ok,
)
from identity_graph.config import DEFAULT_TYPES, Config, IdentifierType, SourceConfig, TypeLimit
from identity_graph.matching import CO_OBSERVED, aggregate_links, merge_link, star_links
from identity_graph.models import IdKey, Link, Observation

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = 86400.0

Partition = set[frozenset[IdKey]]


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def link(
    x: IdKey, y: IdKey, weight: float = 1.0, day: float = 0.0, rule: str = CO_OBSERVED
) -> Link:
    a, b = sorted((x, y))
    return Link(a=a, b=b, rule=rule, weight=weight, count=1, first_seen=at(day), last_seen=at(day))


def states(keys: list[IdKey], day: float = 0.0, generic: frozenset[IdKey] = frozenset()) -> dict:
    return {k: NodeState(k, at(day), k in generic) for k in keys}


def partition(components: list[list[IdKey]]) -> Partition:
    return {frozenset(c) for c in components}


def unconstrained() -> Config:
    types = {name: replace(t, limit=None) for name, t in DEFAULT_TYPES.items()}
    return Config(link_threshold=0.0, max_profile_size=10**9, generic_bounds={}, types=types)


def component_of(parts: Partition, key: IdKey) -> frozenset[IdKey]:
    (found,) = [p for p in parts if key in p]
    return found


UID = [("user_id", f"u{i}") for i in range(4)]
EMAIL = [("email", f"e{i}@example.com") for i in range(8)]
ANON = [("anonymous_id", f"c{i}") for i in range(10)]


# -- differential: constraints off = connected components ---------------------------------------

TYPE_NAMES = sorted(DEFAULT_TYPES)


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[dict[IdKey, NodeState], list[Link]]:
    n = draw(st.integers(1, 14))
    keys = [(draw(st.sampled_from(TYPE_NAMES)), f"n{i}") for i in range(n)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            max_size=3 * n,
        )
    )
    links: dict[tuple[IdKey, IdKey], Link] = {}
    for i, j in pairs:
        ln = link(
            keys[i],
            keys[j],
            weight=draw(st.floats(0.0, 1.0)),
            day=draw(st.integers(0, 30)),
        )
        links[ln.pair] = ln
    nodes = {k: NodeState(k, at(draw(st.integers(0, 30)))) for k in keys}
    return nodes, list(links.values())


@settings(max_examples=300)
@given(random_graphs())
def test_without_constraints_cluster_equals_connected_components(graph: tuple) -> None:
    nodes, links = graph
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(ln.pair for ln in links)
    expected = {frozenset(c) for c in nx.connected_components(g)}
    components, blocked = cluster(unconstrained(), nodes, links)
    assert partition(components) == expected
    assert blocked == []
    # Every node appears exactly once.
    assert sorted(k for c in components for k in c) == sorted(nodes)


def test_differential_on_a_larger_random_graph() -> None:
    rng = random.Random(7)
    keys = [(rng.choice(TYPE_NAMES), f"n{i}") for i in range(400)]
    links = {}
    for _ in range(380):
        x, y = rng.sample(keys, 2)
        ln = link(x, y, weight=rng.random(), day=rng.randrange(60))
        links[ln.pair] = ln
    nodes = states(keys)
    g = nx.Graph()
    g.add_nodes_from(keys)
    g.add_edges_from(links)
    components, _ = cluster(unconstrained(), nodes, list(links.values()))
    assert partition(components) == {frozenset(c) for c in nx.connected_components(g)}
    assert len(components) > 1  # the graph is not trivially connected


# -- threshold --------------------------------------------------------------------------------


def test_links_below_threshold_never_join() -> None:
    config = replace(unconstrained(), link_threshold=0.5)
    a, b, c, d = EMAIL[:4]
    links = [link(a, b, 0.49), link(b, c, 0.5), link(c, d, 0.1)]
    components, blocked = cluster(config, states([a, b, c, d]), links)
    assert partition(components) == {frozenset({a}), frozenset({b, c}), frozenset({d})}
    assert blocked == []  # below threshold is not a blocked union


@settings(max_examples=150)
@given(random_graphs(), st.floats(0.0, 1.0))
def test_threshold_equals_components_of_strong_links(graph: tuple, threshold: float) -> None:
    nodes, links = graph
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(ln.pair for ln in links if ln.weight >= threshold)
    config = replace(unconstrained(), link_threshold=threshold)
    components, _ = cluster(config, nodes, links)
    assert partition(components) == {frozenset(c) for c in nx.connected_components(g)}


# -- per-type limits --------------------------------------------------------------------------


def test_two_user_ids_never_join_and_the_union_is_reported() -> None:
    u0, u1 = UID[:2]
    e = EMAIL[0]
    components, blocked = cluster(Config(), states([u0, u1, e]), [link(u0, e), link(u1, e)])
    parts = partition(components)
    assert component_of(parts, u0) != component_of(parts, u1)
    assert len(blocked) == 1
    assert isinstance(blocked[0], Blocked)
    assert "user_id" in blocked[0].constraint
    assert {blocked[0].link.a, blocked[0].link.b} & {u0, u1}


def test_direct_link_between_user_ids_is_blocked() -> None:
    u0, u1 = UID[:2]
    components, blocked = cluster(Config(), states([u0, u1]), [link(u0, u1)])
    assert partition(components) == {frozenset({u0}), frozenset({u1})}
    assert [b.link.pair for b in blocked] == [(u0, u1)]
    assert "limit of 1 user_id" in blocked[0].constraint


def test_stronger_link_wins_the_contested_identifier() -> None:
    u0, u1 = UID[:2]
    e = EMAIL[0]
    links = [link(u0, e, 0.7), link(u1, e, 0.9)]
    components, _ = cluster(Config(), states([u0, u1, e]), links)
    assert frozenset({u1, e}) in partition(components)


def test_earlier_link_wins_on_equal_weight() -> None:
    u0, u1 = UID[:2]
    e = EMAIL[0]
    links = [link(u0, e, 0.9, day=5), link(u1, e, 0.9, day=2)]
    components, _ = cluster(Config(), states([u0, u1, e]), links)
    assert frozenset({u1, e}) in partition(components)


@st.composite
def typed_graphs(
    draw: st.DrawFn, kinds: tuple[str, ...] = ("user_id", "email", "anonymous_id")
) -> tuple[dict[IdKey, NodeState], list[Link]]:
    n = draw(st.integers(2, 16))
    keys = [(draw(st.sampled_from(kinds)), f"v{i}") for i in range(n)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            max_size=3 * n,
        )
    )
    links: dict[tuple[IdKey, IdKey], Link] = {}
    for i, j in pairs:
        ln = link(
            keys[i],
            keys[j],
            weight=draw(st.sampled_from([0.3, 0.6, 0.8, 0.95, 1.0])),
            day=draw(st.integers(0, 20)),
        )
        links[ln.pair] = ln
    nodes = {k: NodeState(k, at(draw(st.integers(0, 20)))) for k in keys}
    return nodes, list(links.values())


def _would_violate(config: Config, nodes: dict, merged: frozenset[IdKey]) -> bool:
    if len(merged) > config.max_profile_size:
        return True
    for type_name, t in config.types.items():
        if t.limit is None:
            continue
        times = sorted(nodes[k].first_seen.timestamp() for k in merged if k[0] == type_name)
        if not window_count_ok(times, t.limit):
            return True
    return False


@settings(max_examples=300)
@given(typed_graphs())
def test_limits_hold_and_clusters_are_maximal(graph: tuple) -> None:
    nodes, links = graph
    config = Config()
    components, blocked = cluster(config, nodes, links)
    parts = partition(components)
    assert sorted(k for c in components for k in c) == sorted(nodes)
    strong = nx.Graph()
    strong.add_nodes_from(nodes)
    strong.add_edges_from(ln.pair for ln in links if ln.weight >= config.link_threshold)
    for part in parts:
        # At most one user_id; at most 5 anonymous_ids first seen within any 7 days.
        assert sum(1 for k in part if k[0] == "user_id") <= 1
        assert not _would_violate(config, nodes, part)
        # A profile is connected through links at or above the threshold.
        assert nx.is_connected(strong.subgraph(part))
    # Maximal: any eligible link still between two profiles would break a constraint.
    for ln in links:
        if ln.weight < config.link_threshold:
            continue
        pa, pb = component_of(parts, ln.a), component_of(parts, ln.b)
        if pa != pb:
            assert _would_violate(config, nodes, pa | pb)
    # Every reported block names a limit and an eligible link.
    for b in blocked:
        assert b.link.weight >= config.link_threshold
        assert "limit of" in b.constraint


@settings(max_examples=200)
@given(typed_graphs(kinds=("user_id", "email")))
def test_every_blocked_union_between_user_ids_is_reported(graph: tuple) -> None:
    nodes, links = graph
    components, blocked = cluster(Config(), nodes, links)
    parts = partition(components)
    uid_blocks = [b for b in blocked if "user_id" in b.constraint]
    # Two user_ids joined by an eligible path without them being together means a block.
    strong = nx.Graph()
    strong.add_nodes_from(nodes)
    strong.add_edges_from(ln.pair for ln in links if ln.weight >= 0.5)
    for comp in nx.connected_components(strong):
        uids = [k for k in comp if k[0] == "user_id"]
        if len(uids) > 1:
            assert len({component_of(parts, u) for u in uids}) == len(uids)
            assert uid_blocks
    for b in uid_blocks:
        assert component_of(parts, b.link.a) != component_of(parts, b.link.b)


# -- time-window limits -----------------------------------------------------------------------


def _cookies_on_one_email(spacing_days: float) -> tuple[Partition, list[Blocked]]:
    e = EMAIL[0]
    cookies = ANON[:6]
    nodes = {e: NodeState(e, at(0))}
    nodes.update({c: NodeState(c, at(i * spacing_days)) for i, c in enumerate(cookies)})
    links = [link(e, c, 0.8, day=i) for i, c in enumerate(cookies)]
    components, blocked = cluster(Config(), nodes, links)
    return partition(components), blocked


def test_six_anonymous_ids_within_seven_days_cannot_join() -> None:
    parts, blocked = _cookies_on_one_email(1.0)
    main = component_of(parts, EMAIL[0])
    assert sum(1 for k in main if k[0] == "anonymous_id") == 5
    assert ANON[5] not in main  # the latest link is the one refused
    assert len(blocked) == 1
    assert "anonymous_id" in blocked[0].constraint
    assert "7 days" in blocked[0].constraint


def test_anonymous_ids_spread_over_weeks_can_join() -> None:
    parts, blocked = _cookies_on_one_email(2.0)  # six cookies over ten days
    assert component_of(parts, EMAIL[0]) == frozenset({EMAIL[0], *ANON[:6]})
    assert blocked == []


def test_many_anonymous_ids_over_months_join() -> None:
    e = EMAIL[0]
    cookies = [("anonymous_id", f"w{i}") for i in range(20)]
    nodes = {e: NodeState(e, at(0))}
    nodes.update({c: NodeState(c, at(i * 7.5)) for i, c in enumerate(cookies)})
    links = [link(e, c, 0.8) for c in cookies]
    components, blocked = cluster(Config(), nodes, links)
    assert len(components) == 1
    assert blocked == []


@pytest.mark.parametrize(
    ("times_days", "limit", "ok"),
    [
        ([], TypeLimit(1), True),
        ([0], TypeLimit(1), True),
        ([0, 100], TypeLimit(1), False),
        ([0, 1, 2, 3, 4], TypeLimit(5, 7.0), True),
        ([0, 1, 2, 3, 4, 5], TypeLimit(5, 7.0), False),
        ([0, 1, 2, 3, 4, 7], TypeLimit(5, 7.0), False),  # the window is inclusive
        ([0, 1, 2, 3, 4, 7.001], TypeLimit(5, 7.0), True),
        ([0, 2, 4, 6, 8, 10], TypeLimit(5, 7.0), True),
        ([0, 2, 4, 6, 8, 10, 10.5], TypeLimit(5, 7.0), True),  # at most 5 in any 7 days
        ([0, 2, 4, 5, 6, 7, 7.5], TypeLimit(5, 7.0), False),  # six within 2..9
        ([0, 0, 0], TypeLimit(2, 1.0), False),
        ([0, 10, 20, 30], TypeLimit(1, 7.0), True),
    ],
)
def test_window_count_ok(times_days: list[float], limit: TypeLimit, ok: bool) -> None:
    assert window_count_ok([t * DAY for t in times_days], limit) is ok


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 60), max_size=14),
    st.integers(1, 5),
    st.one_of(st.none(), st.sampled_from([0.0, 1.0, 7.0, 30.0])),
)
def test_window_count_ok_matches_brute_force(
    days: list[int], mx: int, window: float | None
) -> None:
    times = sorted(d * DAY for d in days)
    limit = TypeLimit(mx, window)
    if window is None:
        expected = len(times) <= mx
    else:
        # No closed window [t, t + span] starting at a sighting holds more than mx sightings.
        span = window * DAY
        expected = all(sum(1 for u in times if t <= u <= t + span) <= mx for t in times)
    assert window_count_ok(times, limit) is expected


# -- size cap, never-link, forced, generic ----------------------------------------------------


def test_profile_size_cap() -> None:
    config = replace(unconstrained(), max_profile_size=3)
    chain = EMAIL[:7]
    links = [link(chain[i], chain[i + 1], 1.0, day=i) for i in range(6)]
    components, blocked = cluster(config, states(chain), links)
    assert all(len(c) <= 3 for c in components)
    assert sorted(len(c) for c in components) == [1, 3, 3]
    assert blocked and all("size cap 3" in b.constraint for b in blocked)


def test_never_link_holds_even_through_other_paths() -> None:
    a, b, c, d = EMAIL[:4]
    links = [link(a, c), link(c, d), link(d, b)]
    components, blocked = cluster(Config(), states([a, b, c, d]), links, never_links=[(a, b)])
    parts = partition(components)
    assert component_of(parts, a) != component_of(parts, b)
    assert any(blk.constraint == "never_link override" for blk in blocked)


def test_never_link_blocks_a_direct_forced_link() -> None:
    a, b = EMAIL[:2]
    components, _ = cluster(
        Config(), states([a, b]), [link(a, b, 0.2)], never_links=[(a, b)], forced=[(a, b)]
    )
    assert len(components) == 2


@settings(max_examples=200)
@given(typed_graphs(), st.data())
def test_never_links_hold_on_random_graphs(graph: tuple, data: st.DataObject) -> None:
    nodes, links = graph
    keys = sorted(nodes)
    never = data.draw(st.lists(st.tuples(st.sampled_from(keys), st.sampled_from(keys)), max_size=4))
    never = [(x, y) for x, y in never if x != y]
    components, _ = cluster(unconstrained(), nodes, links, never_links=never)
    parts = partition(components)
    for x, y in never:
        assert component_of(parts, x) != component_of(parts, y)


def test_forced_links_join_below_threshold() -> None:
    a, b, c = EMAIL[:3]
    links = [link(a, b, 0.1), link(b, c, 0.1)]
    components, _ = cluster(Config(), states([a, b, c]), links, forced=[(b, a)])
    assert partition(components) == {frozenset({a, b}), frozenset({c})}


def test_forced_link_respects_limits_unless_forced_past_them() -> None:
    u0, u1 = UID[:2]
    links = [link(u0, u1, 1.0, rule="steward")]
    components, blocked = cluster(Config(), states([u0, u1]), links, forced=[(u0, u1)])
    assert len(components) == 2
    assert "user_id" in blocked[0].constraint
    components, blocked = cluster(
        Config(), states([u0, u1]), links, forced=[(u0, u1)], force_beats_limits=[(u0, u1)]
    )
    assert len(components) == 1
    assert blocked == []


def test_forced_links_come_first() -> None:
    u0, u1 = UID[:2]
    e = EMAIL[0]
    # The strong link would give e to u0; the steward's weaker force link wins.
    links = [link(u0, e, 1.0), link(u1, e, 0.2, rule="steward")]
    components, _ = cluster(Config(), states([u0, u1, e]), links, forced=[(u1, e)])
    assert frozenset({u1, e}) in partition(components)


def test_generic_nodes_do_not_link() -> None:
    cookie = ANON[0]
    people = EMAIL[:4]
    links = [link(cookie, p) for p in people]
    nodes = states([cookie, *people], generic=frozenset({cookie}))
    components, blocked = cluster(Config(), nodes, links)
    assert partition(components) == {frozenset({k}) for k in [cookie, *people]}
    assert blocked == []


def test_generic_node_joins_only_through_a_forced_link() -> None:
    cookie, e0, e1 = ANON[0], EMAIL[0], EMAIL[1]
    nodes = states([cookie, e0, e1], generic=frozenset({cookie}))
    links = [link(cookie, e0), link(cookie, e1)]
    components, _ = cluster(Config(), nodes, links, forced=[(cookie, e1)])
    assert partition(components) == {frozenset({cookie, e1}), frozenset({e0})}


# -- order independence -----------------------------------------------------------------------


@settings(max_examples=200)
@given(typed_graphs(), st.randoms(use_true_random=False))
def test_shuffled_links_give_the_same_partition(graph: tuple, rnd: random.Random) -> None:
    nodes, links = graph
    base, blocked = cluster(Config(), nodes, links)
    shuffled = list(links)
    rnd.shuffle(shuffled)
    node_items = list(nodes.items())
    rnd.shuffle(node_items)
    again, blocked_again = cluster(Config(), dict(node_items), shuffled)
    assert partition(again) == partition(base)
    assert sorted((b.link.pair, b.constraint) for b in blocked_again) == sorted(
        (b.link.pair, b.constraint) for b in blocked
    )


def test_link_order_is_forced_then_weight_then_time_then_keys() -> None:
    e0, e1, e2 = EMAIL[:3]
    strong_late = link(e0, e1, 0.9, day=5)
    strong_early = link(e1, e2, 0.9, day=1)
    weak = link(e0, e2, 0.3, day=0)
    order = sorted([weak, strong_late, strong_early], key=lambda ln: link_order(ln, False))
    assert order == [strong_early, strong_late, weak]
    assert link_order(weak, True) < link_order(strong_early, False)


# -- map_to_profiles --------------------------------------------------------------------------


def test_largest_overlap_keeps_the_id() -> None:
    a, b, c, d, e = EMAIL[:5]
    previous = {a: 1, b: 1, c: 2, d: 2, e: 2}
    # Component 0 holds one of profile 2's members, component 1 holds two.
    ids = map_to_profiles([[a, b, c], [d, e]], previous)
    assert ids == [1, 2]
    ids = map_to_profiles([[a, c], [b, d, e]], previous)
    assert ids == [1, 2]


def test_overlap_ties_go_to_the_older_id() -> None:
    a, b, c, d = EMAIL[:4]
    # One component overlaps profiles 7 and 3 equally: it keeps 3.
    assert map_to_profiles([[a, b, c, d]], {a: 7, b: 7, c: 3, d: 3}) == [3]
    assert map_to_profiles([[d, c, b, a]], {a: 3, b: 3, c: 7, d: 7}) == [3]


def test_each_old_id_used_at_most_once_and_unmatched_get_none() -> None:
    a, b, c, d, e, f = EMAIL[:6]
    previous = {a: 5, b: 5, c: 5, d: 5}
    ids = map_to_profiles([[a], [b, c, d], [e], [f]], previous)
    assert ids == [None, 5, None, None]


def test_second_best_old_id_goes_to_the_loser() -> None:
    a, b, c, d, e = EMAIL[:5]
    previous = {a: 1, b: 1, c: 1, d: 2, e: 2}
    # Component 1 takes id 1 (overlap 2 vs 1); component 0 then takes 2 (overlap 1).
    ids = map_to_profiles([[a, d], [b, c, e]], previous)
    assert ids == [2, 1]


@settings(max_examples=200)
@given(
    st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=6, unique=True), max_size=6),
    st.dictionaries(st.integers(0, 30), st.integers(1, 6)),
)
def test_map_to_profiles_properties(groups: list[list[int]], old: dict[int, int]) -> None:
    seen: set[int] = set()
    components = []
    for g in groups:
        members = [("email", f"m{i}") for i in g if i not in seen]
        seen.update(g)
        if members:
            components.append(members)
    previous = {("email", f"m{i}"): pid for i, pid in old.items()}
    ids = map_to_profiles(components, previous)
    assert len(ids) == len(components)
    given_ids = [i for i in ids if i is not None]
    assert len(given_ids) == len(set(given_ids))  # each old id at most once
    for comp, pid in zip(components, ids, strict=True):
        overlaps = {previous[k] for k in comp if k in previous}
        if pid is not None:
            assert pid in overlaps  # only ids the component actually overlaps
        else:
            assert overlaps <= set(given_ids)  # every id it overlapped went elsewhere
    # Deterministic.
    assert map_to_profiles(components, previous) == ids


# -- star links and link evidence -------------------------------------------------------------


def obs(*identifiers: IdKey, source: str = "web", key: str = "r1", day: float = 0.0) -> Observation:
    return Observation(source, key, at(day), tuple(identifiers))


def test_star_links_touch_the_strongest_identifier() -> None:
    u, e, c0, c1 = UID[0], EMAIL[0], ANON[0], ANON[1]
    links = star_links(obs(c0, e, c1, u), Config())
    assert len(links) == 3
    assert all(u in ln.pair for ln in links)
    assert {k for ln in links for k in ln.pair} == {u, e, c0, c1}
    assert all(ln.a < ln.b for ln in links)
    assert all(ln.rule == CO_OBSERVED and ln.count == 1 for ln in links)
    assert all(ln.samples == ("web:r1",) and ln.sources == ("web",) for ln in links)


def test_star_centre_email_over_anonymous_id() -> None:
    e, c0, c1 = EMAIL[0], ANON[0], ANON[1]
    links = star_links(obs(c0, c1, e), Config())
    assert sorted(ln.pair for ln in links) == sorted([(c0, e), (c1, e)])


def test_star_link_weight_is_min_type_weight_times_source_trust() -> None:
    e, c = EMAIL[0], ANON[0]
    config = Config().with_source(SourceConfig("pos", trust=0.5))
    (ln,) = star_links(obs(e, c, source="pos"), config)
    assert ln.weight == pytest.approx(0.8 * 0.5)
    (ln,) = star_links(obs(e, UID[0]), Config())
    assert ln.weight == pytest.approx(0.95)


def test_single_identifier_and_unlinkable_types_make_no_links() -> None:
    assert star_links(obs(EMAIL[0]), Config()) == []
    types = {**DEFAULT_TYPES, "ip": IdentifierType("ip", strength=10, linkable=False)}
    config = Config(types=types)
    ip = ("ip", "10.0.0.1")
    links = star_links(obs(EMAIL[0], ip, ANON[0]), config)
    assert [ln.pair for ln in links] == [(ANON[0], EMAIL[0])]


@settings(max_examples=200)
@given(st.sets(st.sampled_from(UID + EMAIL[:4] + ANON[:4]), min_size=1, max_size=9))
def test_star_links_n_minus_one_around_the_strongest(identifiers: set[IdKey]) -> None:
    config = Config()
    ids = sorted(identifiers)
    random.Random(len(ids)).shuffle(ids)
    links = star_links(obs(*ids), config)
    assert len(links) == len(ids) - 1
    if not links:
        return
    strength = {"user_id": 100, "email": 70, "anonymous_id": 20}
    top = max(strength[k[0]] for k in ids)
    centre = min(k for k in ids if strength[k[0]] == top)
    assert all(centre in ln.pair for ln in links)
    assert len({ln.pair for ln in links}) == len(links)
    # The order identifiers appear in the observation does not matter.
    assert {ln.pair for ln in star_links(obs(*reversed(ids)), config)} == {ln.pair for ln in links}


PAIR = (EMAIL[0], UID[0])


@st.composite
def evidence(draw: st.DrawFn) -> Link:
    first = draw(st.integers(0, 50))
    return Link(
        a=PAIR[0],
        b=PAIR[1],
        rule=CO_OBSERVED,
        weight=draw(st.sampled_from([0.2, 0.5, 0.8, 1.0])),
        count=draw(st.integers(1, 5)),
        first_seen=at(first),
        last_seen=at(first + draw(st.integers(0, 10))),
        sources=tuple(sorted(draw(st.sets(st.sampled_from(["web", "crm", "pos"]), min_size=1)))),
        samples=tuple(
            sorted(draw(st.sets(st.sampled_from([f"web:r{i}" for i in range(12)]), min_size=1)))
        )[:3],
    )


def _fold(links: list[Link], size: int) -> Link:
    acc = links[0]
    for ln in links[1:]:
        acc = merge_link(acc, ln, size)
    return acc


def _summary(ln: Link) -> tuple:
    return (
        ln.a,
        ln.b,
        ln.rule,
        ln.weight,
        ln.count,
        ln.first_seen,
        ln.last_seen,
        ln.sources,
        ln.samples,
    )


@settings(max_examples=200)
@given(st.lists(evidence(), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_merge_link_is_order_independent(links: list[Link], rnd: random.Random) -> None:
    size = 3
    merged = _fold(links, size)
    shuffled = list(links)
    rnd.shuffle(shuffled)
    assert _summary(_fold(shuffled, size)) == _summary(merged)
    assert merged.count == sum(ln.count for ln in links)
    assert merged.first_seen == min(ln.first_seen for ln in links)
    assert merged.last_seen == max(ln.last_seen for ln in links)
    assert merged.weight == max(ln.weight for ln in links)
    assert merged.sources == tuple(sorted({s for ln in links for s in ln.sources}))
    all_samples = sorted({s for ln in links for s in ln.samples})
    assert merged.samples == tuple(all_samples[:size])
    if len(links) >= 2:
        a, b = links[0], links[1]
        assert _summary(merge_link(a, b, size)) == _summary(merge_link(b, a, size))


@settings(max_examples=100)
@given(st.lists(evidence(), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_aggregate_links_is_order_independent(links: list[Link], rnd: random.Random) -> None:
    shuffled = list(links)
    rnd.shuffle(shuffled)
    one = aggregate_links(links, 3)
    two = aggregate_links(shuffled, 3)
    assert list(one) == [(PAIR[0], PAIR[1], CO_OBSERVED)]
    assert _summary(one[(PAIR[0], PAIR[1], CO_OBSERVED)]) == _summary(
        two[(PAIR[0], PAIR[1], CO_OBSERVED)]
    )
