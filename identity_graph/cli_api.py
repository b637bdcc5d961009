"""CLI commands for the HTTP API's keys: `idgraph apikey create`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from identity_graph.apikeys import ROLES, create_key
from identity_graph.cli import cli, handle_errors

DEFAULT_KEYS_FILE = "idgraph-keys.json"


def keys_file_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--keys-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"API keys file (default $IDGRAPH_API_KEYS, else ./{DEFAULT_KEYS_FILE}).",
    )(fn)


@cli.group()
def apikey() -> None:
    """API keys for `idgraph serve` (stored as salted scrypt hashes)."""


@apikey.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the key may do.")
@click.option("--pii", is_flag=True, help="Let the key read identifier values unmasked.")
@click.option("--name", default="", help="A label for the key (who or what uses it).")
@keys_file_option
@handle_errors
def apikey_create(role: str, pii: bool, name: str, keys_file: Path | None) -> None:
    """Create a key and print it once; only its salted hash is stored."""
    path = keys_file or Path(os.environ.get("IDGRAPH_API_KEYS") or DEFAULT_KEYS_FILE)
    plaintext, record = create_key(path, role, pii=pii, name=name)
    click.echo(plaintext)
    scope = " +pii" if record.pii else ""
    click.echo(
        f"key {record.id} ({record.role}{scope}) added to {path}; it is shown only this once",
        err=True,
    )
