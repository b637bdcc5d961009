from __future__ import annotations

import io
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity_graph.errors import InputError
from identity_graph.evaluation import (
    PairScores,
    evaluate,
    pair_scores,
    read_assignments,
    read_truth,
)


def brute_force(predicted: dict[int, str], truth: dict[int, str]) -> tuple[int, int, int]:
    keys = sorted(truth)
    true_pairs = predicted_pairs = correct = 0
    for a, b in combinations(keys, 2):
        same_person = truth[a] == truth[b]
        pa, pb = predicted.get(a), predicted.get(b)
        same_profile = pa is not None and pa == pb
        true_pairs += same_person
        predicted_pairs += same_profile
        correct += same_person and same_profile
    return true_pairs, predicted_pairs, correct


def test_hand_computed_example() -> None:
    truth = {"a": "P1", "b": "P1", "c": "P1", "d": "P2", "e": "P2"}
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}
    s = pair_scores(predicted, truth)
    # true pairs: ab ac bc de = 4; predicted: ab cd ce de = 4; correct: ab de = 2
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (4, 4, 2)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(0.5)
    assert s.identifiers == 5


def test_perfect_clustering_scores_one() -> None:
    truth = {1: "A", 2: "A", 3: "B", 4: "B", 5: "B"}
    predicted = {1: "p9", 2: "p9", 3: "p1", 4: "p1", 5: "p1"}
    s = pair_scores(predicted, truth)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert s.correct_pairs == s.true_pairs == 4


def test_everything_merged() -> None:
    truth = {1: "A", 2: "A", 3: "B", 4: "C"}
    predicted = dict.fromkeys(truth, "one")
    s = pair_scores(predicted, truth)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (1, 6, 1)
    assert s.precision == pytest.approx(1 / 6)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(2 * (1 / 6) / (1 / 6 + 1))


def test_missing_predictions_are_singletons_and_unknown_keys_ignored() -> None:
    truth = {"a": "P", "b": "P", "c": "P"}
    predicted = {"a": "X", "b": "X", "zzz": "X", "yyy": "X"}  # c missing; zzz/yyy not in truth
    s = pair_scores(predicted, truth)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (3, 1, 1)
    assert s.precision == 1.0
    assert s.recall == pytest.approx(1 / 3)
    assert s.identifiers == 3


def test_conventions_when_there_are_no_pairs() -> None:
    # nothing predicted: precision defined as 1.0
    s = pair_scores({}, {"a": "P", "b": "P"})
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)
    # nothing to find: recall defined as 1.0
    s = pair_scores({"a": "X", "b": "X"}, {"a": "P", "b": "Q"})
    assert (s.precision, s.recall, s.f1) == (0.0, 1.0, 0.0)
    # empty truth
    assert pair_scores({}, {}) == PairScores(1.0, 1.0, 1.0, 0, 0, 0, 0)


labels = st.sampled_from(["a", "b", "c", "d"])


@given(
    truth=st.dictionaries(st.integers(0, 25), labels, max_size=26),
    predicted=st.dictionaries(st.integers(0, 30), labels, max_size=31),
)
def test_pair_scores_match_brute_force(truth: dict[int, str], predicted: dict[int, str]) -> None:
    s = pair_scores(predicted, truth)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == brute_force(predicted, truth)
    assert 0.0 <= s.precision <= 1.0
    assert 0.0 <= s.recall <= 1.0
    assert 0.0 <= s.f1 <= 1.0
    assert s.identifiers == len(truth)
    if s.predicted_pairs:
        assert s.precision == pytest.approx(s.correct_pairs / s.predicted_pairs)
    if s.true_pairs:
        assert s.recall == pytest.approx(s.correct_pairs / s.true_pairs)


