"""Request (`XCreate`) and response (`XPublic`) bodies of the segment, consent and erasure
routes. They mirror the service's JSON (`SegmentRecord.to_json()`, `ConsentService`,
`ErasureReport.to_json()`, `ErasureService.export_profile()`)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .models import AuditEventPublic, GoldenValuePublic, IdentifierPublic, Timestamp  # noqa: TID251


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- segments -------------------------------------------------------------------------------
class SegmentCreate(_Create):
    rule: dict[str, Any] = Field(
        description="The rule in the segment language (docs/segments.md).",
        examples=[
            {
                "all": [
                    {"attribute": "country", "equals": "GB"},
                    {"event": "Order Completed", "count": {"gte": 2}, "within_days": 90},
                    {"consent": "email_marketing"},
                ]
            }
        ],
    )


class SegmentPublic(_Public):
    name: str
    rule: dict[str, Any]
    created: Timestamp
    updated: Timestamp


class SegmentDeletedPublic(_Public):
    name: str
    deleted: bool


class SegmentListPublic(_Public):
    segments: list[SegmentPublic]


class SegmentCountPublic(_Public):
    name: str
    count: int = Field(description="Live profiles matching the rule now (or at `as_of`).")
    as_of: Timestamp
    purpose: str | None = Field(description="When given, only profiles that granted it.")


class SegmentMemberPublic(_Public):
    profile_id: int
    size: int
    identifiers: list[str] = Field(description="`type:value` of the profile's identifiers.")


class SegmentMembersPublic(_Public):
    name: str
    members: list[SegmentMemberPublic] = Field(description="In ascending profile id order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


# -- consent --------------------------------------------------------------------------------
class ConsentPurposePublic(_Public):
    purpose: str = Field(examples=["email_marketing"])
    granted: bool
    source: str
    timestamp: Timestamp
    identifier: str = Field(description="The identifier whose observation carried the signal.")
    record_key: str = Field(description="The observation's record key within its source.")
    signals: int = Field(description="How many signals the profile has for this purpose.")


class ConsentPublic(_Public):
    identifier: str | None
    profile_id: int
    purposes: list[ConsentPurposePublic] = Field(
        description="Per purpose, the winning signal: the latest; at the same instant a denial."
    )


class ConsentCreate(_Create):
    identifier: str = Field(
        min_length=3, max_length=400, examples=["email:ann@example.com"], description="TYPE:VALUE"
    )
    purpose: str = Field(min_length=1, max_length=100, examples=["email_marketing"])
    granted: bool
    source: str = Field(min_length=1, max_length=100, examples=["preference_center"])
    timestamp: AwareDatetime | None = Field(
        default=None, description="When the person gave or withdrew consent (default now)."
    )
    record_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Idempotency key within the source (default: derived from the signal).",
    )


class ConsentRecordedPublic(_Public):
    identifier: str
    profile_id: int
    purpose: str
    granted: bool
    source: str
    timestamp: Timestamp
    record_key: str
    duplicate: bool = Field(description="True when this (source, record_key) was stored before.")


# -- erasure and access ---------------------------------------------------------------------
class ErasurePublic(_Public):
    mode: str = Field(examples=["profile", "identifier"])
    profile_id: int | None
    identifiers: list[str] = Field(description="Erased identifiers as `type:sha256:<hex>`.")
    removed: dict[str, int] = Field(description="Rows removed or rewritten, per kind.")
    reanchored_observations: int
    profiles_after: list[int]
    splits: int
    audit_rows_scrubbed: int
    audit_seq: int | None = Field(description="Sequence number of the `erased` tombstone.")
    compacted: bool


class StoredAttributePublic(_Public):
    name: str
    value: Any
    source: str
    timestamp: Timestamp
    identifier: str


class StoredEventPublic(_Public):
    name: str
    properties: dict[str, Any]
    timestamp: Timestamp
    source: str
    record_key: str
    identifier: str


class ConsentSignalPublic(_Public):
    purpose: str
    granted: bool
    source: str
    timestamp: Timestamp
    identifier: str
    record_key: str


class ConsentHistoryPublic(_Public):
    current: list[ConsentSignalPublic]
    signals: list[ConsentSignalPublic]


class StoredObservationPublic(_Public):
    source: str
    record_key: str
    timestamp: Timestamp
    identifier: str


class ProfileExportPublic(_Public):
    """Everything stored about the person (subject access request)."""

    profile_id: int
    requested_id: int
    exported_at: Timestamp
    merged_profiles: list[int]
    profile: dict[str, Any]
    golden: dict[str, GoldenValuePublic]
    identifiers: list[IdentifierPublic]
    attributes: list[StoredAttributePublic]
    events: list[StoredEventPublic]
    consent: ConsentHistoryPublic
    observations: list[StoredObservationPublic]
    links: list[dict[str, Any]]
    audit: list[AuditEventPublic]
