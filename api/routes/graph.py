"""`GET /v1/profiles/{profile_id}/graph?format=json|graphml`: the profile's subgraph."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from identity_graph.graph_io import graph_json, graphml_text
from identity_graph.service import StewardService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import GraphPublic  # noqa: TID251, TID252

router = APIRouter(tags=["graph"])

GRAPHML_MEDIA_TYPE = "application/graphml+xml"


@router.get(
    "/profiles/{profile_id}/graph",
    response_model=GraphPublic,
    responses={
        200: {
            "description": "node-link JSON, or GraphML with `format=graphml`",
            "content": {GRAPHML_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 422, 503),
    },
)
def get_graph(
    profile_id: int,
    handle: ServiceDep,
    fmt: Annotated[Literal["json", "graphml"], Query(alias="format")] = "json",
) -> GraphPublic | Response:
    """Identifiers as nodes (type, value, first/last seen, flags), links as edges (rule of the
    strongest link, every rule, weight, count, sources). A merged-away id gives the graph of
    the profile that absorbed it."""
    with handle as service:
        graph = StewardService(service).profile_graph(profile_id)
    if fmt == "graphml":
        return Response(graphml_text(graph), media_type=GRAPHML_MEDIA_TYPE)
    return GraphPublic.model_validate(graph_json(graph))
