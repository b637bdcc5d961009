"""`GET /v1/profiles/{profile_id}`: a merged-away id answers with the surviving profile;
`?as_of=TIMESTAMP` gives the members at that time instead, rebuilt from the audit trail."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.errors import InputError
from identity_graph.models import iso, key_text, parse_iso
from identity_graph.service import StewardService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import ProfileAsOfPublic, ProfilePublic  # noqa: TID251, TID252

router = APIRouter(prefix="/profiles", tags=["profiles"])

# An unencoded `+` in a query string arrives as a space: `...T10:00:00 00:00`.
_SPACED_OFFSET = re.compile(r"(T\S+) (\d{2}:?\d{2})$")


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 timestamp; no offset means UTC. 422 (invalid-input) otherwise."""
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    try:
        return parse_iso(text)
    except ValueError as e:
        raise InputError(f"not an ISO 8601 timestamp: {text!r}", field="as_of") from e


@router.get(
    "/{profile_id}",
    response_model=ProfilePublic | ProfileAsOfPublic,
    responses=problem_responses(404, 422, 503),
)
def get_profile(
    profile_id: int,
    handle: ServiceDep,
    as_of: Annotated[
        str | None,
        Query(
            max_length=64,
            description="ISO 8601 time: answer with the members at that time instead.",
            examples=["2026-01-05T10:00:00Z"],
        ),
    ] = None,
) -> ProfilePublic | ProfileAsOfPublic:
    """Golden attributes and identifiers. `merged` is true when `profile_id` was merged away.

    With `as_of`: `{"profile_id", "as_of", "identifiers"}`, the `type:value` members that
    profile id held at that time (a merged-away id held its own members until its merge)."""
    if as_of is not None:
        when = parse_as_of(as_of)
        with handle as service:
            service.profile(profile_id)  # 404 for an id that never existed
            members = StewardService(service).profile_as_of(profile_id, when)
        return ProfileAsOfPublic(
            profile_id=profile_id, as_of=iso(when), identifiers=[key_text(k) for k in members]
        )
    with handle as service:
        data = service.profile(profile_id).to_json()
    return ProfilePublic.model_validate(data)
