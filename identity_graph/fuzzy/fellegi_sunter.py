"""The Fellegi-Sunter match model: agreement levels -> match weight -> link probability.

Every compared field f puts a candidate pair at an agreement level l_f (0 = disagree, up to
exact agreement; -1 = missing, which is no evidence). With M the event "same entity" and U
"different entities":

    m_f(l) = P(level l on f | M)      u_f(l) = P(level l on f | U)

Assuming fields independent given M or U, the pair's match weight is the log-likelihood ratio

    W = log2(lambda / (1 - lambda)) + sum over present fields of log2(m_f(l_f) / u_f(l_f))

where lambda is the prior probability that two records drawn at random are a match (over
all pairs, not over candidate pairs: u is estimated over random pairs, so the prior must be
over the same population; a prior over candidates would count the blocking twice and turn
"same first name, born the same year" into a match). The link probability is
P(M | levels) = 1 / (1 + 2^-W), in [0, 1], and is the link's weight in the graph.

Estimation, from the data and without labels:

- u from random pairs: two records drawn at random are almost never the same entity, so
  the level frequencies over a random sample of pairs estimate u (Laplace-smoothed).
- m and lambda by expectation-maximisation over the candidate pairs with u fixed: E-step, each
  pair's posterior P(M | levels) under the current m, lambda; M-step, m_f(l) = the posterior-
  weighted share of pairs at level l among pairs where f is present, lambda = the sum of the
  posteriors over the number of all pairs (pairs outside every block are taken as non-matches:
  blocking is assumed to keep nearly every match).

Mandatory evidence (`MatchRule.required`): a pair that disagrees (level 0) on a required field
is vetoed: probability 0, never a link or a review item. EM is trained only on pairs that
are not vetoed, and m_f(0) of a required field is floored to `VETO_M`, so the model cannot
learn that agreeing on shared household fields (surname, address, landline) with a different
first name or date of birth is a match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from identity_graph.fuzzy.rules import MatchRule

Levels = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float64]
SMOOTHING = 1.0  # Laplace pseudo-count per level when estimating u
M_FLOOR = 1e-4
VETO_M = 1e-4
PRIOR_BOUNDS = (1e-15, 0.5)
UNTRAINED_PRIOR = 1e-6


@dataclass
class FSModel:
    """m and u per field and level (index = level), and the prior share of matches."""

    rule: str
    fields: tuple[str, ...]
    m: list[list[float]]
    u: list[list[float]]
    prior: float
    trained_pairs: int = 0
    random_pairs: int = 0
    iterations: int = 0

    def log_weights(self) -> list[Floats]:
        """log2(m/u) per field, per level."""
        return [np.log2(np.asarray(m) / np.asarray(u)) for m, u in zip(self.m, self.u, strict=True)]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "fields": list(self.fields),
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "trained_pairs": self.trained_pairs,
            "random_pairs": self.random_pairs,
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FSModel:
        return cls(
            rule=str(data["rule"]),
            fields=tuple(data["fields"]),
            m=[[float(x) for x in row] for row in data["m"]],
            u=[[float(x) for x in row] for row in data["u"]],
            prior=float(data["prior"]),
            trained_pairs=int(data.get("trained_pairs", 0)),
            random_pairs=int(data.get("random_pairs", 0)),
            iterations=int(data.get("iterations", 0)),
        )

    def matches(self, rule: MatchRule) -> bool:
        """Whether this model was estimated for the rule's current fields and levels."""
        return self.fields == tuple(f.attribute for f in rule.fields) and all(
            len(m) == f.level_count for m, f in zip(self.m, rule.fields, strict=True)
        )


def _normalized(values: Sequence[float]) -> list[float]:
    total = float(sum(values))
    return [v / total for v in values]


def prior_model(rule: MatchRule) -> FSModel:
    """A starting point before any data: matches mostly agree exactly, non-matches mostly not.

    Used to initialise EM, and to score incrementally before the first full pass.
    """
    m: list[list[float]] = []
    u: list[list[float]] = []
    for f in rule.fields:
        k = f.level_count
        # m: most mass on exact agreement, a little on partial levels, 2% on disagreement
        partial = [0.1 / max(k - 2, 1)] * (k - 2)
        m.append(_normalized([0.02, *partial, 0.88]))
        # u: mostly disagree; partial levels a little more likely than exact agreement
        u.append(_normalized([0.95, *([0.03 / max(k - 2, 1)] * (k - 2)), 0.02]))
    return FSModel(rule.name, tuple(f.attribute for f in rule.fields), m, u, prior=UNTRAINED_PRIOR)


