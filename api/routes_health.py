"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tailgraph.api.deps import StateDep
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