@given(truth=st.dictionaries(st.integers(0, 40), labels, max_size=41))
def test_truth_against_itself_is_perfect(truth: dict[int, str]) -> None:
    s = pair_scores(truth, truth)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_evaluate_reports_linkable_subset_and_mixed_profiles() -> None:
    truth = {
        ("email", "a@x.com"): ("P1", True),
        ("user_id", "u1"): ("P1", True),
        ("anonymous_id", "c1"): ("P1", False),
        ("email", "b@x.com"): ("P2", True),
        ("user_id", "u2"): ("P2", True),
        ("anonymous_id", "kiosk"): ("public", False),
    }
    assignments = {
        ("email", "a@x.com"): "X",
        ("user_id", "u1"): "X",
        ("anonymous_id", "c1"): "Z",
        ("email", "b@x.com"): "Y",
        ("user_id", "u2"): "X",
        ("anonymous_id", "kiosk"): "X",
        ("phone", "+447400000000"): "X",  # not in truth: ignored
    }
    report = evaluate(assignments, truth)
    all_ = report.all_identifiers
    # true pairs: P1 (3 ids) = 3, P2 = 1 -> 4; predicted: X has 4 truth ids = 6
    assert (all_.true_pairs, all_.predicted_pairs, all_.correct_pairs) == (4, 6, 1)
    link = report.linkable_identifiers
    # linkable: a, u1 (P1); b, u2 (P2). X holds a, u1, u2 -> 3 pairs, 1 correct
    assert (link.true_pairs, link.predicted_pairs, link.correct_pairs) == (2, 3, 1)
    assert link.identifiers == 4
    assert report.max_persons_per_profile == 3  # X: P1, P2, public
    assert report.profiles_with_several_persons == 1
    as_dict = report.to_dict()
    assert as_dict["max_persons_per_profile"] == 3
    assert isinstance(as_dict["all_identifiers"], dict)


def test_evaluate_with_no_assignments() -> None:
    report = evaluate({}, {("email", "a@x.com"): ("P1", True)})
    assert report.max_persons_per_profile == 0
    assert report.profiles_with_several_persons == 0
    assert report.all_identifiers.recall == 1.0


def test_read_truth_and_assignments(tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text(
        "identifier_type,identifier_value,person_id,linkable\n"
        "email,a@x.com,P000001,1\n"
        "phone,+447400123456,P000001,0\n"
        "anonymous_id,anon-public-kiosk-1,public,0\n",
        encoding="utf-8",
    )
    truth = read_truth(truth_file)
    assert truth == {
        ("email", "a@x.com"): ("P000001", True),
        ("phone", "+447400123456"): ("P000001", False),
        ("anonymous_id", "anon-public-kiosk-1"): ("public", False),
    }
    lines = [
        "identifier_type,identifier_value,profile_id,extra\n",
        "email,a@x.com,pr_1,x\n",
        "phone,+447400123456,pr_1,y\n",
        "\n",
    ]
    assignments = read_assignments(lines)
    assert assignments == {("email", "a@x.com"): "pr_1", ("phone", "+447400123456"): "pr_1"}
    path = tmp_path / "assignments.csv"
    path.write_text("".join(lines), encoding="utf-8")
    assert read_assignments(path) == assignments
    assert read_assignments(str(path)) == assignments
    assert read_assignments(io.StringIO("".join(lines))) == assignments
    report = evaluate(assignments, truth)
    assert report.all_identifiers.correct_pairs == 1
    assert report.linkable_identifiers.true_pairs == 0


def test_read_assignments_with_quoted_values() -> None:
    lines = ["identifier_type,identifier_value,profile_id\n", 'email,"a,b@x.com",p1\n']
    assert read_assignments(lines) == {("email", "a,b@x.com"): "p1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("identifier_type,identifier_value\nemail,a@x.com\n", "lacks column"),
        ("identifier_type,identifier_value,profile_id\nemail,a@x.com\n", "columns"),
        (
            "identifier_type,identifier_value,profile_id\nemail,a@x.com,p1\nemail,a@x.com,p2\n",
            "both",
        ),
    ],
)
def test_read_assignments_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_assignments(io.StringIO(text))


def test_read_truth_errors(tmp_path: Path) -> None:
    bad_flag = tmp_path / "t1.csv"
    bad_flag.write_text(
        "identifier_type,identifier_value,person_id,linkable\nemail,a@x.com,P1,maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="linkable") as info:
        read_truth(bad_flag)
    assert info.value.line == 2
    conflict = tmp_path / "t2.csv"
    conflict.write_text(
        "identifier_type,identifier_value,person_id,linkable\n"
        "email,a@x.com,P1,1\nemail,a@x.com,P2,1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="both"):
        read_truth(conflict)
    with pytest.raises(InputError, match="cannot read"):
        read_truth(tmp_path / "missing.csv")
