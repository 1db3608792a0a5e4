"""Item endpoints: nearest items in the learned embedding space; adding, replacing and deleting
an item."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from tailgraph.api import new_items, recommender
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.api.deps import LimitsDep, ScorerDep, StateDep, StoreDep
from tailgraph.api.routes.common import AUTH_ERRORS, BODY_ERRORS, ItemId
from tailgraph.api.schemas import ErrorBody, ItemCreated, NewItem, SimilarItems
from tailgraph.errors import DataValidationError

router = APIRouter(prefix="/items", tags=["items"], dependencies=AUTHENTICATED)


@router.get(
    "/{item_id:path}/similar",
    summary="Items most similar to an item (cosine of learned vectors)",
    responses={
        **AUTH_ERRORS,
        404: {"model": ErrorBody, "description": "Unknown item or model"},
        409: {"model": ErrorBody, "description": "Item added after the model was trained"},
        503: {"model": ErrorBody, "description": "Store unreachable or no trained model"},
    },
)
def similar(
    item_id: ItemId,
    store: StoreDep,
    scorer: ScorerDep,
    k: Annotated[int, Query(ge=1, le=1000, description="Number of items to return")] = 10,
) -> SimilarItems:
    return recommender.similar_items(store, scorer, item_id, k)


@router.post(
    "",
    status_code=201,
    summary="Add an item with KG links; it gets an inductive vector and is recommendable at once",
    description=(
        "Idempotent: the same body posted again (a retry) answers 200 with the same item, and "
        "finishes a write an earlier call left incomplete; a different body for an existing id "
        "is 409. On any failure nothing of the item is left behind."
    ),
    responses={
        **BODY_ERRORS,
        200: {"model": ItemCreated, "description": "The same item was already added (a retry)"},
        404: {"model": ErrorBody, "description": "A linked entity (or the model) is unknown"},
        409: {"model": ErrorBody, "description": "An item with this id and other content exists"},
        422: {"model": ErrorBody, "description": "Invalid body or unknown relationship type"},
        503: {"model": ErrorBody, "description": "Store unreachable, no model or no encoder"},
    },
)
def create_item(
    body: NewItem,
    response: Response,
    state: StateDep,
    store: StoreDep,
    scorer: ScorerDep,
    limits: LimitsDep,
) -> ItemCreated:
    with state.writing(catalogue=True):
        write = new_items.add_item(
            store, scorer, state.models.all_loaded(), state.texts, body, limits
        )
        if write.vectors is not None:  # the other workers' models learn it too
            state.sync.item_written(body.item_id, write.vectors)
    state.titles.forget([body.item_id])  # the in-memory title map reads it on next use
    if not write.created:
        response.status_code = 200
    return write.answer


@router.put(
    "/{item_id:path}",
    status_code=201,
    summary="Create or replace an item added through the API (same body as POST /items)",
    description=(
        "Creates the item as POST /items does (201), or replaces the title, text, year, "
        "genres and KG links of an item added through the API with the body's, with new "
        "inductive vectors (200). The same body again (a retry) changes nothing (200). "
        "Everything is computed before anything is written; a replace that fails part-way "
        "puts the previous version back before answering, and the same body retried "
        "finishes it. An item loaded by ingest is not replaced (409)."
    ),
    responses={
        **BODY_ERRORS,
        200: {"model": ItemCreated, "description": "Replaced, or the same body again"},
        404: {"model": ErrorBody, "description": "A linked entity (or the model) is unknown"},
        409: {"model": ErrorBody, "description": "The item was loaded by ingest"},
        422: {
            "model": ErrorBody,
            "description": "Invalid body, path and body ids differ, or unknown relationship type",
        },
        503: {"model": ErrorBody, "description": "Store unreachable, no model or no encoder"},
    },
)
def put_item(
    item_id: ItemId,
    body: NewItem,
    response: Response,
    state: StateDep,
    store: StoreDep,
    scorer: ScorerDep,
    limits: LimitsDep,
) -> ItemCreated:
    if body.item_id != item_id:
        raise DataValidationError(
            f"item_id {body.item_id!r} in the body differs from {item_id!r} in the path",
            field="item_id",
        )
    with state.writing(catalogue=True):
        write = new_items.put_item(
            store, scorer, state.models.all_loaded(), state.texts, body, limits
        )
        if write.vectors is not None:
            state.sync.item_written(item_id, write.vectors)
    state.titles.forget([item_id])  # a replaced title is read again on next use
    if not write.created:
        response.status_code = 200
    return write.answer


@router.delete(
    "/{item_id:path}",
    status_code=204,
    response_class=Response,
    summary="Delete an item with its interactions and KG links, from the store and every "
    "loaded model of every worker",
    responses={
        **AUTH_ERRORS,
        404: {"model": ErrorBody, "description": "Unknown item"},
        503: {"model": ErrorBody, "description": "Store unreachable"},
    },
)
def delete_item(item_id: ItemId, state: StateDep, store: StoreDep) -> Response:
    with state.writing(catalogue=True):
        new_items.delete_item(store, state.models.all_loaded(), state.texts, item_id)
        state.sync.item_deleted(item_id)
    state.titles.forget([item_id])
    return Response(status_code=204)
