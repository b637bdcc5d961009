"""Blocking: every pair agreeing exactly on a blocking key is a candidate, exactly once."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from identity_graph.fuzzy.blocking import block_keys, candidate_pairs
from identity_graph.fuzzy.compare import build_table
from identity_graph.fuzzy.rules import rules_from_dict

RULE = rules_from_dict(
    {
        "rules": [
            {
                "name": "p",
                "fields": [
                    {"attribute": "last_name", "comparison": "jaro_winkler"},
                    {"attribute": "dob", "comparison": "date"},
                    {"attribute": "postcode", "comparison": "exact"},
                    {"attribute": "first_name", "comparison": "jaro_winkler"},
                ],
                "blocking": [
                    ["last_name[:3]", "dob_year"],
                    ["postcode", "first_name[:1]"],
                    ["phonetic(last_name)"],
                ],
            }
        ]
    }
).rules[0]

names = st.sampled_from(["smith", "smyth", "smithson", "jones", "", "sm", "o'neil", "Zoë"])
dates = st.sampled_from(["1980-01-02", "1980-12-31", "1981-01-02", "02/01/1980", "", "x"])
postcodes = st.sampled_from(["ab1 2cd", "AB1 2CD", "zz9 9zz", ""])
records = st.lists(
    st.fixed_dictionaries(
        {"last_name": names, "dob": dates, "postcode": postcodes, "first_name": names}
    ),
    min_size=0,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(records)
def test_blocking_never_drops_a_pair_that_shares_a_block(rows: list[dict[str, str]]) -> None:
    table = build_table(RULE, [(("t", str(n)), r) for n, r in enumerate(rows)])
    blocks = candidate_pairs(RULE, table)
    got = list(zip(blocks.i.tolist(), blocks.j.tolist(), strict=True))
    assert len(got) == len(set(got)), "a pair was emitted twice"
    assert all(i < j for i, j in got)
    keys = block_keys(RULE, table)
    expected = {
        (i, j)
        for i, j in itertools.combinations(range(len(rows)), 2)
        if any(k[i] and k[i] == k[j] for k in keys)
    }
    assert set(got) == expected


def test_block_values_use_the_normalized_parts() -> None:
    rows = [
        {"last_name": "Smith", "dob": "02/01/1980", "postcode": "AB1 2CD", "first_name": "Ann"},
        {"last_name": "smithers", "dob": "1980-05-05", "postcode": "ab1 2cd", "first_name": "al"},
        {"last_name": "", "dob": "1980-05-05", "postcode": "", "first_name": "al"},
    ]
    table = build_table(RULE, [(("t", str(n)), r) for n, r in enumerate(rows)])
    keys = block_keys(RULE, table)
    assert keys[0][0] == keys[0][1] != ""  # "smi" + 1980
    assert keys[1][0] == keys[1][1] != ""  # postcode + "a"
    assert keys[0][2] == keys[1][2] == keys[2][2] == ""  # a missing part: in no block
    blocks = candidate_pairs(RULE, table)
    assert list(zip(blocks.i.tolist(), blocks.j.tolist(), strict=True)) == [(0, 1)]
    assert blocks.reduction_ratio == 1 - 1 / 3


def test_oversized_blocks_are_skipped_and_reported() -> None:
    rule = rules_from_dict(
        {
            "rules": [
                {
                    "name": "p",
                    "max_block_size": 3,
                    "fields": [{"attribute": "postcode", "comparison": "exact"}],
                    "blocking": [["postcode"]],
                }
            ]
        }
    ).rules[0]
    rows = [{"postcode": "a"}] * 4 + [{"postcode": "b"}] * 2
    table = build_table(rule, [(("t", str(n)), r) for n, r in enumerate(rows)])
    blocks = candidate_pairs(rule, table)
    assert list(zip(blocks.i.tolist(), blocks.j.tolist(), strict=True)) == [(4, 5)]
    assert blocks.skipped_blocks == [("postcode=a", 4)]
