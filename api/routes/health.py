"""Liveness and readiness probes, and Prometheus metrics (all exempt from API keys)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from tailgraph.api.deps import StateDep
from tailgraph.api.prometheus import CONTENT_TYPE
from tailgraph.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers (touches nothing else)")
def health() -> Health:
    return Health()


@router.get(
    "/ready",
    summary="Readiness: the graph store answers and a trained model is loaded",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Store unreachable or no model"}},
)
def ready(state: StateDep) -> Readiness | JSONResponse:
    body = state.readiness()
    if body.status != "ready":
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests and latency per route, candidates per source",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Text exposition format"}},
)
def metrics(state: StateDep) -> PlainTextResponse:
    return PlainTextResponse(state.metrics.render(), media_type=CONTENT_TYPE)