def estimate_u(rule: MatchRule, levels: Levels) -> list[list[float]]:
    """u per field from the levels of random pairs (missing levels ignored, Laplace-smoothed)."""
    u: list[list[float]] = []
    for col, f in enumerate(rule.fields):
        counts = np.bincount(levels[:, col][levels[:, col] >= 0], minlength=f.level_count)
        u.append(_normalized([float(c) + SMOOTHING for c in counts[: f.level_count]]))
    return u


def vetoed(rule: MatchRule, levels: Levels) -> npt.NDArray[np.bool_]:
    """Pairs that disagree on a required field (mandatory evidence missing)."""
    out = np.zeros(len(levels), dtype=bool)
    for col, f in enumerate(rule.fields):
        if f.attribute in rule.required:
            out |= levels[:, col] == 0
    return out


def _field_terms(weights: Sequence[Floats], levels: Levels) -> Floats:
    """Per pair and field: log2(m/u) at its level, 0 when missing. Shape (pairs, fields)."""
    out = np.zeros(levels.shape, dtype=np.float64)
    for col, w in enumerate(weights):
        lv = levels[:, col].astype(np.int64)
        present = lv >= 0
        out[present, col] = w[lv[present]]
    return out


def match_weights(model: FSModel, levels: Levels) -> Floats:
    """W per pair: the prior log-odds plus the sum of the present fields' log2(m/u)."""
    prior_odds = float(np.log2(model.prior / (1.0 - model.prior)))
    total: Floats = _field_terms(model.log_weights(), levels).sum(axis=1)
    return total + prior_odds


def probabilities(model: FSModel, rule: MatchRule, levels: Levels) -> Floats:
    """P(match | levels) per pair; 0 for pairs vetoed by the rule's mandatory evidence."""
    w = np.clip(match_weights(model, levels), -60.0, 60.0)
    p = 1.0 / (1.0 + np.exp2(-w))
    p[vetoed(rule, levels)] = 0.0
    return p


def _apply_veto_floor(rule: MatchRule, m: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for f, row in zip(rule.fields, m, strict=True):
        floored = [max(x, M_FLOOR) for x in row]
        if f.attribute in rule.required:
            floored[0] = VETO_M
        out.append(_normalized(floored))
    return out


def estimate(
    rule: MatchRule,
    candidate_levels: Levels,
    random_levels: Levels,
    total_pairs: int,
    iterations: int | None = None,
) -> FSModel:
    """u from `random_levels`, then m and the prior by EM over the non-vetoed candidates;
    `total_pairs` is the number of all record pairs (n (n - 1) / 2), the prior's population."""
    model = prior_model(rule)
    if len(random_levels):
        model.u = estimate_u(rule, random_levels)
        model.random_pairs = len(random_levels)
    train = candidate_levels[~vetoed(rule, candidate_levels)]
    model.m = _apply_veto_floor(rule, model.m)
    if len(train) == 0:
        return model
    population = max(total_pairs, len(train), 1)
    model.prior = float(np.clip(0.5 * len(train) / population, *PRIOR_BOUNDS))
    rounds = rule.em_iterations if iterations is None else iterations
    lv = train.astype(np.int64)
    present = lv >= 0
    for n in range(rounds):
        log_m = _field_terms([np.log2(np.asarray(r)) for r in model.m], train).sum(axis=1)
        log_u = _field_terms([np.log2(np.asarray(r)) for r in model.u], train).sum(axis=1)
        odds = np.log2(model.prior) + log_m - np.log2(1 - model.prior) - log_u
        post = 1.0 / (1.0 + np.exp2(-np.clip(odds, -60, 60)))
        new_m: list[list[float]] = []
        for col, f in enumerate(rule.fields):
            weights = post[present[:, col]]
            lvls = lv[present[:, col], col]
            sums = np.bincount(lvls, weights=weights, minlength=f.level_count)
            total = float(sums.sum())
            row = [float(x) / total for x in sums] if total > 0 else model.m[col]
            new_m.append(row)
        new_prior = float(np.clip(post.sum() / population, *PRIOR_BOUNDS))
        new_m = _apply_veto_floor(rule, new_m)
        delta = max(
            abs(a - b)
            for r1, r2 in zip(new_m, model.m, strict=True)
            for a, b in zip(r1, r2, strict=True)
        )
        model.m, model.prior, model.iterations = new_m, new_prior, n + 1
        if delta < 1e-5:
            break
    model.trained_pairs = len(train)
    return model
