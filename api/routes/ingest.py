"""`POST /v1/ingest`: a batch of Segment-spec events, resolved before the response returns."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServiceDep, SettingsDep  # noqa: TID251, TID252
from ..errors import problem_responses, too_large  # noqa: TID251, TID252
from ..models import IngestCreate, IngestEventPublic, IngestPublic  # noqa: TID251, TID252

router = APIRouter(prefix="/ingest", tags=["ingest"])


@router.post("", responses=problem_responses(413, 422, 503))
def ingest_events(body: IngestCreate, handle: ServiceDep, settings: SettingsDep) -> IngestPublic:
    """Every event is accounted for: accepted + rejected = received. A rejected event names
    its reason and field; an event seen before (same source and messageId) is accepted and
    flagged `duplicate`, and changes nothing."""
    if len(body.events) > settings.max_batch:
        raise too_large("events", len(body.events), settings.max_batch)
    # Parsing needs no store: it runs outside the lock, beside another request's write.
    parsed = handle.unlocked().parse_events(body.events, source=body.source)
    with handle as service:
        outcome = service.ingest_parsed(parsed)
    results = [
        IngestEventPublic(
            index=r.index,
            accepted=r.accepted,
            duplicate=r.duplicate,
            profile_id=r.profile_id,
            reason=r.reason,
            field=r.field,
        )
        for r in outcome
    ]
    accepted = sum(r.accepted for r in results)
    return IngestPublic(
        source=body.source,
        received=len(body.events),
        accepted=accepted,
        rejected=len(results) - accepted,
        duplicates=sum(r.duplicate for r in results),
        results=results,
    )
