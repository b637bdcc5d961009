"""Each comparison and normalization of the fuzzy matcher, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest

from identity_graph.fuzzy.compare import build_table, compare_pairs, phonetic_key
from identity_graph.fuzzy.normalize import make_normalizer, parse_date
from identity_graph.fuzzy.rules import rules_from_dict


def _rule(field: dict[str, object], extra: list[dict[str, object]] | None = None):
    fields = [field, *(extra or [])]
    attr = str(field["attribute"])
    return rules_from_dict(
        {"rules": [{"name": "t", "fields": fields, "blocking": [[attr]]}]}
    ).rules[0]


def _levels(field: dict[str, object], left: dict[str, str], right: dict[str, str], extra=None):
    rule = _rule(field, extra)
    table = build_table(rule, [(("t", "1"), left), (("t", "2"), right)])
    levels, sims = compare_pairs(rule, table, np.array([0]), np.array([1]))
    return int(levels[0, 0]), float(sims[0, 0])


def test_exact() -> None:
    f = {"attribute": "postcode", "comparison": "exact", "normalize": ["case", "nospace"]}
    assert _levels(f, {"postcode": "SW1A 1AA"}, {"postcode": "sw1a1aa"})[0] == 1
    assert _levels(f, {"postcode": "SW1A 1AA"}, {"postcode": "SW1A 1AB"})[0] == 0
    assert _levels(f, {"postcode": "SW1A 1AA"}, {"postcode": ""})[0] == -1
    assert _levels(f, {"postcode": "SW1A 1AA"}, {})[0] == -1


def test_jaro_winkler_levels() -> None:
    f = {"attribute": "name", "comparison": "jaro_winkler", "levels": [0.92, 0.8]}
    assert _levels(f, {"name": "Jonathan"}, {"name": "jonathan"})[0] == 3  # exact after case
    level, sim = _levels(f, {"name": "Jonathan"}, {"name": "Jonathon"})
    assert level == 2 and 0.92 <= sim < 1
    assert _levels(f, {"name": "Martha"}, {"name": "Marhta"})[0] in (1, 2)
    assert _levels(f, {"name": "Jonathan"}, {"name": "Zoe"})[0] == 0


def test_levenshtein_ratio() -> None:
    f = {"attribute": "nid", "comparison": "levenshtein", "levels": [0.85]}
    assert _levels(f, {"nid": "AB123456C"}, {"nid": "AB123456C"})[0] == 2
    level, sim = _levels(f, {"nid": "AB123456C"}, {"nid": "AB123457C"})
    assert level == 1 and sim == pytest.approx(8 / 9, abs=1e-6)
    assert _levels(f, {"nid": "AB123456C"}, {"nid": "ZZ999999D"})[0] == 0


def test_token_set_ratio_ignores_order_and_abbreviations() -> None:
    f = {
        "attribute": "address",
        "comparison": "token_set",
        "normalize": ["case", "punctuation", "whitespace", "address"],
    }
    assert _levels(f, {"address": "12 High St."}, {"address": "12 high street"})[0] == 3
    assert _levels(f, {"address": "Flat 2, 12 High Street"}, {"address": "12 High Street"})[0] >= 2
    assert _levels(f, {"address": "12 High Street"}, {"address": "99 Mill Lane"})[0] == 0


def test_date_levels() -> None:
    f = {"attribute": "dob", "comparison": "date"}
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "12/03/1985"})[0] == 3
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "12 Mar 1985"})[0] == 3
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "1985-12-03"})[0] == 2  # day/month swap
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "1986-03-12"})[0] == 1  # one digit
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "1985-03-21"})[0] == 1  # transposition
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "1990-07-01"})[0] == 0
    assert _levels(f, {"dob": "1985-03-12"}, {"dob": "not a date"})[0] == -1


def test_numeric_distance() -> None:
    f = {"attribute": "age", "comparison": "numeric", "tolerance": 2}
    assert _levels(f, {"age": "40"}, {"age": "40.0"})[0] == 2
    assert _levels(f, {"age": "40"}, {"age": "42"})[0] == 1
    assert _levels(f, {"age": "40"}, {"age": "50"})[0] == 0
    assert _levels(f, {"age": "40"}, {"age": "n/a"})[0] == -1


def test_phonetic_key() -> None:
    f = {"attribute": "last", "comparison": "phonetic"}
    assert phonetic_key("smith") == phonetic_key("smyth")
    assert _levels(f, {"last": "Smith"}, {"last": "Smyth"})[0] == 1
    assert _levels(f, {"last": "Smith"}, {"last": "Jones"})[0] == 0


def test_swapped_first_and_last_name_agree() -> None:
    f = {"attribute": "first", "comparison": "jaro_winkler", "swap_with": "last"}
    extra = [{"attribute": "last", "comparison": "jaro_winkler", "swap_with": "first"}]
    a, b = {"first": "Ann", "last": "Smith"}, {"first": "Smith", "last": "Ann"}
    assert _levels(f, a, b, extra)[0] == 3
    # swapped with a typo still agrees partially
    assert _levels(f, a, {"first": "Smyth", "last": "Ann"}, extra)[0] >= 1
    assert _levels(f, a, {"first": "Smith", "last": "Bob"}, extra)[0] == 0


def test_normalization_steps() -> None:
    names = make_normalizer(("accents", "case", "punctuation", "whitespace", "nicknames"))
    assert names("  Zoë ") == "zoe"
    assert names("BOB") == "robert"
    assert names("Mary-Jane") == "mary jane"
    custom = make_normalizer(("case", "nicknames"), {"bobo": "roberto"})
    assert custom("Bobo") == "roberto"
    address = make_normalizer(("case", "punctuation", "whitespace", "address"))
    assert address("12, Mill Rd.") == "12 mill road"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1985-03-12", "1985-03-12"),
        ("12/03/1985", "1985-03-12"),
        ("12.3.1985", "1985-03-12"),
        ("12 Mar 1985", "1985-03-12"),
        ("March 12, 1985", "1985-03-12"),
        ("19850312", "1985-03-12"),
        ("03/25/1985", "1985-03-25"),  # a second number above 12 is the day
        ("12/03/85", "1985-03-12"),
        ("", ""),
        ("soon", ""),
    ],
)
def test_parse_date(text: str, expected: str) -> None:
    assert parse_date(text) == expected
