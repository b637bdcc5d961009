"""Fellegi-Sunter weights estimated from generated data rank true pairs above non-pairs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from identity_graph.fuzzy.blocking import candidate_pairs
from identity_graph.fuzzy.compare import build_table, compare_pairs
from identity_graph.fuzzy.fellegi_sunter import (
    FSModel,
    estimate,
    match_weights,
    prior_model,
    probabilities,
    vetoed,
)
from identity_graph.fuzzy.pipeline import random_pairs
from identity_graph.fuzzy.rules import default_rules
from identity_graph.generate_persons import generate_persons


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("persons")
    generate_persons(800, 5, out)
    return out


def _records(out: Path) -> tuple[list[tuple[tuple[str, str], dict[str, str]]], dict[str, str]]:
    recs = []
    for source, typ in (("a", "source_a_id"), ("b", "source_b_id")):
        with (out / f"people_{source}.csv").open(encoding="utf-8", newline="") as fh:
            recs += [((typ, row.pop("id")), row) for row in csv.DictReader(fh)]
    with (out / "people_truth.csv").open(encoding="utf-8", newline="") as fh:
        truth = {row["identifier_value"]: row["person_id"] for row in csv.DictReader(fh)}
    return recs, truth


def test_estimated_weights_rank_true_pairs_above_non_pairs(data: Path) -> None:
    rule = default_rules().rules[0]
    recs, truth = _records(data)
    table = build_table(rule, recs)
    blocks = candidate_pairs(rule, table)
    levels, _ = compare_pairs(rule, table, blocks.i, blocks.j)
    ri, rj = random_pairs(len(table), 50_000)
    random_levels, _ = compare_pairs(rule, table, ri, rj)
    n = len(table)
    model = estimate(rule, levels, random_levels, n * (n - 1) // 2)
    # scored: the candidate pairs plus random pairs (nearly all non-pairs)
    ei, ej = random_pairs(len(table), 20_000, seed=1)
    ei, ej = np.concatenate([blocks.i, ei]), np.concatenate([blocks.j, ej])
    levels, _ = compare_pairs(rule, table, ei, ej)
    same = np.array(
        [truth[table.keys[i][1]] == truth[table.keys[j][1]] for i, j in zip(ei, ej, strict=True)]
    )
    assert same.sum() > 100 and (~same).sum() > 100
    w = match_weights(model, levels)
    p = probabilities(model, rule, levels)
    # area under the ROC curve: a random true pair outranks a random non-pair
    ranks = w.argsort().argsort()
    auc = (ranks[same].mean() - (same.sum() - 1) / 2) / (~same).sum()
    assert auc > 0.97
    predicted = p >= rule.link_threshold
    precision = (predicted & same).sum() / predicted.sum()
    recall = (predicted & same).sum() / same.sum()
    assert precision > 0.97 and recall > 0.93
    # agreement is evidence for, disagreement against, on every field
    for col, lw in enumerate(model.log_weights()):
        assert lw[-1] > 0 > lw[0], rule.fields[col].attribute
    # the model survives a round trip through JSON (how the store keeps it)
    again = FSModel.from_json(model.to_json())
    assert np.allclose(match_weights(again, levels), w)


def test_required_fields_veto_households() -> None:
    rule = default_rules().rules[0]
    fields = [f.attribute for f in rule.fields]
    # same surname, address, postcode, national id absent, same landline; other first name
    household = np.full((1, len(fields)), -1, dtype=np.int8)
    for name, level in {"first_name": 0, "last_name": 3, "dob": 0, "address": 3}.items():
        household[0, fields.index(name)] = level
    household[0, fields.index("postcode")] = 1
    household[0, fields.index("phone")] = 1
    assert vetoed(rule, household).all()
    assert probabilities(prior_model(rule), rule, household)[0] == 0.0
    same_person = household.copy()
    same_person[0, fields.index("first_name")] = 3
    same_person[0, fields.index("dob")] = 3
    assert probabilities(prior_model(rule), rule, same_person)[0] > 0.99
