"""Recommendations for visitors the system has not seen, the interaction feed, and models."""

from __future__ import annotations

from fastapi import APIRouter

from tailgraph.api import interactions, recommender
from tailgraph.api.anonymous import anonymous_profile
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.api.candidates import SELECTABLE, require_entities
from tailgraph.api.deps import LimitsDep, ScorerDep, StateDep, StoreDep
from tailgraph.api.routes_users import BODY_ERRORS
from tailgraph.api.schemas import (
    ErrorBody,
    InteractionBatch,
    InteractionsRecorded,
    ModelInfo,
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
    if body.entity_id is not None:
        require_entities(store, [body.entity_id])
    profile = anonymous_profile(store, scorer, state.texts, body, limits)
    request = recommender.Request(
        body.k, body.tail_weight, tuple(body.sources or SELECTABLE), body.entity_id
    )
    return recommender.rank_profile(
        store, scorer, profile, request, limits, state.vectors, state.metrics, state.titles
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
def record(body: InteractionBatch, store: StoreDep) -> InteractionsRecorded:
    return interactions.record_interactions(store, body)


@router.get("/models", summary="Models available for A/B tests (choose with model=/X-Model)")
def models(state: StateDep) -> ModelList:
    registry = state.models
    out = []
    for name in registry.names:
        scorer = registry.loaded(name)
        out.append(
            ModelInfo(
                name=name,
                default=name == registry.default,
                loaded=scorer is not None,
                model=scorer.model_name if scorer else None,
                version=scorer.version if scorer else None,
            )
        )
    return ModelList(models=out)
