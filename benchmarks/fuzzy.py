"""Fuzzy matching on generated person records: quality and cost, against a baseline.

    .venv/bin/python benchmarks/fuzzy.py                       # 10k and 100k records
    .venv/bin/python benchmarks/fuzzy.py --sizes 10000 --seed 7 --out /tmp/fuzzy.json

For each size: `generate_persons` (two CSV sources, duplicates with the default noise,
households, truth), `load` both files into a fresh SQLite store, one full `match` pass with
the built-in person rule, then `export records` scored with `identity_graph.evaluation`.
The baseline, measured in the same run on the same records: exact match on normalized first
name + last name + date of birth (a record with any of them missing stays alone).
Households wrongly merged: true households two of whose members share a predicted profile.
Prints a Markdown table and writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from identity_graph.evaluation import PairScores, pair_scores
from identity_graph.fuzzy.normalize import make_normalizer, parse_date
from identity_graph.fuzzy.pipeline import full_pass
from identity_graph.fuzzy.rules import default_rules
from identity_graph.generate_persons import generate_persons, read_households
from identity_graph.service import IdentityService

TYPES = {"people_a": "source_a_id", "people_b": "source_b_id"}
RECORDS_PER_PERSON = 1.523  # the generator's default mix of sources and duplicates

Key = tuple[str, str]


def households_merged(predicted: dict[Key, str], truth: dict[Key, str], out: Path) -> int:
    households = read_households(out / "people_households.csv")
    by_profile: dict[str, set[str]] = {}
    for key, profile in predicted.items():
        by_profile.setdefault(profile, set()).add(truth[key])
    merged: set[str] = set()
    for persons in by_profile.values():
        seen: set[str] = set()
        for person in persons:
            h = households.get(person)
            if h is not None:
                if h in seen:
                    merged.add(h)
                seen.add(h)
    return len(merged)


def baseline(out: Path) -> tuple[dict[Key, str], float]:
    """Exact match on normalized first name + last name + date of birth."""
    started = time.perf_counter()
    names = make_normalizer(("accents", "case", "punctuation", "whitespace"))
    predicted: dict[Key, str] = {}
    for source, typ in (("a", "source_a_id"), ("b", "source_b_id")):
        with (out / f"people_{source}.csv").open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                parts = (names(row["first_name"]), names(row["last_name"]), parse_date(row["dob"]))
                key = (typ, row["id"])
                predicted[key] = "|".join(parts) if all(parts) else f"{typ}:{row['id']}"
    return predicted, time.perf_counter() - started


def truth_of(out: Path) -> dict[Key, str]:
    with (out / "people_truth.csv").open(encoding="utf-8", newline="") as fh:
        return {
            (r["identifier_type"], r["identifier_value"]): r["person_id"]
            for r in csv.DictReader(fh)
        }


def scores_json(s: PairScores) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in s.to_dict().items()}


def run(records: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        summary = generate_persons(round(records / RECORDS_PER_PERSON), seed, out)
        truth = truth_of(out)
        svc = IdentityService.open(f"sqlite:///{out / 'fuzzy.db'}")
        try:
            started = time.perf_counter()
            for source in ("a", "b"):
                svc.load_file(
                    out / f"people_{source}.csv",
                    source=f"people_{source}",
                    mapping_path=out / f"people_{source}.mapping.toml",
                )
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            (report,) = full_pass(svc.store, svc.config, default_rules())
            matched = time.perf_counter() - started
            buf = io.StringIO()
            svc.export_records(buf)
        finally:
            svc.close()
        buf.seek(0)
        predicted = {
            (TYPES[r["source"]], r["record_key"]): r["profile_id"] for r in csv.DictReader(buf)
        }
        fuzzy = pair_scores(predicted, truth)
        base_pred, base_seconds = baseline(out)
        base = pair_scores(base_pred, truth)
        return {
            "records": summary.records,
            "persons": summary.persons,
            "households": summary.households,
            "load_seconds": round(loaded, 2),
            "match_seconds": round(matched, 2),
            "compare_seconds": round(report.compare_seconds, 2),
            "candidate_pairs": report.candidate_pairs,
            "pairs_per_record": round(report.pairs_per_record, 2),
            "reduction_ratio": report.reduction_ratio,
            "comparisons_per_second": round(report.comparisons_per_second),
            "links_written": report.links_written,
            "review_items": report.review_items,
            "fuzzy": scores_json(fuzzy),
            "fuzzy_households_merged": households_merged(predicted, truth, out),
            "baseline": scores_json(base),
            "baseline_seconds": round(base_seconds, 2),
            "baseline_households_merged": households_merged(base_pred, truth, out),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "model": report.model,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="records per run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fuzzy.json"))
    args = parser.parse_args()
    results = [run(int(n), args.seed) for n in args.sizes.split(",")]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print(
        "| records | method | precision | recall | F1 | households merged | time (s) | "
        "candidate pairs / record | comparisons/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        f, b = r["fuzzy"], r["baseline"]
        print(
            f"| {r['records']:,} | fuzzy (Fellegi-Sunter) | {f['precision']:.4f} | "
            f"{f['recall']:.4f} | {f['f1']:.4f} | {r['fuzzy_households_merged']} of "
            f"{r['households']:,} | {r['match_seconds']:.1f} | {r['pairs_per_record']:.2f} | "
            f"{r['comparisons_per_second']:,} |"
        )
        print(
            f"| {r['records']:,} | baseline: exact name + DOB | {b['precision']:.4f} | "
            f"{b['recall']:.4f} | {b['f1']:.4f} | {r['baseline_households_merged']} of "
            f"{r['households']:,} | {r['baseline_seconds']:.1f} | | |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
