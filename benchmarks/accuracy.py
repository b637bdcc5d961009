"""Accuracy on generated data: pairwise precision / recall / F1 against the ground truth.

    .venv/bin/python benchmarks/accuracy.py --persons 10000 --seed 2026

Loads the generator's events, CRM and POS files into a fresh SQLite store and scores
`export assignments` (incremental, then after a full recluster) with identity_graph.evaluation.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from identity_graph.evaluation import EvaluationReport, evaluate, read_assignments, read_truth
from identity_graph.generate import generate
from identity_graph.service import IdentityService


def score(svc: IdentityService, truth: Path) -> EvaluationReport:
    buf = io.StringIO()
    svc.export_assignments(buf)
    buf.seek(0)
    return evaluate(read_assignments(buf), read_truth(truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = generate(args.persons, args.seed, out).files
        svc = IdentityService.open(f"sqlite:///{out / 'acc.db'}")
        started = time.perf_counter()
        for path, source, mapping in (
            (files["events"], "web", None),
            (files["crm"], "crm", files["crm_mapping"]),
            (files["pos"], "pos", files["pos_mapping"]),
        ):
            svc.load_file(path, source=source, mapping_path=mapping)
        loaded = time.perf_counter() - started
        rows = [("incremental", score(svc, files["truth"]))]
        svc.recluster()
        rows.append(("after recluster", score(svc, files["truth"])))
        svc.close()
    print(f"{args.persons:,} persons, seed {args.seed}, loaded in {loaded:.1f} s\n")
    print(
        "| state | precision (all) | recall (all) | F1 (all) | precision (linkable) "
        "| recall (linkable) | F1 (linkable) | most persons in one profile |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        a, k = r.all_identifiers, r.linkable_identifiers
        print(
            f"| {name} | {a.precision:.4f} | {a.recall:.4f} | {a.f1:.4f} | {k.precision:.4f} "
            f"| {k.recall:.4f} | {k.f1:.4f} | {r.max_persons_per_profile} |"
        )


if __name__ == "__main__":
    main()
