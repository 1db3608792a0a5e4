"""User endpoints: recommendations, their explanations, and erasing a user."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from tailgraph.api import interactions, recommender
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.api.deps import LimitsDep, ScorerDep, StateDep, StoreDep
from tailgraph.api.routes.common import AUTH_ERRORS, ID_PATTERN, ItemId, UserId
from tailgraph.api.schemas import (
    ErrorBody,
    Explanation,
    Recommendations,
    SelectableSource,
)

router = APIRouter(prefix="/users", tags=["users"], dependencies=AUTHENTICATED)

_ERRORS: dict[int | str, dict] = {
    **AUTH_ERRORS,
    404: {"model": ErrorBody, "description": "Unknown user, item, entity or model"},
    503: {"model": ErrorBody, "description": "Store unreachable or no trained model"},
}


@router.get(
    "/{user_id:path}/recommendations",
    summary="Top-k items for a user: candidates from the graph, the vector index and the "
    "tail pool, scored by the learned model",
    responses=_ERRORS,
    response_model=Recommendations,
)
async def recommendations(
    user_id: UserId,
    state: StateDep,
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
            "candidate can drop from first to last (see tailgraph.gnn.tail)",
        ),
    ] = 0.0,
    exclude_seen: Annotated[
        bool, Query(description="Leave out items the user already interacted with")
    ] = True,
    entity_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=512,
            pattern=ID_PATTERN,
            description="Only items linked to this KG entity (any relationship type)",
        ),
    ] = None,
    sources: Annotated[
        list[SelectableSource] | None,
        Query(description="Candidate sources to use (repeat the parameter); default all"),
    ] = None,
) -> Response:
    answer = functools.partial(
        recommender.recommend,
        store,
        scorer,
        user_id,
        k,
        limits=limits,
        tail_weight=tail_weight,
        exclude_seen=exclude_seen,
        entity_id=entity_id,
        sources=sources,
        vectors=state.vectors,
        metrics=state.metrics,
        titles=state.titles,
        reads=state.reads,
    )
    kept = recommender.kept_in_memory(
        scorer,
        user_id,
        limits,
        exclude_seen=exclude_seen,
        sources=sources,
        entity_id=entity_id,
        vectors=state.vectors,
        reads=state.reads,
    )
    if kept is None:
        result = await run_in_threadpool(answer)
        return Response(result.model_dump_json(), media_type="application/json")
    # answered from the kept read, on the event loop; the same request shape again gets the
    # answer kept with that read (see ReadCache.keep_answer)
    key = recommender.kept_read_key(scorer, limits, exclude_seen)
    shape = (k, tail_weight, tuple(sources) if sources is not None else None)
    body = state.reads.kept_answer(user_id, key, kept, shape)
    if body is None:
        changes = state.sync.applied(scorer)  # read before ranking: a change during it shows
        body = answer(kept=kept).model_dump_json().encode()
        if changes is not None:
            state.reads.keep_answer(user_id, key, kept, shape, body, changes)
    if state.reads.claim_refresh(user_id, key):
        state.aside(
            functools.partial(
                recommender.refresh_kept_read,
                store,
                scorer,
                user_id,
                limits,
                exclude_seen,
                state.vectors,
                state.reads,
            )
        )
    return Response(body, media_type="application/json")


@router.get(
    "/{user_id:path}/recommendations/{item_id:path}/explanation",
    summary="Why an item suits a user: shared KG entities, co-interacting users, model score",
    responses=_ERRORS,
)
def explanation(
    user_id: UserId, item_id: ItemId, store: StoreDep, scorer: ScorerDep, limits: LimitsDep
) -> Explanation:
    return recommender.explain(store, scorer, user_id, item_id, limits=limits)


@router.delete(
    "/{user_id:path}",
    summary="Erase a user: their node, interactions and recommendations, and their learned "
    "vector in every loaded model (privacy)",
    description=(
        "The erasure is recorded beside each model, so reloading an older model does not bring "
        "the vector back, and the store's log is compacted so the erased interactions do not "
        "stay on disk. A user re-created with the same id starts cold."
    ),
    status_code=204,
    response_class=Response,
    responses={
        **AUTH_ERRORS,
        404: {"model": ErrorBody, "description": "Unknown user"},
        503: {"model": ErrorBody, "description": "Store unreachable"},
    },
)
def delete_user(user_id: UserId, state: StateDep, store: StoreDep) -> Response:
    with state.writing(users=[user_id]):
        interactions.delete_user(store, user_id)
        erased_at = state.models.erase_user(user_id)
        state.sync.user_erased(user_id, erased_at)  # every worker drops the vector
    interactions.compact_store_log(store)
    return Response(status_code=204)
