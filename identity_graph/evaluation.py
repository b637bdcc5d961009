"""Pairwise precision / recall / F1 of a clustering against ground truth.

A *pair* is two identifiers in the same cluster. With ``T`` the pairs that share a true person
and ``P`` the pairs that share a predicted profile:

- precision = |P ∩ T| / |P|   (1.0 when no pair is predicted: nothing claimed, nothing wrong)
- recall    = |P ∩ T| / |T|   (1.0 when truth has no pair: nothing to find)
- F1        = harmonic mean   (0.0 when precision and recall are both 0)

The counts come from the contingency table, never from enumerating pairs:
``|T| = Σ C(n_person, 2)``, ``|P| = Σ C(n_profile, 2)``, ``|P ∩ T| = Σ C(n_profile∧person, 2)``.

Only identifiers present in the truth are scored: predicted identifiers that the truth does not
know are ignored, and a truth identifier missing from the predictions counts as a singleton
profile of its own.

File formats: truth ``identifier_type,identifier_value,person_id,linkable`` (see
``identity_graph.generate``) and assignments ``identifier_type,identifier_value,profile_id``
(what ``idgraph export`` writes). Values are compared exactly as written: both files carry
normalized values.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from identity_graph.errors import InputError

__all__ = [
    "EvaluationReport",
    "PairScores",
    "evaluate",
    "pair_scores",
    "read_assignments",
    "read_truth",
]

K = TypeVar("K", bound=Hashable)
IdentifierKey = tuple[str, str]

TRUTH_COLUMNS = ("identifier_type", "identifier_value", "person_id", "linkable")
ASSIGNMENT_COLUMNS = ("identifier_type", "identifier_value", "profile_id")
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    identifiers: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class EvaluationReport:
    all_identifiers: PairScores  # over every identifier in the truth
    linkable_identifiers: PairScores  # over truth rows with linkable=1 only
    max_persons_per_profile: int  # most distinct true persons in one predicted profile
    profiles_with_several_persons: int  # predicted profiles holding two or more true persons

    def to_dict(self) -> dict[str, object]:
        return {
            "all_identifiers": self.all_identifiers.to_dict(),
            "linkable_identifiers": self.linkable_identifiers.to_dict(),
            "max_persons_per_profile": self.max_persons_per_profile,
            "profiles_with_several_persons": self.profiles_with_several_persons,
        }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_scores(predicted: Mapping[K, str], truth: Mapping[K, str]) -> PairScores:
    """Pairwise scores of `predicted` (key -> profile) against `truth` (key -> person).

    Keys absent from `truth` are ignored; keys absent from `predicted` are singletons.
    """
    person_sizes: Counter[str] = Counter()
    profile_sizes: Counter[str] = Counter()
    cells: Counter[tuple[str, str]] = Counter()
    for key, person in truth.items():
        person_sizes[person] += 1
        profile = predicted.get(key)
        if profile is None:
            continue  # its own singleton profile: contributes no pair
        profile_sizes[profile] += 1
        cells[(profile, person)] += 1
    true_pairs = sum(_pairs(n) for n in person_sizes.values())
    predicted_pairs = sum(_pairs(n) for n in profile_sizes.values())
    correct_pairs = sum(_pairs(n) for n in cells.values())
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
        identifiers=len(truth),
    )


def evaluate(
    assignments: Mapping[IdentifierKey, str],
    truth: Mapping[IdentifierKey, tuple[str, bool]],
) -> EvaluationReport:
    """Score `assignments` ((type, value) -> profile id) against `truth` (see `read_truth`)."""
    persons = {key: person for key, (person, _linkable) in truth.items()}
    linkable = {key: person for key, (person, link) in truth.items() if link}
    persons_in_profile: dict[str, set[str]] = {}
    for key, person in persons.items():
        profile = assignments.get(key)
        if profile is not None:
            persons_in_profile.setdefault(profile, set()).add(person)
    counts = [len(p) for p in persons_in_profile.values()]
    return EvaluationReport(
        all_identifiers=pair_scores(assignments, persons),
        linkable_identifiers=pair_scores(assignments, linkable),
        max_persons_per_profile=max(counts, default=0),
        profiles_with_several_persons=sum(1 for n in counts if n > 1),
    )


@contextmanager
def _lines(source: Path | str | Iterable[str]) -> Iterator[tuple[str, Iterable[str]]]:
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                yield str(path), fh
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror or e}", file=str(path)) from e
    else:
        yield "<lines>", source


def _rows(
    name: str, lines: Iterable[str], columns: tuple[str, ...]
) -> Iterator[tuple[int, list[str]]]:
    """Data rows (line number, the `columns` values) of a CSV with a header naming them."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise InputError("empty file, expected a header", file=name, line=1)
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"header lacks column(s) {', '.join(missing)}", file=name, line=1)
    index = [header.index(c) for c in columns]
    width = max(index) + 1
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < width:
            raise InputError(
                f"expected {len(header)} columns, got {len(row)}", file=name, line=reader.line_num
            )
        yield reader.line_num, [row[i] for i in index]


def read_truth(path: Path | str) -> dict[IdentifierKey, tuple[str, bool]]:
    """Read truth.csv into (type, value) -> (person id, linkable)."""
    truth: dict[IdentifierKey, tuple[str, bool]] = {}
    with _lines(path) as (name, lines):
        for line, (typ, value, person, link) in _rows(name, lines, TRUTH_COLUMNS):
            flag = link.strip().lower()
            if flag in _TRUE:
                linkable = True
            elif flag in _FALSE:
                linkable = False
            else:
                raise InputError(
                    f"linkable must be 0 or 1, got {link!r}", file=name, line=line, field="linkable"
                )
            key = (typ, value)
            previous = truth.get(key)
            if previous is not None and previous[0] != person:
                raise InputError(
                    f"identifier {typ}:{value} belongs to both {previous[0]} and {person}",
                    file=name,
                    line=line,
                )
            truth[key] = (person, linkable or (previous is not None and previous[1]))
    return truth


def read_assignments(path_or_lines: Path | str | Iterable[str]) -> dict[IdentifierKey, str]:
    """Read an assignments CSV (header ``identifier_type,identifier_value,profile_id``).

    Accepts a path (``str`` or ``Path``) or an iterable of CSV lines (an open file, a list).
    Extra columns are ignored.
    """
    assignments: dict[IdentifierKey, str] = {}
    with _lines(path_or_lines) as (name, lines):
        for line, (typ, value, profile) in _rows(name, lines, ASSIGNMENT_COLUMNS):
            key = (typ, value)
            previous = assignments.get(key)
            if previous is not None and previous != profile:
                raise InputError(
                    f"identifier {typ}:{value} assigned to both {previous} and {profile}",
                    file=name,
                    line=line,
                )
            assignments[key] = profile
    return assignments
