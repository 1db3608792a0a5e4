"""Recommendations for visitors the system has not seen, the interaction feed, and models."""

from __future__ import annotations

from fastapi import APIRouter

from tailgraph.api import interactions
from tailgraph.api.anonymous import recommend_visitor
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.api.deps import LimitsDep, ScorerDep, StateDep, StoreDep
from tailgraph.api.routes.common import BODY_ERRORS
from tailgraph.api.schemas import (
    ErrorBody,
    InteractionBatch,
    InteractionsRecorded,
    ModelList,
    ProfileRequest,
    Recommendations,
)

router = APIRouter(tags=["recommendations"], dependencies=AUTHENTICATED)


@router.post(
    "/recommendations",
    summary="Top-k items for an anonymous visitor: liked items and/or free-text interests",
    description=(
        "The visitor's vector is the mean of the learned vectors of the given items and, per "
        "free-text interest, the similarity-weighted mean of the learned vectors of the items "
        "whose BERT text embeddings are nearest to it (see tailgraph.api.anonymous)."
    ),
    responses={
        **BODY_ERRORS,
        404: {
            "model": ErrorBody,
            "description": "A given item, the entity or the model is unknown",
        },
        422: {"model": ErrorBody, "description": "Invalid body (or neither items nor interests)"},
        503: {"model": ErrorBody, "description": "Store unreachable, no model or no encoder"},
    },
)
def anonymous_recommendations(
    body: ProfileRequest, state: StateDep, store: StoreDep, scorer: ScorerDep, limits: LimitsDep
) -> Recommendations:
    return recommend_visitor(
        store, scorer, state.texts, body, limits, state.vectors, state.metrics, state.titles
    )


@router.post(
    "/interactions",
    status_code=201,
    summary="Record interactions (users created when new); next recommendations reflect them",
    responses={
        **BODY_ERRORS,
        404: {"model": ErrorBody, "description": "An item is unknown (nothing was written)"},
        503: {"model": ErrorBody, "description": "Store unreachable"},
    },
)
def record(body: InteractionBatch, state: StateDep, store: StoreDep) -> InteractionsRecorded:
    with state.writing(users={event.user_id for event in body.interactions}):
        return interactions.record_interactions(store, body)


@router.get("/models", summary="Models available for A/B tests (choose with model=/X-Model)")
def models(state: StateDep) -> ModelList:
    return state.models.describe()
