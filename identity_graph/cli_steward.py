"""CLI commands for stewards: audit, change feed, explanations, graphs and decisions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from identity_graph.cli import Context as CliContext
from identity_graph.cli import cli, emit_json, handle_errors, json_option, pass_ctx
from identity_graph.errors import InputError
from identity_graph.models import iso, key_text, parse_iso
from identity_graph.render import table
from identity_graph.service import StewardService, parse_identifier


def _when(text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError as e:
        raise InputError(f"--as-of: not an ISO 8601 timestamp: {text!r}") from e


def _field_scores(fields: dict[str, Any]) -> str:
    return table(
        ["field", "comparison", "level", "similarity", "weight"],
        [
            [name, f.get("comparison"), f.get("level"), f.get("similarity"), f.get("weight")]
            for name, f in fields.items()
        ],
    )


def _events_table(events: list[dict[str, Any]]) -> str:
    return table(
        ["seq", "time", "kind", "before", "after", "actor", "reason"],
        [
            [
                e["seq"],
                e["timestamp"][:19],
                e["kind"],
                e["profiles_before"],
                e["profiles_after"],
                e["actor"],
                e["reason"],
            ]
            for e in events
        ],
    )


@cli.command()
@click.argument("profile_id", type=int, required=False)
@click.option(
    "--identifier",
    nargs=2,
    default=None,
    metavar="TYPE VALUE",
    help="Audit the profile this identifier belongs to.",
)
@json_option
@pass_ctx
@handle_errors
def audit(
    ctx: CliContext, profile_id: int | None, identifier: tuple[str, str] | None, as_json: bool
) -> None:
    """A profile's history in time order, including the profiles merged into it."""
    with ctx.service(create=False) as svc:
        if identifier:
            profile_id = svc.resolve(*identifier).profile.id
        if profile_id is None:
            raise InputError("give a PROFILE_ID or --identifier TYPE VALUE")
        events = [e.to_json() for e in StewardService(svc).audit(profile_id)]
    emit_json(events) if as_json else click.echo(_events_table(events))


@cli.command()
@click.option("--since", default=0, show_default=True, help="Last sequence number you saw.")
@click.option("--limit", default=100, show_default=True)
@json_option
@pass_ctx
@handle_errors
def changes(ctx: CliContext, since: int, limit: int, as_json: bool) -> None:
    """Profile id changes (merged, split, erased) after sequence number SINCE."""
    from identity_graph.history import change_record

    with ctx.service(create=False) as svc:
        records = [change_record(e) for e in StewardService(svc).changes(since, limit)]
    nxt = records[-1]["seq"] if records else since
    if as_json:
        emit_json({"changes": records, "next_since": nxt})
        return
    click.echo(
        table(
            ["seq", "time", "kind", "from", "to"],
            [[r["seq"], r["timestamp"][:19], r["kind"], r["from"], r["to"]] for r in records],
        )
    )
    click.echo(f"next: --since {nxt}")


@cli.command()
@click.argument("a")
@click.argument("b")
@json_option
@pass_ctx
@handle_errors
def explain(ctx: CliContext, a: str, b: str, as_json: bool) -> None:
    """Why TYPE:VALUE and TYPE:VALUE are in one profile (strongest path), or why not."""
    with ctx.service(create=False) as svc:
        st = StewardService(svc)
        data = st.explain(st.key(a), st.key(b))
    if as_json:
        emit_json(data)
        return
    if data["same_profile"]:
        click.echo(
            f"{data['a']} and {data['b']} are both in profile {data['profile_a']}; "
            f"strongest path (weakest link {data['path']['bottleneck_weight']}):"
        )
        click.echo(
            table(
                [
                    "from",
                    "to",
                    "rule",
                    "weight",
                    "count",
                    "sources",
                    "first seen",
                    "last seen",
                    "samples",
                ],
                [
                    [
                        ln["a"],
                        ln["b"],
                        ln["rule"],
                        ln["weight"],
                        ln["count"],
                        ",".join(ln["sources"]),
                        ln["first_seen"][:19],
                        ln["last_seen"][:19],
                        " ".join(ln["samples"]),
                    ]
                    for ln in data["path"]["links"]
                ],
            )
        )
        for ln in data["path"]["links"]:
            fields = (ln.get("details") or {}).get("fields")
            if fields:  # a fuzzy link: why the two records matched, field by field
                click.echo(f"{ln['a']} ~ {ln['b']} ({ln['rule']}):")
                click.echo(_field_scores(fields))
    else:
        click.echo(
            f"{data['a']} is in profile {data['profile_a']}, {data['b']} in profile "
            f"{data['profile_b']}:"
        )
        for r in data["why_not"]:
            link = r.get("link")
            click.echo(
                f"- {r['reason']}"
                + (f" ({link['a']} - {link['b']}, {link['rule']})" if link else "")
            )


