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


# -- audit and change feed ----------------------------------------------------------------
class LinkEvidencePublic(_Public):
    """One link with its evidence (`Link.evidence()`); `details` only when the link has any,
    e.g. the actor, reason and force flag of a steward link or per-field fuzzy scores."""

    a: str = Field(examples=["anonymous_id:c-ann"])
    b: str = Field(examples=["email:family@example.com"])
    rule: str = Field(examples=["co_observed"])
    weight: float
    count: int = Field(description="How many observations carried the link.")
    first_seen: Timestamp
    last_seen: Timestamp
    sources: list[str]
    samples: list[str] = Field(description="Sample observation keys that carried the link.")
    details: dict[str, Any] | None = None


class AuditEventPublic(_Public):
    seq: int | None = Field(description="Sequence number; the change feed pages by it.")
    timestamp: Timestamp
    kind: str = Field(examples=["merged"])
    actor: str = Field(description="`system` or the steward's name.")
    reason: str
    profiles_before: list[int]
    profiles_after: list[int]
    identifiers: list[str] = Field(description="`type:value` of the identifiers concerned.")
    link: LinkEvidencePublic | None = Field(description="The link that caused the change.")
    details: dict[str, Any] = Field(
        description="Kind-specific facts, e.g. `moved_to` of a split or the constraint of a "
        "blocked merge."
    )


class ChangePublic(_Public):
    seq: int
    timestamp: Timestamp
    kind: str = Field(examples=["merged", "split", "erased"])
    from_: list[int] = Field(alias="from", description="Profile ids a consumer must replace.")
    to: list[int] = Field(description="Their replacements (empty when erased).")
    reason: str
    actor: str


class ChangesPublic(_Public):
    changes: list[ChangePublic] = Field(description="In sequence order.")
    next_since: int = Field(description="Pass as `since` to fetch the next page.")


class ProfileAsOfPublic(_Public):
    profile_id: int
    as_of: Timestamp
    identifiers: list[str] = Field(
        description="`type:value` of the members at `as_of`, rebuilt from the audit trail."
    )


# -- explanations -------------------------------------------------------------------------
class PathPublic(_Public):
    bottleneck_weight: float | None = Field(description="The weakest link on the path.")
    links: list[LinkEvidencePublic] = Field(description="From `a` to `b`, in order.")


class WhyNotPublic(_Public):
    """One reason two identifiers are apart; which other members are present depends on it."""

    reason: str
    link: LinkEvidencePublic | None = None
    audit: AuditEventPublic | None = None
    actor: str | None = None
    why: str | None = None
    timestamp: Timestamp | None = None


class ExplainPublic(_Public):
    a: str
    b: str
    profile_a: int
    profile_b: int
    same_profile: bool
    path: PathPublic | None = Field(
        default=None, description="Only when `same_profile`: the strongest path."
    )
    why_not: list[WhyNotPublic] | None = Field(
        default=None, description="Only when not `same_profile`."
    )


class WhyLinkPublic(LinkEvidencePublic):
    counts: bool = Field(description="Whether the link holds the profile together.")
    not_counted_because: str | None


class WhyPublic(_Public):
    identifier: str
    profile_id: int
    generic: bool
    joined_by: AuditEventPublic | None = Field(
        description="The latest audit event that put the identifier into its profile."
    )
    links: list[WhyLinkPublic] = Field(description="Its links inside the profile, strongest first.")


# -- graph --------------------------------------------------------------------------------
class GraphNodePublic(_Public):
    id: str = Field(description="`type:value`")
    type: str
    value: str
    first_seen: Timestamp
    last_seen: Timestamp
    generic: bool
    blocked: bool
    profile_id: int


class GraphLinkPublic(_Public):
    source: str
    target: str
    rule: str = Field(description="Rule of the strongest link between the pair.")
    rules: str = Field(description="Every rule linking the pair, comma-separated.")
    weight: float
    count: int
    sources: str = Field(description="Sources of the strongest link, comma-separated.")


class GraphPublic(_Public):
    """networkx node-link data of the profile's subgraph."""

    directed: bool
    multigraph: bool
    graph: dict[str, Any]
    nodes: list[GraphNodePublic]
    links: list[GraphLinkPublic]


# -- steward decisions --------------------------------------------------------------------
Actor = Annotated[str, Field(min_length=1, max_length=200, description="Who decides.")]
Reason = Annotated[str, Field(min_length=1, max_length=2000, description="Why (recorded).")]


class StewardLinkCreate(_Create):
    a: str = Field(examples=["user_id:ann"])
    b: str = Field(examples=["email:ann@example.com"])
    actor: Actor
    reason: Reason
    force: bool = Field(
        default=False, description="Also override per-type limits and the size cap (recorded)."
    )


class StewardUnlinkCreate(_Create):
    a: str = Field(examples=["user_id:ann"])
    b: str = Field(examples=["email:family@example.com"])
    actor: Actor
    reason: Reason


class StewardBlockCreate(_Create):
    identifier: str = Field(description="`type:value`", examples=["email:family@example.com"])
    actor: Actor
    reason: Reason


class StewardResultPublic(_Public):
    action: Literal["link", "unlink", "block", "unblock", "reviewed"]
    profiles: dict[str, int | None] = Field(
        description="Each identifier of the decision -> its profile afterwards."
    )
    merges: int
    splits: int
    profiles_changed: list[int]
    cut_links: list[tuple[str, str]] = Field(description="Links an unlink cut (minimum cut).")


class OverridePublic(_Public):
    kind: str = Field(examples=["never_link"])
    a: str
    b: str | None
    actor: str
    reason: str
    timestamp: Timestamp
    force: bool
