"""User endpoints: recommendations and their explanations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tailgraph.api import recommender
from tailgraph.api.deps import LimitsDep, ScorerDep, StoreDep
from tailgraph.api.schemas import ErrorBody, Explanation, Recommendations

router = APIRouter(prefix="/users", tags=["users"])

_ERRORS: dict[int | str, dict] = {
    404: {"model": ErrorBody, "description": "Unknown user or item"},
    503: {"model": ErrorBody, "description": "Store unreachable or no trained model"},
}


@router.get(
    "/{user_id:path}/recommendations",
    summary="Top-k items for a user: graph candidates scored by the learned model",
    responses=_ERRORS,
)
def recommendations(
    user_id: str,
    store: StoreDep,
    scorer: ScorerDep,
    limits: LimitsDep,
    k: Annotated[int, Query(ge=1, le=1000, description="Number of items to return")] = 10,
    tail_weight: Annotated[
        float,
        Query(
            ge=0.0,
            le=1.0,
            description="Long-tail re-ranking strength: 0 = model order; 1 = the most popular "
            "candidate can drop from first to last (see tailgraph.api.rerank)",
        ),
    ] = 0.0,
    exclude_seen: Annotated[
        bool, Query(description="Leave out items the user already interacted with")
    ] = True,
) -> Recommendations:
    return recommender.recommend(
        store,
        scorer,
        user_id,
        k,
        limits=limits,
        tail_weight=tail_weight,
        exclude_seen=exclude_seen,
    )


@router.get(
    "/{user_id:path}/recommendations/{item_id:path}/explanation",
    summary="Why an item suits a user: shared KG entities, co-interacting users, model score",
    responses=_ERRORS,
)
def explanation(
    user_id: str, item_id: str, store: StoreDep, scorer: ScorerDep, limits: LimitsDep
) -> Explanation:
    return recommender.explain(store, scorer, user_id, item_id, limits=limits)
