"""Person records with no shared identifier resolve through fuzzy rules alone, end to end
through the CLI (`generate-persons`, `load`, `match`, `export records`), and incrementally."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_runner import Idgraph

from identity_graph.config import Config
from identity_graph.evaluation import pair_scores
from identity_graph.fuzzy.pipeline import fuzzy_incremental
from identity_graph.fuzzy.rules import default_rules
from identity_graph.generate_persons import read_households
from identity_graph.ingest import ingest_batch
from identity_graph.models import Observation
from identity_graph.stores.sqlite import SQLiteStore
from identity_graph.stores.sqlite_fuzzy import review_items

TYPES = {"people_a": "source_a_id", "people_b": "source_b_id"}


def _truth(out: Path) -> dict[tuple[str, str], str]:
    with (out / "people_truth.csv").open(encoding="utf-8", newline="") as fh:
        return {
            (r["identifier_type"], r["identifier_value"]): r["person_id"]
            for r in csv.DictReader(fh)
        }


def _households_merged(
    predicted: dict[tuple[str, str], str], truth: dict[tuple[str, str], str], out: Path
) -> int:
    households = read_households(out / "people_households.csv")
    persons_in: dict[str, set[str]] = {}
    for key, profile in predicted.items():
        persons_in.setdefault(profile, set()).add(truth[key])
    merged: set[str] = set()
    for persons in persons_in.values():
        seen: set[str] = set()
        for person in persons:
            h = households.get(person)
            if h is not None and h in seen:
                merged.add(h)
            if h is not None:
                seen.add(h)
    return len(merged)


@pytest.fixture(scope="module")
def persons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("persons")
    Idgraph(out / "unused.db")(
        "generate-persons", "--persons", "2000", "--seed", "3", "--out", str(out)
    )
    return out


def test_match_through_the_cli(persons: Path, idgraph: Idgraph) -> None:
    for source in ("a", "b"):
        idgraph(
            "load",
            str(persons / f"people_{source}.csv"),
            "--source",
            f"people_{source}",
            "--mapping",
            str(persons / f"people_{source}.mapping.toml"),
        )
    report = json.loads(idgraph("match", "--json"))[0]
    assert report["rule"] == "person"
    assert report["candidate_pairs"] < 5 * report["records"]
    assert report["reduction_ratio"] > 0.99
    assert report["links_written"] > 0
    again = json.loads(idgraph("match", "--json"))[0]  # a second pass: same links, no merge
    assert again["links_written"] == report["links_written"]
    assert again["links_removed"] == 0 and again["profiles"]["merges"] == 0
    text = idgraph("match")
    assert "person" in text and "reduction ratio" in text
    exported = idgraph("export", "records")
    predicted = {
        (TYPES[r["source"]], r["record_key"]): r["profile_id"]
        for r in csv.DictReader(io.StringIO(exported))
    }
    truth = _truth(persons)
    scores = pair_scores(predicted, truth)
    assert scores.f1 >= 0.95, scores
    households = len(set(read_households(persons / "people_households.csv").values()))
    assert _households_merged(predicted, truth, persons) <= households * 0.01
    # explain shows the per-field breakdown of a fuzzy link
    store = SQLiteStore(idgraph.store)
    try:
        link = next(ln for ln in store.iter_links() if ln.rule == "fuzzy:person")
        assert set(link.details["fields"]) >= {"first_name", "dob"}
        rule = default_rules().rules[0]
        assert rule.link_threshold <= link.weight <= 1
        assert all("similarity" in f for f in link.details["fields"].values())
        for item in review_items(store):
            assert rule.review_threshold <= item.probability < rule.link_threshold
    finally:
        store.close()
    out = idgraph("explain", f"{link.a[0]}:{link.a[1]}", f"{link.b[0]}:{link.b[1]}", "--json")
    assert "fuzzy:person" in out and "first_name" in out


def _observations(path: Path, source: str) -> list[Observation]:
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Observation(
                source,
                row["id"],
                ts,
                ((TYPES[source], row.pop("id")),),
                {k: v for k, v in row.items() if v},
            )
            for row in csv.DictReader(fh)
        ]


def test_incremental_matches_new_records_against_their_blocks(
    persons: Path, tmp_path: Path
) -> None:
    idgraph = Idgraph(tmp_path / "inc.db")
    idgraph(
        "load",
        str(persons / "people_a.csv"),
        "--source",
        "people_a",
        "--mapping",
        str(persons / "people_a.mapping.toml"),
    )
    idgraph("match")  # estimates the model and indexes the blocks of source A
    store = SQLiteStore(tmp_path / "inc.db")
    config, rules = Config(), default_rules()
    try:
        new = _observations(persons / "people_b.csv", "people_b")
        for start in range(0, len(new), 500):
            batch = new[start : start + 500]
            ingest_batch(store, config, batch)
            fuzzy_incremental(store, config, rules, batch)
        fuzzy_incremental(store, config, rules, new[:50])  # again: nothing changes
    finally:
        store.close()
    exported = idgraph("export", "records")
    predicted = {
        (TYPES[r["source"]], r["record_key"]): r["profile_id"]
        for r in csv.DictReader(io.StringIO(exported))
    }
    scores = pair_scores(predicted, _truth(persons))
    assert scores.f1 >= 0.95, scores


def test_incremental_before_any_full_pass_uses_the_prior_model(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "prior.db")
    store.init()
    config, rules = Config(), default_rules()
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    person = {
        "first_name": "Katherine",
        "last_name": "O'Neil",
        "dob": "1984-07-02",
        "address": "12 Mill Road",
        "postcode": "AB1 2CD",
    }
    twin = {**person, "first_name": "Maria"}  # same household and birthday, another person
    rows = [
        ("a1", person),
        ("b1", {**person, "first_name": "Kate", "dob": "02/07/1984", "address": "12 Mill Rd"}),
        ("a2", twin),
    ]
    try:
        for key, attrs in rows:
            obs = [Observation("s", key, ts, (("crm_id", key),), attrs)]
            ingest_batch(store, config, obs)
            fuzzy_incremental(store, config, rules, obs)
        fuzzy = [ln for ln in store.iter_links() if ln.rule == "fuzzy:person"]
        assert [(ln.a, ln.b) for ln in fuzzy] == [(("crm_id", "a1"), ("crm_id", "b1"))]
        assert fuzzy[0].details["fields"]["first_name"]["level"] == 3  # Kate = Katherine
        profiles = store.resolve_many([("crm_id", "a1"), ("crm_id", "b1"), ("crm_id", "a2")])
        assert profiles[("crm_id", "a1")] == profiles[("crm_id", "b1")]
        assert profiles[("crm_id", "a2")] != profiles[("crm_id", "a1")]
    finally:
        store.close()


def test_a_fuzzy_table_in_the_config_matches_on_ordinary_loads(tmp_path: Path) -> None:
    """With [fuzzy] in idgraph.toml, `load` links new records to their blocks as it goes."""
    import csv as csv_module
    import io as io_module

    from click.testing import CliRunner

    from identity_graph.cli import cli

    out = tmp_path / "people"
    CliRunner().invoke(
        cli,
        ["generate-persons", "--persons", "300", "--seed", "4", "--out", str(out)],
        catch_exceptions=False,
    )
    config = tmp_path / "idgraph.toml"
    # The README's rule example, verbatim: the documented format is the one that works.
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("### The rule format\n\n```toml\n", 1)[1].split("```", 1)[0]
    config.write_text(example, encoding="utf-8")
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'f.db'}"
    for name in ("people_a", "people_b"):
        result = runner.invoke(
            cli,
            [
                "--store",
                store,
                "--config",
                str(config),
                "load",
                str(out / f"{name}.csv"),
                "--source",
                name,
                "--mapping",
                str(out / f"{name}.mapping.toml"),
            ],
        )
        assert result.exit_code == 0, result.output
    records = runner.invoke(cli, ["--store", store, "export", "records"]).output
    rows = list(csv_module.DictReader(io_module.StringIO(records)))
    by_profile: dict[str, set[str]] = {}
    for r in rows:
        by_profile.setdefault(r["profile_id"], set()).add(r["source"])
    assert sum(1 for sources in by_profile.values() if len(sources) == 2) > 20


def test_review_band_pairs_join_the_review_queue_and_leave_it_when_decided(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from identity_graph.cli import cli

    runner = CliRunner()
    out = tmp_path / "people"
    store = ["--store", f"sqlite:///{tmp_path / 'r.db'}"]
    runner.invoke(cli, ["generate-persons", "--persons", "2000", "--seed", "4", "--out", str(out)])
    for name in ("people_a", "people_b"):
        runner.invoke(
            cli,
            [
                *store,
                "load",
                str(out / f"{name}.csv"),
                "--source",
                name,
                "--mapping",
                str(out / f"{name}.mapping.toml"),
            ],
        )
    runner.invoke(cli, [*store, "match"])
    items = json.loads(runner.invoke(cli, [*store, "review", "--limit", "500", "--json"]).output)
    fuzzy = [i for i in items if i["kind"] == "fuzzy"]
    assert fuzzy and "review band" in fuzzy[0]["reason"]
    assert fuzzy[0]["link"]["details"]["fields"]["dob"]["comparison"] == "date"
    decided = runner.invoke(
        cli,
        [
            *store,
            "review",
            "reject",
            fuzzy[0]["item"],
            "--actor",
            "sam",
            "--reason",
            "different people",
        ],
    )
    assert decided.exit_code == 0, decided.output
    again = json.loads(runner.invoke(cli, [*store, "review", "--limit", "500", "--json"]).output)
    assert fuzzy[0]["item"] not in {i["item"] for i in again}
    runner.invoke(
        cli, [*store, "export", "graph", "--format", "jsonl", "--out", str(tmp_path / "g")]
    )
    edges = [json.loads(x) for x in (tmp_path / "g" / "edges.jsonl").read_text().splitlines()]
    edge = next(e for e in edges if e["rule"] == "fuzzy:person")
    shown = runner.invoke(cli, [*store, "explain", edge["source"], edge["target"]]).output
    assert "fuzzy:person" in shown and "jaro_winkler" in shown and "dob" in shown