@cli.command()
@click.argument("identifier")
@json_option
@pass_ctx
@handle_errors
def why(ctx: CliContext, identifier: str, as_json: bool) -> None:
    """How TYPE:VALUE joined its profile: the audit event and the links that hold it."""
    with ctx.service(create=False) as svc:
        st = StewardService(svc)
        data = st.why(st.key(identifier))
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['identifier']} is in profile {data['profile_id']}")
    ev = data["joined_by"]
    if ev:
        click.echo(
            f"joined by audit event {ev['seq']} ({ev['kind']}, {ev['timestamp'][:19]}, "
            f"{ev['actor']}): {ev['reason']}"
        )
    click.echo(
        table(
            ["to", "rule", "weight", "counts", "sources"],
            [
                [
                    ln["b"] if ln["a"] == data["identifier"] else ln["a"],
                    ln["rule"],
                    ln["weight"],
                    "yes" if ln["counts"] else ln["not_counted_because"],
                    ",".join(ln["sources"]),
                ]
                for ln in data["links"]
            ],
        )
    )


@cli.command()
@click.argument("profile_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "json", "png"]),
    default="json",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default stdout; required for png).",
)
@pass_ctx
@handle_errors
def graph(ctx: CliContext, profile_id: int, fmt: str, out: Path | None) -> None:
    """A profile's subgraph: identifiers as nodes, links as edges with rule and weight."""
    from identity_graph.graph_io import draw_png, graph_json, graphml_text

    with ctx.service(create=False) as svc:
        g = StewardService(svc).profile_graph(profile_id)
    if fmt == "png":
        if out is None:
            raise InputError("--format png needs --out FILE.png")
        draw_png(g, out)
        click.echo(f"wrote {out}", err=True)
        return
    text = graphml_text(g) if fmt == "graphml" else json.dumps(graph_json(g), indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")


def _decision(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    where = ", ".join(f"{k} -> profile {v}" for k, v in data["profiles"].items())
    click.echo(f"{data['action']}: {where}; merges {data['merges']}, splits {data['splits']}")
    for a, b in data["cut_links"]:
        click.echo(f"  cut link {a} - {b}")


actor_option = click.option("--actor", required=True, help="Who decides (recorded).")
reason_option = click.option("--reason", required=True, help="Why (recorded).")


@cli.command()
@click.argument("a")
@click.argument("b")
@actor_option
@reason_option
@click.option("--force", is_flag=True, help="Also override per-type limits and the size cap.")
@json_option
@pass_ctx
@handle_errors
def link(
    ctx: CliContext, a: str, b: str, actor: str, reason: str, force: bool, as_json: bool
) -> None:
    """Force TYPE:VALUE and TYPE:VALUE into one profile (a stored override)."""
    with ctx.service(create=False) as svc:
        data = StewardService(svc).link(a, b, actor=actor, reason=reason, force=force).to_json()
    _decision(data, as_json)


@cli.command()
@click.argument("a")
@click.argument("b")
@actor_option
@reason_option
@json_option
@pass_ctx
@handle_errors
def unlink(ctx: CliContext, a: str, b: str, actor: str, reason: str, as_json: bool) -> None:
    """Split TYPE:VALUE from TYPE:VALUE by a minimum cut; they never link again."""
    with ctx.service(create=False) as svc:
        data = StewardService(svc).unlink(a, b, actor=actor, reason=reason).to_json()
    _decision(data, as_json)


def _block_command(name: str, unblock: bool, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("identifier")
    @click.argument("value", required=False)
    @actor_option
    @reason_option
    @json_option
    @pass_ctx
    @handle_errors
    def command(
        ctx: CliContext,
        identifier: str,
        value: str | None,
        actor: str,
        reason: str,
        as_json: bool,
    ) -> None:
        id_type, raw = parse_identifier(identifier, value)
        with ctx.service(create=False) as svc:
            result = StewardService(svc).block(
                f"{id_type}:{raw}", actor=actor, reason=reason, unblock=unblock
            )
        _decision(result.to_json(), as_json)


_block_command(
    "block",
    False,
    "Make TYPE VALUE generic: its links stop counting; profiles it held together split.",
)
_block_command(
    "unblock",
    True,
    "Undo `block`: the value links again and the profiles it joins are re-clustered.",
)


@cli.command()
@json_option
@pass_ctx
@handle_errors
def overrides(ctx: CliContext, as_json: bool) -> None:
    """List steward overrides: force links, never links, cut links, blocked values."""
    with ctx.service(create=False) as svc:
        rows = [
            {
                "kind": o.kind,
                "a": key_text(o.a),
                "b": key_text(o.b) if o.b else None,
                "actor": o.actor,
                "reason": o.reason,
                "timestamp": iso(o.timestamp),
                "force": o.force,
            }
            for o in StewardService(svc).overrides()
        ]
    if as_json:
        emit_json(rows)
    else:
        click.echo(
            table(
                ["kind", "a", "b", "actor", "reason", "time"],
                [
                    [r["kind"], r["a"], r["b"], r["actor"], r["reason"], str(r["timestamp"])[:19]]
                    for r in rows
                ],
            )
        )


@cli.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True)
@json_option
@click.pass_context
@handle_errors
def review(click_ctx: click.Context, limit: int, as_json: bool) -> None:
    """Profiles and identifiers that most need a steward, ranked, with reasons."""
    if click_ctx.invoked_subcommand is not None:
        return
    from identity_graph.service import review as review_queue

    ctx: CliContext = click_ctx.obj
    with ctx.service(create=False) as svc:
        items = [i.to_json() for i in review_queue(svc, limit)]
    if as_json:
        emit_json(items)
        return
    click.echo(
        table(
            ["item", "profile", "score", "reason"],
            [[i["item"], i["profile_id"], i["score"], i["reason"]] for i in items],
        )
    )


def _review_decision(
    ctx: CliContext, item: str, decision: str, actor: str, reason: str, as_json: bool
) -> None:
    from identity_graph.service import decide_review

    with ctx.service(create=False) as svc:
        data = decide_review(svc, item, decision, actor=actor, reason=reason).to_json()
    _decision(data, as_json)


@review.command("accept")
@click.argument("item")
@actor_option
@reason_option
@json_option
@pass_ctx
@handle_errors
def review_accept(ctx: CliContext, item: str, actor: str, reason: str, as_json: bool) -> None:
    """Keep the pair together (force link) or mark the identifier reviewed."""
    _review_decision(ctx, item, "accept", actor, reason, as_json)


@review.command("reject")
@click.argument("item")
@actor_option
@reason_option
@json_option
@pass_ctx
@handle_errors
def review_reject(ctx: CliContext, item: str, actor: str, reason: str, as_json: bool) -> None:
    """Split the pair (never link) or block the identifier's value."""
    _review_decision(ctx, item, "reject", actor, reason, as_json)
