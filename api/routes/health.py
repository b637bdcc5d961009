"""`GET /healthz`: the server is up and its service is open. Cheap: no store query."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import SettingsDep, get_service  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import HealthPublic  # noqa: TID251, TID252

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[Depends(get_service)], responses=problem_responses(503))
async def healthz(settings: SettingsDep) -> HealthPublic:
    """`{"status": "ok", "store": <store URL without credentials>}`; 503 before start-up."""
    return HealthPublic(status="ok", store=settings.public_store_url)
