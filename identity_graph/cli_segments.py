"""CLI commands for segments, consent, erasure and subject access export.

`idgraph segment create|list|show|run|preview|delete`, `idgraph consent`, `idgraph erase`
and `idgraph export profile`; they register themselves on `cli` (and its `export` group).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from identity_graph.cli import Context as CliContext
from identity_graph.cli import cli, emit_json, export, handle_errors, json_option, pass_ctx
from identity_graph.errors import InputError
from identity_graph.models import parse_iso
from identity_graph.render import table
from identity_graph.service import parse_identifier

as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="TIMESTAMP",
    help="Evaluate `within_days` rules relative to this ISO 8601 time (default now).",
)


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError as e:
        raise InputError(f"--as-of: not an ISO 8601 timestamp: {text!r}") from e


def _sample_table(rows: list[dict[str, Any]]) -> str:
    return table(
        ["profile", "size", "identifiers"],
        [[r["profile_id"], r["size"], " ".join(r["identifiers"])] for r in rows],
    )


# -- segments ---------------------------------------------------------------------------------
@cli.group()
def segment() -> None:
    """Named audience rules over profiles: create, list, show, run, preview, delete."""


@segment.command("create")
@click.argument("name")
@click.option(
    "--rule",
    "rule_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The rule: a JSON file (or .yaml/.yml with PyYAML installed).",
)
@click.option("--replace", is_flag=True, help="Replace the rule of an existing segment.")
@json_option
@pass_ctx
@handle_errors
def segment_create(
    ctx: CliContext, name: str, rule_file: Path, replace: bool, as_json: bool
) -> None:
    """Validate a rule file and save it as segment NAME."""
    from identity_graph.segments.parse import load_rule_file
    from identity_graph.segments.service import SegmentService

    rule = load_rule_file(rule_file)
    with ctx.service() as svc:
        record, created = SegmentService(svc).put(name, rule, replace=replace)
    if as_json:
        emit_json({**record.to_json(), "created_now": created})
    else:
        click.echo(f"{'created' if created else 'replaced'} segment {record.name}")


@segment.command("list")
@json_option
@pass_ctx
@handle_errors
def segment_list(ctx: CliContext, as_json: bool) -> None:
    """The saved segments."""
    from identity_graph.segments.service import SegmentService

    with ctx.service(create=False) as svc:
        records = SegmentService(svc).list_all()
    if as_json:
        emit_json([r.to_json() for r in records])
        return
    click.echo(
        table(
            ["name", "updated", "rule"],
            [[r.name, r.updated.isoformat()[:19], json.dumps(r.rule)[:70]] for r in records],
        )
    )


@segment.command("show")
@click.argument("name")
@as_of_option
@json_option
@pass_ctx
@handle_errors
def segment_show(ctx: CliContext, name: str, as_of: str | None, as_json: bool) -> None:
    """A segment's rule and how many profiles it holds now."""
    from identity_graph.segments.service import SegmentService

    when = _as_of(as_of)
    with ctx.service(create=False) as svc:
        segments = SegmentService(svc)
        record = segments.get(name)
        count = segments.count(segments.rule(name), when)
    data = {**record.to_json(), "members": count}
    if as_json:
        emit_json(data)
        return
    click.echo(f"segment {record.name}: {count} profiles")
    click.echo(f"  created {data['created']}, updated {data['updated']}")
    click.echo(json.dumps(record.rule, indent=2))


@segment.command("run")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--fields",
    multiple=True,
    help="Columns, comma-separated or repeated: profile_id, size, created, updated, "
    "identifiers, identifiers.TYPE, or a golden attribute name "
    "[default: profile_id,size,identifiers].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default stdout).",
)
@click.option("--purpose", default=None, help="Only profiles whose latest signal grants it.")
@as_of_option
@pass_ctx
@handle_errors
def segment_run(
    ctx: CliContext,
    name: str,
    fmt: str,
    fields: tuple[str, ...],
    out: Path | None,
    purpose: str | None,
    as_of: str | None,
) -> None:
    """Export the members of segment NAME as CSV or JSONL."""
    from identity_graph.segments.service import SegmentService

    when = _as_of(as_of)
    with ctx.service(create=False) as svc:
        segments = SegmentService(svc)
        if out is None:
            segments.export(name, sys.stdout, fmt=fmt, fields=fields, purpose=purpose, now=when)
            return
        with out.open("w", encoding="utf-8", newline="") as fh:
            n = segments.export(name, fh, fmt=fmt, fields=fields, purpose=purpose, now=when)
    click.echo(f"wrote {n} profiles to {out}", err=True)


