"""End-to-end accuracy on generated data with ground truth (issue: precision/recall targets)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from identity_graph.evaluation import evaluate, read_assignments, read_truth
from identity_graph.generate import generate
from identity_graph.service import IdentityService


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> tuple[IdentityService, Path]:
    out = tmp_path_factory.mktemp("acc")
    summary = generate(10_000, 2026, out)
    svc = IdentityService.open(f"sqlite:///{out / 'identity.db'}")
    files = summary.files
    for path, source, mapping in (
        (files["events"], "web", None),
        (files["crm"], "crm", files["crm_mapping"]),
        (files["pos"], "pos", files["pos_mapping"]),
    ):
        s = svc.load_file(path, source=source, mapping_path=mapping)
        assert s.accepted + s.rejected == s.read
    return svc, files["truth"]


def _report(svc: IdentityService, truth: Path):  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    svc.export_assignments(buf)
    buf.seek(0)
    return evaluate(read_assignments(buf), read_truth(truth))


def test_accuracy_at_10k_persons_meets_targets(
    resolved: tuple[IdentityService, Path],
) -> None:
    svc, truth = resolved
    report = _report(svc, truth)
    assert report.all_identifiers.precision >= 0.99, report
    assert report.linkable_identifiers.recall >= 0.97, report
    assert report.max_persons_per_profile <= 2, report


def test_recluster_keeps_accuracy_and_is_stable(resolved: tuple[IdentityService, Path]) -> None:
    svc, truth = resolved
    svc.recluster()
    first = dict(svc.iter_assignments())
    report = _report(svc, truth)
    assert report.all_identifiers.precision >= 0.99, report
    assert report.linkable_identifiers.recall >= 0.97, report
    outcome = svc.recluster()
    assert dict(svc.iter_assignments()) == first
    assert not outcome.changed_profiles
