"""Request (`XCreate`) and response (`XPublic`) bodies of the API, pydantic v2.

Response models mirror the service's JSON (`ProfileView.to_json()`, `render.stats_json`), so
the API, the CLI's `--json` and the OpenAPI schema describe the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[
    str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-01-05T10:00:00+00:00"])
]


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors -------------------------------------------------------------------------------
class ProblemPublic(BaseModel):
    """RFC 9457 problem details; extension members (`field`, `errors`, `limit`) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:identity-graph:problem:not-found"])
    title: str
    status: int
    detail: str


# -- profiles -----------------------------------------------------------------------------
class GoldenValuePublic(_Public):
    value: Any
    source: str
    timestamp: Timestamp
    rule: str


class IdentifierPublic(_Public):
    type: str = Field(examples=["email"])
    value: str = Field(description="Normalized value.", examples=["ann@example.com"])
    id: str = Field(description="`type:value`", examples=["email:ann@example.com"])
    first_seen: Timestamp
    last_seen: Timestamp
    generic: bool
    blocked: bool


class ProfilePublic(_Public):
    profile_id: int = Field(description="The profile that holds the identifiers now.")
    requested_id: int = Field(description="The id asked for; differs when it was merged away.")
    merged: bool = Field(description="True when `requested_id` was merged into `profile_id`.")
    status: Literal["active", "merged", "split"]
    size: int
    created: Timestamp
    updated: Timestamp
    golden: dict[str, GoldenValuePublic] = Field(
        description="Golden attributes chosen by survivorship, each with its source and time."
    )
    identifiers: list[IdentifierPublic]


# -- resolve ------------------------------------------------------------------------------
class IdentifierCreate(_Create):
    type: str = Field(min_length=1, max_length=64, examples=["email"])
    value: str = Field(examples=["Ann@Example.com"])


class ResolveBatchCreate(_Create):
    identifiers: list[IdentifierCreate] = Field(
        description="Looked up in one go; at most the server's `max_batch`."
    )


class ResolvePublic(_Public):
    type: str
    value: str = Field(description="Normalized when valid, else as sent.")
    profile_id: int | None = Field(description="Null when unknown or not a valid identifier.")


class ResolveBatchPublic(_Public):
    results: list[ResolvePublic] = Field(description="One per identifier, in request order.")


# -- ingest -------------------------------------------------------------------------------
class IngestCreate(_Create):
    source: str = Field(min_length=1, max_length=100, examples=["web"])
    events: list[Any] = Field(
        description=(
            "Segment-spec messages (identify, track, page, screen, alias, group). Each is "
            "checked on its own: a bad one is rejected with its reason, the rest go in."
        ),
        examples=[
            [
                {
                    "type": "identify",
                    "messageId": "m1",
                    "timestamp": "2026-01-05T10:00:00Z",
                    "anonymousId": "a-1",
                    "userId": "u-1",
                    "traits": {"email": "Ann@Example.com", "first_name": "Ann"},
                }
            ]
        ],
    )


class IngestEventPublic(_Public):
    index: int = Field(description="Position of the event in the request.")
    accepted: bool
    duplicate: bool = Field(description="Already ingested earlier (same source and messageId).")
    profile_id: int | None
    reason: str | None = Field(description="Why the event was rejected.")
    field: str | None = Field(description="The field at fault, when known.")


class IngestPublic(_Public):
    source: str
    received: int
    accepted: int
    rejected: int
    duplicates: int
    results: list[IngestEventPublic] = Field(description="One per event, in request order.")


# -- stats and health ---------------------------------------------------------------------
class ProfileSizePublic(_Public):
    profile_id: int
    size: int


class GenericIdentifierPublic(_Public):
    identifier: str
    degree: int


class StatsPublic(_Public):
    observations: int
    identifiers: int
    links: int
    profiles: int
    events: int
    audit_events: int
    generic_identifiers: int
    identifiers_by_type: dict[str, int]
    cluster_sizes: dict[str, int] = Field(description="Profile size -> number of profiles.")
    largest_profiles: list[ProfileSizePublic]
    generic: list[GenericIdentifierPublic]


class HealthPublic(_Public):
    status: Literal["ok"]
    store: str = Field(description="Store URL without credentials.")