@segment.command("preview")
@click.option(
    "--rule",
    "rule_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="A rule file to try; nothing is saved.",
)
@as_of_option
@json_option
@pass_ctx
@handle_errors
def segment_preview(ctx: CliContext, rule_file: Path, as_of: str | None, as_json: bool) -> None:
    """Count and 10 sample members of a rule, without saving it."""
    from identity_graph.segments.parse import load_rule_file
    from identity_graph.segments.service import SegmentService

    rule = load_rule_file(rule_file)
    when = _as_of(as_of)
    with ctx.service(create=False) as svc:
        data = SegmentService(svc).preview(rule, now=when)
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['count']} profiles match")
    if data["sample"]:
        click.echo(_sample_table(data["sample"]))


@segment.command("delete")
@click.argument("name")
@pass_ctx
@handle_errors
def segment_delete(ctx: CliContext, name: str) -> None:
    """Delete segment NAME (its rule only; profiles are untouched)."""
    from identity_graph.segments.service import SegmentService

    with ctx.service(create=False) as svc:
        SegmentService(svc).delete(name)
    click.echo(f"deleted segment {name}")


# -- consent ----------------------------------------------------------------------------------
@cli.command("consent")
@click.argument("identifier")
@click.argument("value", required=False)
@json_option
@pass_ctx
@handle_errors
def consent_command(ctx: CliContext, identifier: str, value: str | None, as_json: bool) -> None:
    """The consent of TYPE:VALUE's profile per purpose: latest signal, source, time, origin."""
    from identity_graph.consent import ConsentService

    id_type, raw = parse_identifier(identifier, value)
    with ctx.service(create=False) as svc:
        data = ConsentService(svc).of_identifier(f"{id_type}:{raw}")
    if as_json:
        emit_json(data)
        return
    click.echo(f"profile {data['profile_id']}: consent by purpose (latest signal wins)")
    if not data["purposes"]:
        click.echo("  no consent signals")
        return
    click.echo(
        table(
            ["purpose", "granted", "time", "source", "identifier", "record", "signals"],
            [
                [
                    p["purpose"],
                    "yes" if p["granted"] else "no",
                    p["timestamp"][:19],
                    p["source"],
                    p["identifier"],
                    p["record_key"],
                    p["signals"],
                ]
                for p in data["purposes"]
            ],
        )
    )


# -- erasure ----------------------------------------------------------------------------------
@cli.command()
@click.argument("identifier", required=False)
@click.option("--profile", "profile_id", type=int, default=None, help="Erase this profile.")
@click.option(
    "--identifier-only",
    is_flag=True,
    help="Erase only TYPE:VALUE and its links; re-resolve what is left of its profile.",
)
@click.option("--actor", default="system", show_default=True, help="Who asked (audited).")
@click.option("--reason", default="erasure request", show_default=True, help="Why (audited).")
@json_option
@pass_ctx
@handle_errors
def erase(
    ctx: CliContext,
    identifier: str | None,
    profile_id: int | None,
    identifier_only: bool,
    actor: str,
    reason: str,
    as_json: bool,
) -> None:
    """Erase TYPE:VALUE's profile (or --profile ID): identifiers, links, attributes, events,
    consent; the audit keeps a hashed tombstone and the store file is compacted."""
    from identity_graph.erasure import ErasureService

    if (identifier is None) == (profile_id is None):
        raise InputError("give TYPE:VALUE or --profile ID (one of them)")
    if identifier_only and identifier is None:
        raise InputError("--identifier-only goes with TYPE:VALUE")
    with ctx.service(create=False) as svc:
        service = ErasureService(svc)
        if profile_id is not None:
            report = service.erase_profile(profile_id, actor=actor, reason=reason)
        else:
            assert identifier is not None
            report = service.erase(
                identifier, identifier_only=identifier_only, actor=actor, reason=reason
            )
    data = report.to_json()
    if as_json:
        emit_json(data)
        return
    counts = ", ".join(f"{n} {name}" for name, n in data["removed"].items())
    if report.mode == "identifier":
        click.echo(f"erased identifier {data['identifiers'][0]} of profile {data['profile_id']}")
        click.echo(
            f"re-anchored records {data['reanchored_observations']}, profiles left "
            f"{data['profiles_after']}, splits {data['splits']}"
        )
    else:
        click.echo(f"erased profile {data['profile_id']}")
    click.echo(f"removed or rewritten: {counts}")
    click.echo(
        f"audit: tombstone seq {data['audit_seq']}, {data['audit_rows_scrubbed']} earlier events "
        f"rewritten with hashes; store compacted: {'yes' if data['compacted'] else 'no'}"
    )


# -- subject access ---------------------------------------------------------------------------
@export.command("profile")
@click.argument("profile_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default stdout).",
)
@pass_ctx
@handle_errors
def export_profile(ctx: CliContext, profile_id: int, fmt: str, out: Path | None) -> None:
    """Everything stored about a profile (subject access request), as JSON."""
    from identity_graph.erasure import ErasureService

    with ctx.service(create=False) as svc:
        data = ErasureService(svc).export_profile(profile_id)
    text = json.dumps(data, indent=2, default=str)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote profile {data['profile_id']} to {out}", err=True)
