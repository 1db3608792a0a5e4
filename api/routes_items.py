"""Item endpoints: nearest items in the learned embedding space."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tailgraph.api import recommender
from tailgraph.api.deps import ScorerDep, StoreDep
from tailgraph.api.schemas import ErrorBody, SimilarItems

router = APIRouter(prefix="/items", tags=["items"])


@router.get(
    "/{item_id:path}/similar",
    summary="Items most similar to an item (cosine of learned vectors)",
    responses={
        404: {"model": ErrorBody, "description": "Unknown item"},
        409: {"model": ErrorBody, "description": "Item added after the model was trained"},
        503: {"model": ErrorBody, "description": "Store unreachable or no trained model"},
    },
)
def similar(
    item_id: str,
    store: StoreDep,
    scorer: ScorerDep,
    k: Annotated[int, Query(ge=1, le=1000, description="Number of items to return")] = 10,
) -> SimilarItems:
    return recommender.similar_items(store, scorer, item_id, k)
