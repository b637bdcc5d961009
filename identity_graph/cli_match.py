"""CLI commands for fuzzy matching: `match` (a full pass) and `generate-persons`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from identity_graph.cli import Context as CliContext
from identity_graph.cli import cli, emit_json, handle_errors, json_option, pass_ctx
from identity_graph.errors import ConfigError
from identity_graph.fuzzy.rules import RuleSet, default_rules, load_rules, rules_from_dict
from identity_graph.render import table


def resolve_rules(rules_path: Path | None, config_path: Path | None) -> RuleSet:
    """`--rules FILE`, else the `[fuzzy]` table of the config file, else the built-in rule."""
    if rules_path is not None:
        return load_rules(rules_path)
    path = config_path or Path("idgraph.toml")
    if not path.exists():
        return default_rules()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    if "fuzzy" not in data:
        return default_rules()
    return rules_from_dict({"fuzzy": data["fuzzy"]}, str(path))


@cli.command()
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Fuzzy rules TOML (default: the [fuzzy] table of the config, else the built-in "
    "person rule).",
)
@json_option
@pass_ctx
@handle_errors
def match(ctx: CliContext, rules_path: Path | None, as_json: bool) -> None:
    """Fuzzy-match every stored record: block, score, write weighted links and review items."""
    from identity_graph.fuzzy.pipeline import full_pass

    rules = resolve_rules(rules_path, ctx.config_path)
    with ctx.service(create=False) as svc:
        reports = full_pass(svc.store, svc.config, rules)
    if as_json:
        emit_json([r.to_json() for r in reports])
        return
    click.echo(
        table(
            [
                "rule",
                "records",
                "candidate pairs",
                "pairs/record",
                "reduction ratio",
                "comparisons/s",
                "links",
                "review items",
                "merges",
                "seconds",
            ],
            [
                [
                    r.rule,
                    r.records,
                    r.candidate_pairs,
                    f"{r.pairs_per_record:.2f}",
                    f"{r.reduction_ratio:.6f}",
                    f"{r.comparisons_per_second:,.0f}",
                    r.links_written,
                    r.review_items,
                    r.outcome.merges,
                    f"{r.seconds:.2f}",
                ]
                for r in reports
            ],
        )
    )
    for r in reports:
        for block, size in r.skipped_blocks[:10]:
            click.echo(f"warning: {r.rule}: block {block} has {size} records: skipped", err=True)


@cli.command("generate-persons")
@click.option("--persons", default=2000, show_default=True, help="Distinct people.")
@click.option("--seed", default=1, show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@handle_errors
def generate_persons_command(persons: int, seed: int, out: Path) -> None:
    """Two person-record CSV sources with duplicates, households and a ground-truth file."""
    from identity_graph.generate_persons import generate_persons

    s = generate_persons(persons, seed, out)
    click.echo(
        f"persons {s.persons} (households {s.households}, {s.household_members} members), "
        f"records {s.records} (people_a.csv {s.records_a}, people_b.csv {s.records_b}) "
        f"in {s.out}"
    )
