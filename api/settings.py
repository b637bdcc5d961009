"""Settings of one API instance, passed to `create_app`; never read at import time."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Settings(BaseModel):
    """What `create_app` needs. Immutable; unknown fields are an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_url: str = Field(description="sqlite:///path.db or neo4j://host:7687")
    config_path: Path | None = Field(
        default=None, description="Config TOML (default ./idgraph.toml when present)."
    )
    max_batch: int = Field(
        default=1000,
        gt=0,
        description="Most identifiers in one POST /v1/resolve and events in one POST /v1/ingest.",
    )
    max_body_bytes: int = Field(
        default=5_000_000, gt=0, description="Largest request body accepted, in bytes."
    )
    max_string_chars: int = Field(
        default=2000,
        gt=0,
        description=(
            "Longest string in a query, path or JSON body (identifier values, reasons, rule "
            "names); the events of POST /v1/ingest are checked per event instead."
        ),
    )
    api_keys_file: Path | None = Field(
        default=None,
        description=(
            "JSON file of API keys (salted hashes, see `idgraph apikey create`). None or a "
            "file without keys: dev mode, every route open (the server binds to loopback only)."
        ),
    )

    @field_validator("store_url")
    @classmethod
    def _store_url_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("store_url must not be empty")
        return value.strip()

    @property
    def public_store_url(self) -> str:
        """The store URL without credentials, safe to show in responses and logs."""
        return redact_url(self.store_url)


def redact_url(url: str) -> str:
    """Drop `user:password@` and any query string (where drivers take secrets) from a URL."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"
