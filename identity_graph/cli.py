"""`idgraph`: a thin click CLI over `identity_graph.service`.

Errors from the library become one line on stderr and a non-zero exit code, here and nowhere
else: 2 bad input or configuration, 3 not found, 4 store unavailable, 1 anything else ours.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from identity_graph import __version__
from identity_graph.errors import (
    ConfigError,
    IdentityGraphError,
    InputError,
    NotFound,
    StoreUnavailable,
)
from identity_graph.render import profile_text, stats_json, stats_text, table
from identity_graph.service import IdentityService, parse_identifier
from identity_graph.stores import default_url

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES: list[tuple[type[IdentityGraphError], int]] = [
    (InputError, 2),
    (ConfigError, 2),
    (NotFound, 3),
    (StoreUnavailable, 4),
    (IdentityGraphError, 1),
]


def handle_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IdentityGraphError as e:
            code = next(c for t, c in EXIT_CODES if isinstance(e, t))
            click.echo(f"error: {e}", err=True)
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


class Context:
    def __init__(self, store_url: str, config_path: Path | None) -> None:
        self.store_url = store_url
        self.config_path = config_path

    @contextmanager
    def service(self, *, create: bool = True) -> Iterator[IdentityService]:
        svc = IdentityService.open(self.store_url, self.config_path, create=create)
        try:
            yield svc
        finally:
            svc.close()


pass_ctx = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idgraph")
@click.option(
    "--store",
    "store_url",
    default=default_url,
    show_default="sqlite:///identity.db or $IDGRAPH_STORE",
    help="Store URL: sqlite:///path.db (default) or neo4j://host:7687.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config TOML (default ./idgraph.toml when present, else built-in defaults).",
)
@click.pass_context
def cli(ctx: click.Context, store_url: str, config_path: Path | None) -> None:
    """identity-graph: resolve identifiers into golden profiles."""
    ctx.obj = Context(store_url, config_path)


@cli.command()
@pass_ctx
@handle_errors
def init(ctx: Context) -> None:
    """Create the store (tables, constraints, indexes); safe to run again."""
    with ctx.service() as svc:
        click.echo(f"initialized {svc.store.url}")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--source", required=True, help="Name of the feed, e.g. web, crm, pos.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["segment", "csv"]),
    default=None,
    help="Input format (default: from the file extension).",
)
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML mapping for CSV files.",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where rejected units go (default FILE.rejects.jsonl).",
)
@json_option
@pass_ctx
@handle_errors
def load(
    ctx: Context,
    file: Path,
    source: str,
    fmt: str | None,
    mapping: Path | None,
    rejects: Path | None,
    as_json: bool,
) -> None:
    """Load a file of Segment events (JSONL) or CSV records, resolving as it goes."""
    with ctx.service() as svc:
        show_bar = sys.stderr.isatty() and file.exists()
        if show_bar:
            with click.progressbar(
                length=file.stat().st_size, label=f"loading {file.name}", file=sys.stderr
            ) as bar:
                summary = svc.load_file(
                    file,
                    source=source,
                    fmt=fmt,
                    mapping_path=mapping,
                    rejects_path=rejects,
                    progress=bar.update,
                )
        else:
            summary = svc.load_file(
                file, source=source, fmt=fmt, mapping_path=mapping, rejects_path=rejects
            )
    data = summary.to_json()
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"{file}: read {data['read']}, accepted {data['accepted']} "
        f"(new {data['new']}, already loaded {data['duplicates']}), rejected {data['rejected']}"
        + (f" (suppressed after erasure {data['suppressed']})" if data["suppressed"] else "")
    )
    click.echo(
        f"profiles created {data['profiles_created']}, merges {data['merges']}, "
        f"splits {data['splits']}, merges blocked {data['merges_blocked']}, "
        f"identifiers turned generic {data['newly_generic']}"
    )
    if data["rejects_file"]:
        click.echo(f"rejects written to {data['rejects_file']}")


@cli.command()
@click.argument("identifier")
@click.argument("value", required=False)
@json_option
@pass_ctx
@handle_errors
def resolve(ctx: Context, identifier: str, value: str | None, as_json: bool) -> None:
    """Resolve TYPE VALUE (or TYPE:VALUE) to its profile."""
    id_type, raw = parse_identifier(identifier, value)
    with ctx.service(create=False) as svc:
        data = svc.resolve(id_type, raw).to_json()
    emit_json(data) if as_json else click.echo(profile_text(data))


@cli.command()
@click.argument("profile_id", type=int)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="TIMESTAMP",
    help="Members as they were at this ISO 8601 time, rebuilt from the audit trail.",
)
@json_option
@pass_ctx
@handle_errors
def profile(ctx: Context, profile_id: int, as_of: str | None, as_json: bool) -> None:
    """Show a profile: golden attributes and identifiers. Merged ids lead to the survivor."""
    with ctx.service(create=False) as svc:
        if as_of is not None:
            from identity_graph.models import iso, key_text, parse_iso
            from identity_graph.service import StewardService

            try:
                when = parse_iso(as_of)
            except ValueError as e:
                raise InputError(f"--as-of: not an ISO 8601 timestamp: {as_of!r}") from e
            members = StewardService(svc).profile_as_of(profile_id, when)
            ids = [key_text(k) for k in members]
            data = {"profile_id": profile_id, "as_of": iso(when), "identifiers": ids}
            if as_json:
                emit_json(data)
            else:
                click.echo(f"profile {profile_id} as of {iso(when)}: {len(members)} identifiers")
                click.echo("\n".join(f"  {k}" for k in ids))
            return
        data = svc.profile(profile_id).to_json()
    emit_json(data) if as_json else click.echo(profile_text(data))


@cli.command()
@click.option("--top", default=10, show_default=True, help="How many largest profiles to list.")
@json_option
@pass_ctx
@handle_errors
def stats(ctx: Context, top: int, as_json: bool) -> None:
    """Counts, cluster-size distribution, largest profiles and generic identifiers."""
    with ctx.service(create=False) as svc:
        result = svc.stats(top)
    emit_json(stats_json(result)) if as_json else click.echo(stats_text(result))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only show what would change; write nothing.")
@click.option(
    "--proposed-config",
    "proposed",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --dry-run: preview under this config instead.",
)
@json_option
@pass_ctx
@handle_errors
def recluster(ctx: Context, dry_run: bool, proposed: Path | None, as_json: bool) -> None:
    """Recompute every profile from all links; profile ids stay stable by largest overlap."""
    if proposed is not None and not dry_run:
        raise InputError("--proposed-config goes with --dry-run")
    if dry_run:
        from identity_graph.config import load_config
        from identity_graph.preview import preview_recluster

        with ctx.service(create=False) as svc:
            config = load_config(proposed) if proposed else svc.config
            plan = preview_recluster(svc.store, config)
        if as_json:
            emit_json(plan)
            return
        click.echo(
            f"would make {plan['merges']} merges and {plan['splits']} splits, affecting "
            f"{plan['profiles_affected']} profiles ({plan['profiles_before']} -> "
            f"{plan['profiles_after']} profiles)"
        )
        for change in plan["largest_changes"]:
            what = (
                f"merge profiles {change['profiles']}"
                if change["kind"] == "merge"
                else f"split profile {change['profile']} into {change['into_sizes']}"
            )
            click.echo(f"- {what} (size {change['size']})")
            for ln in change["links"]:
                why = ln.get("not_counted_because")
                click.echo(
                    f"    {ln['a']} - {ln['b']} {ln['rule']} {ln['weight']}"
                    + (f": {why}" if why else "")
                )
        return
    with ctx.service(create=False) as svc:
        out = svc.recluster()
    data = {
        "profiles_created": out.profiles_created,
        "merges": out.merges,
        "splits": out.splits,
        "profiles_changed": len(out.changed_profiles),
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data.items()))


@cli.group()
def export() -> None:
    """Export assignments and records."""


def _export(ctx: Context, out: Path | None, write: Callable[[IdentityService, Any], int]) -> None:
    with ctx.service(create=False) as svc:
        if out is None:
            write(svc, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as fh:
                n = write(svc, fh)
            click.echo(f"wrote {n} rows to {out}", err=True)


csv_format_option = click.option(
    "--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True
)
out_file_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default stdout).",
)


@export.command("assignments")
@csv_format_option
@out_file_option
@pass_ctx
@handle_errors
def export_assignments(ctx: Context, fmt: str, out: Path | None) -> None:
    """identifier_type,identifier_value,profile_id: one row per identifier."""
    _export(ctx, out, lambda svc, fh: svc.export_assignments(fh))


@export.command("records")
@csv_format_option
@out_file_option
@pass_ctx
@handle_errors
def export_records(ctx: Context, fmt: str, out: Path | None) -> None:
    """source,record_key,profile_id: one row per accepted observation."""
    _export(ctx, out, lambda svc, fh: svc.export_records(fh))


@export.command("graph")
@click.option("--format", "fmt", type=click.Choice(["graphml", "parquet", "jsonl"]), required=True)
@click.option("--profile", "profiles", type=int, multiple=True, help="Only these profiles.")
@click.option("--min-size", default=1, show_default=True, help="Only profiles this large.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="A folder for parquet/jsonl (nodes, edges, profiles); a file for graphml.",
)
@pass_ctx
@handle_errors
def export_graph_command(
    ctx: Context, fmt: str, profiles: tuple[int, ...], min_size: int, out: Path
) -> None:
    """Identifiers, links and profiles as GraphML, Parquet or JSONL files."""
    from identity_graph.graph_export import export_graph

    with ctx.service(create=False) as svc:
        written = export_graph(svc.store, fmt, out, profiles=profiles, min_size=min_size)
    click.echo(", ".join(f"{n} {name}" for name, n in written.items()) + f" written to {out}")


@cli.command()
@click.option("--persons", default=1000, show_default=True, help="How many people.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same files).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("sample"),
    show_default=True,
)
@handle_errors
def generate(persons: int, seed: int, out: Path) -> None:
    """Write sample data with ground truth: events, CRM and POS CSVs with mappings."""
    from identity_graph.generate import generate as run

    if persons < 1:
        raise InputError("--persons must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    summary = run(persons, seed, out)
    click.echo(
        f"wrote {summary.events} events, {summary.crm_rows} CRM rows, {summary.pos_rows} POS "
        f"rows for {summary.persons} persons to {out} ({summary.malformed} malformed on purpose)"
    )
    for name, path in summary.files.items():
        click.echo(f"  {name:12} {path}")


@cli.command()
@click.option("--persons", default=2000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-data"),
    show_default=True,
)
@pass_ctx
@handle_errors
def demo(ctx: Context, persons: int, seed: int, out: Path) -> None:
    """Generate sample data, load it, and show resolved profiles and stats."""
    from identity_graph.generate import generate as run

    out.mkdir(parents=True, exist_ok=True)
    summary = run(persons, seed, out)
    click.echo(f"generated {persons} persons into {out}")
    files = summary.files
    steps = [
        (files["events"], "web", None),
        (files["crm"], "crm", files["crm_mapping"]),
        (files["pos"], "pos", files["pos_mapping"]),
    ]
    with ctx.service() as svc:
        for path, source, mapping in steps:
            s = svc.load_file(path, source=source, mapping_path=mapping)
            click.echo(
                f"loaded {path.name} as {source}: read {s.read}, accepted {s.accepted}, "
                f"rejected {s.rejected}"
            )
        st = svc.stats(5)
        click.echo("")
        click.echo(stats_text(st))
        if st.largest_profiles:
            click.echo("")
            pid = st.largest_profiles[min(2, len(st.largest_profiles) - 1)][0]
            click.echo(profile_text(svc.profile(pid).to_json()))
        rows = []
        for path in (files["crm"],):
            import csv

            with path.open(encoding="utf-8") as fh:
                for row in list(csv.DictReader(fh))[:3]:
                    email = row.get("email", "")
                    try:
                        view = svc.resolve("email", email)
                        rows.append([email.strip(), view.profile.id, len(view.members)])
                    except IdentityGraphError:
                        continue
        if rows:
            click.echo("")
            click.echo(table(["resolve email", "profile", "identifiers"], rows))
    click.echo(
        f"\nstore: {ctx.store_url}; try `idgraph resolve email:<address>` or `idgraph stats`"
    )


@cli.command()
@click.option("--from", "src_url", required=True, help="Store URL to copy from.")
@click.option("--to", "dst_url", required=True, help="Store URL to copy into (must be empty).")
@click.option("--batch-size", default=5000, show_default=True)
@handle_errors
def copy(src_url: str, dst_url: str, batch_size: int) -> None:
    """Copy a whole graph into an empty store: audit, steward decisions, saved segments, the
    erasure salt and the suppression list included."""
    from identity_graph.stores import open_store
    from identity_graph.stores.copy import copy_store, source_counts

    src = open_store(src_url, create=False)
    dst = open_store(dst_url)
    try:
        total = sum(source_counts(src).values())
        with click.progressbar(length=total, label="copying", file=sys.stderr) as bar:
            counts = copy_store(src, dst, lambda _kind, n: bar.update(n), batch_size=batch_size)
    finally:
        src.close()
        dst.close()
    click.echo(", ".join(f"{n} {kind}" for kind, n in counts.items()) + f" copied to {dst.url}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--keys-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="API keys file (default $IDGRAPH_API_KEYS). Without keys: open, loopback only.",
)
@pass_ctx
@handle_errors
def serve(ctx: Context, host: str, port: int, workers: int, keys_file: Path | None) -> None:
    """Serve the HTTP API (FastAPI + uvicorn); one JSON log line per request on stderr."""
    import os

    import uvicorn

    from identity_graph.api import app as api_app
    from identity_graph.api.settings import Settings

    keys = keys_file or (
        Path(os.environ["IDGRAPH_API_KEYS"]) if os.environ.get("IDGRAPH_API_KEYS") else None
    )
    settings = Settings(store_url=ctx.store_url, config_path=ctx.config_path, api_keys_file=keys)
    api_app.check_bind(settings, host)  # exit 2, one line, before anything binds
    os.environ[api_app.ENV_STORE] = ctx.store_url
    os.environ[api_app.ENV_HOST] = host
    for var, path in ((api_app.ENV_CONFIG, ctx.config_path), (api_app.ENV_KEYS, keys)):
        if path is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = str(path.resolve())
    uvicorn.run(
        "identity_graph.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def main() -> None:
    cli(prog_name="idgraph")


# The steward commands live in their own module and register themselves on `cli`.
from identity_graph import cli_steward  # noqa: E402, F401, I001
from identity_graph import cli_segments  # noqa: E402, F401, I001
from identity_graph import cli_match  # noqa: E402, F401, I001
from identity_graph import cli_api  # noqa: E402, F401, I001
