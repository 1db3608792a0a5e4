"""Probes, error mapping and the secondary endpoints (similar items, explanations)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.errors import status_for
from tailgraph.errors import (
    ArtefactError,
    ConflictError,
    DataValidationError,
    NotFoundError,
    QueryError,
    StoreUnavailableError,
)
from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["model_version"] == "test-1"


def test_without_a_model_ready_and_recommendations_are_503(
    settings: Settings, graph: FalkorDBStore
) -> None:
    with TestClient(create_app(settings, store=graph)) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["store"] is True
        assert ready.json()["model"] is False
        response = client.get("/users/u1/recommendations")
        assert response.status_code == 503
        assert "no trained model" in response.json()["detail"]


def test_model_saved_after_start_is_picked_up(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    with TestClient(create_app(settings, store=graph)) as client:
        assert client.get("/ready").status_code == 503
        save_embeddings(settings.artefacts_dir / "current", embeddings)
        assert client.get("/ready").status_code == 200
        assert client.get("/users/u1/recommendations").json()["version"] == "test-1"


def test_unreachable_store_is_503_with_retry_after(
    settings: Settings, embeddings: LearnedEmbeddings
) -> None:
    broken = settings.model_copy(update={"store": "neo4j", "neo4j_uri": None})
    with TestClient(create_app(broken, embeddings=embeddings)) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["store"] is False
        response = client.get("/users/u1/recommendations")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "TAILGRAPH_NEO4J_URI" in response.json()["detail"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (DataValidationError("x", field="k"), 422),
        (StoreUnavailableError("x"), 503),
        (ArtefactError("x"), 503),
        (QueryError("x"), 503),
    ],
)
def test_status_mapping(error: Exception, status: int) -> None:
    assert status_for(error) == status


def test_openapi_documents_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/health",
        "/ready",
        "/metrics",
        "/models",
        "/recommendations",
        "/interactions",
        "/items",
        "/users/{user_id}",
        "/users/{user_id}/recommendations",
        "/users/{user_id}/recommendations/{item_id}/explanation",
        "/items/{item_id}/similar",
        "/explore",
        "/explore/static/{file}",
        "/explore/search",
        "/explore/graph",
    }
    operation = paths["/users/{user_id}/recommendations"]["get"]
    assert {"200", "404", "422", "503"} <= set(operation["responses"])
    k = next(p for p in operation["parameters"] if p["name"] == "k")
    assert (k["schema"]["minimum"], k["schema"]["maximum"]) == (1, 1000)


def test_similar_items(client: TestClient) -> None:
    body = client.get("/items/i3/similar", params={"k": 2}).json()
    assert body["item_id"] == "i3"
    ids = [item["item_id"] for item in body["items"]]
    assert ids == ["i7", "i5"]  # nearest directions to (0.9, 0.1, 0, 0)
    assert body["items"][0]["similarity"] > body["items"][1]["similarity"]
    assert body["items"][0]["title"] == "Seven"


def test_similar_items_errors(client: TestClient) -> None:
    assert client.get("/items/nope/similar").status_code == 404
    response = client.get("/items/i8/similar")
    assert response.status_code == 409
    assert "after model 'test-1' was trained" in response.json()["detail"]
    assert client.get("/items/i3/similar", params={"k": 0}).status_code == 422


def test_explanation_lists_kg_paths(client: TestClient) -> None:
    body = client.get("/users/u1/recommendations/i6/explanation").json()
    assert body["seen"] is False
    assert body["score"] == pytest.approx(0.5)
    assert body["kg_paths"] == [
        {
            "item_id": "i6",
            "seed_item_id": "i1",
            "seed_title": "One",
            "seed_relation": "DIRECTED_BY",
            "seed_relation_name": "film.film.directed_by",
            "entity_id": "e_dir",
            "entity_name": "A Director",
            "entity_caption": "A Director",
            "entity_items": 3,  # i1, i6, i8
            "specificity": pytest.approx(1 / np.log(4)),
            "hub": False,
            "seed_contribution": pytest.approx(0.1 * 0.5 + 1.0 * 0.5),  # i1 · i6
            "item_relation": "DIRECTED_BY",
            "item_relation_name": "film.film.directed_by",
        }
    ]
    assert (body["co_users"], body["raters_examined"]) == (0, 0)


def test_explanation_counts_co_users(client: TestClient) -> None:
    body = client.get("/users/u1/recommendations/i3/explanation").json()
    assert body["kg_paths"] == []
    assert (body["co_users"], body["raters_examined"]) == (1, 1)  # u2 shares i1 with u1


def test_explanation_errors(client: TestClient) -> None:
    assert client.get("/users/nobody/recommendations/i3/explanation").status_code == 404
    response = client.get("/users/u1/recommendations/nope/explanation")
    assert response.status_code == 404
    assert response.json() == {"detail": "item 'nope' not found"}
