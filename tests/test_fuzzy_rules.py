"""The rule format: a valid file parses, mistakes are ConfigErrors that name the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_graph.errors import ConfigError
from identity_graph.fuzzy.rules import default_rules, load_rules, rules_from_dict

EXAMPLE = """
[fuzzy]
nicknames = { bobo = "roberto" }

[[fuzzy.rules]]
name = "crm-loyalty"
record_types = ["crm_id", "loyalty_id"]
link_threshold = 0.95
review_threshold = 0.7
required = ["first_name"]
blocking = [["last_name[:3]", "dob_year"], "postcode", ["phonetic(last_name)"]]

[[fuzzy.rules.fields]]
attribute = "first_name"
comparison = "jaro_winkler"
levels = [0.9]

[[fuzzy.rules.fields]]
attribute = "last_name"
comparison = "levenshtein"

[[fuzzy.rules.fields]]
attribute = "dob"
comparison = "date"
"""


def test_rules_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    rules = load_rules(path)
    rule = rules.rules[0]
    assert rule.name == "crm-loyalty" and rule.link_rule == "fuzzy:crm-loyalty"
    assert rule.record_types == ("crm_id", "loyalty_id")
    assert rule.applies_to("crm_id") and not rule.applies_to("email")
    assert (rule.link_threshold, rule.review_threshold) == (0.95, 0.7)
    assert [[p.text for p in key] for key in rule.blocking] == [
        ["last_name[:3]", "dob_year"],
        ["postcode"],
        ["phonetic(last_name)"],
    ]
    first_key = rule.blocking[0]
    assert (first_key[0].attribute, first_key[0].prefix) == ("last_name", 3)
    assert (first_key[1].attribute, first_key[1].year) == ("dob", True)
    assert rule.blocking[2][0].phonetic
    assert rule.fields[0].level_count == 3
    assert set(rule.attributes) == {"first_name", "last_name", "dob", "postcode"}
    assert rules.nicknames == {"bobo": "roberto"}


def test_default_rules_require_first_name_and_dob() -> None:
    rule = default_rules().rules[0]
    assert rule.required == ("first_name", "dob")
    assert rule.record_types is None


@pytest.mark.parametrize(
    "change,message",
    [
        ({"fields": [{"attribute": "x", "comparison": "soundalike"}]}, "comparison"),
        ({"blocking": []}, "blocking key"),
        ({"blocking": [["last_name[:x]"]]}, "bad blocking key"),
        ({"link_threshold": 0.5, "review_threshold": 0.8}, "review_threshold"),
        ({"link_threshold": 1.5}, "link_threshold"),
        ({"required": ["email"]}, "required"),
        ({"name": "bad name!"}, "name"),
        ({"fields": [{"attribute": "x", "comparison": "date", "levels": [0.9]}]}, "levels"),
        (
            {"fields": [{"attribute": "x", "comparison": "jaro_winkler", "levels": [0.7, 0.9]}]},
            "decreasing",
        ),
    ],
)
def test_bad_rules_are_config_errors(change: dict[str, object], message: str) -> None:
    rule: dict[str, object] = {
        "name": "r",
        "fields": [{"attribute": "x", "comparison": "exact"}],
        "blocking": [["x"]],
    }
    rule.update(change)
    with pytest.raises(ConfigError, match=message):
        rules_from_dict({"rules": [rule]})


def test_missing_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope.toml")
