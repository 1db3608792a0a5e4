"""Liveness and readiness probes, and Prometheus metrics (all exempt from API keys)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from tailgraph.api.deps import StateDep
from tailgraph.api.metrics import CONTENT_TYPE
from tailgraph.api.schemas import Health, Readiness
from tailgraph.errors import ArtefactError, StoreUnavailableError

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
    problems: list[str] = []
    store_ok = False
    try:
        store_ok = state.store().ping()
        if not store_ok:
            problems.append("the graph store does not answer")
    except StoreUnavailableError as e:
        problems.append(str(e))
    version = None
    try:
        version = state.scorer().version
    except ArtefactError as e:
        problems.append(str(e))
    body = Readiness(
        status="ready" if not problems else "not_ready",
        store=store_ok,
        model=version is not None,
        model_version=version,
        detail="; ".join(problems) or None,
    )
    if problems:
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
