"""Consent: `GET /v1/consent?identifier=type:value` (the profile's consent per purpose with
its origin) and `POST /v1/consent` (a consent signal for an identifier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.consent import ConsentService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..segment_models import (  # noqa: TID251, TID252
    ConsentCreate,
    ConsentPublic,
    ConsentRecordedPublic,
)

router = APIRouter(prefix="/consent", tags=["consent"])


@router.get("", responses=problem_responses(404, 422, 503))
def get_consent(
    identifier: Annotated[
        str, Query(min_length=3, max_length=400, examples=["email:ann@example.com"])
    ],
    handle: ServiceDep,
) -> ConsentPublic:
    """Per purpose, the winning signal across all the profile's identifiers (the latest; at
    the same instant a denial), with its source, time and the identifier that carried it."""
    with handle as service:
        data = ConsentService(service).of_identifier(identifier)
    return ConsentPublic.model_validate(data)


@router.post("", responses=problem_responses(409, 422, 503))
def record_consent(body: ConsentCreate, handle: ServiceDep) -> ConsentRecordedPublic:
    """Store a consent signal through the ingest path (idempotent by source and record key).
    An unknown identifier gets a profile. 409 for an erased identifier, unless the signal
    grants consent and `[erasure] allow_with_new_consent` is on."""
    with handle as service:
        data = ConsentService(service).record(
            body.identifier,
            purpose=body.purpose,
            granted=body.granted,
            source=body.source,
            timestamp=body.timestamp,
            record_key=body.record_key,
        )
    return ConsentRecordedPublic.model_validate(data)
