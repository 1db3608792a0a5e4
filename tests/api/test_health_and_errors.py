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
    # No URI and no launcher built at that path: the local Neo4j cannot be started.
    absent = settings.data_dir / "no-launcher.jar"
    broken = settings.model_copy(
        update={"store": "neo4j", "neo4j_uri": None, "neo4j_launcher": absent}
    )
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
        "/items/{item_id}",
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


# -- hostile input: every bad request is a 4xx in the one error shape -------------------------

JSON = {"content-type": "application/json"}


def _interaction(**fields: str) -> str:
    """An /interactions body with raw JSON values spliced in (non-finite numbers, escapes)."""
    values = {"user_id": '"u1"', "item_id": '"i1"', **fields}
    inner = ", ".join(f'"{key}": {value}' for key, value in values.items())
    return '{"interactions": [{' + inner + "}]}"


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "errors"}
    for error in body.get("errors") or []:
        assert set(error) == {"loc", "msg", "type"}
    assert response.headers.get("x-model-version") == "test-1"
    return body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/interactions", _interaction(rating="1e400")),
        ("/interactions", _interaction(rating="NaN")),
        ("/interactions", _interaction(rating="-Infinity")),
        ("/interactions", _interaction(ts="Infinity")),
        ("/recommendations", '{"item_ids": ["i1"], "tail_weight": NaN}'),
        ("/recommendations", '{"item_ids": ["i1"], "k": 1e400}'),
    ],
)
def test_non_finite_numbers_are_422(client: TestClient, path: str, body: str) -> None:
    response = client.post(path, content=body, headers=JSON)
    errors = _assert_error_shape(response, 422)["errors"]
    assert errors and errors[0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (_interaction(user_id='"\\ud800"'), "surrogate"),
        (_interaction(user_id='"a\\udfffb"'), "surrogate"),
        (_interaction(user_id='"u\\u0000x"'), "control character"),
        (_interaction(item_id='"i\\u0001"'), "control character"),
        (_interaction(user_id='"' + "u" * 600 + '"'), "at most 512"),
    ],
)
def test_ids_the_store_cannot_take_are_422(
    client: TestClient, graph: FalkorDBStore, body: str, what: str
) -> None:
    from tailgraph.graph.ingest import counts

    before = counts(graph)
    response = client.post("/interactions", content=body, headers=JSON)
    assert what in _assert_error_shape(response, 422)["detail"]
    assert "Invalid input" not in response.text  # no store parser message leaks
    assert counts(graph) == before


def test_surrogates_anywhere_in_a_body_are_422(client: TestClient) -> None:
    body = '{"item_ids": ["i1"], "interests": ["x\\ud83d"]}'
    _assert_error_shape(client.post("/recommendations", content=body, headers=JSON), 422)


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/interactions", content='{"interactions": [', headers=JSON)
    body = _assert_error_shape(response, 400)
    assert body["detail"] == "The request body is not valid JSON."


def test_validation_errors_are_one_sentence_and_bounded(client: TestClient) -> None:
    """1,000 invalid rows: at most 20 listed, none echoing its value."""
    rows = [{"user_id": "u1", "item_id": "i1", "rating": "x" * 900} for _ in range(1000)]
    response = client.post("/interactions", json={"interactions": rows})
    body = _assert_error_shape(response, 422)
    assert body["detail"].startswith("Invalid request: body.interactions.0.rating:")
    assert "999 more" in body["detail"]
    assert len(body["errors"]) == 20
    assert len(response.content) < 5_000
    assert "xxxx" not in response.text


def test_an_empty_profile_is_one_sentence(client: TestClient) -> None:
    body = _assert_error_shape(client.post("/recommendations", json={}), 422)
    assert "errors" not in body or body["errors"] is None


def test_bodies_over_the_limit_are_413_before_parsing(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 10_000})
    with TestClient(create_app(small, store=graph, embeddings=embeddings)) as client:
        big = '{"interactions": [' + ",".join(['{"user_id": "u1", "item_id": "i1"}'] * 400) + "]}"
        response = client.post("/interactions", content=big, headers=JSON)
        assert "10,000 bytes" in _assert_error_shape(response, 413)["detail"]

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(50):
                yield b" " * 1000

        response = client.post("/interactions", content=chunks(), headers=JSON)
        _assert_error_shape(response, 413)
        ok = client.post(
            "/interactions", json={"interactions": [{"user_id": "u1", "item_id": "i1"}]}
        )
        assert ok.status_code == 201


def test_the_default_limit_is_one_megabyte(client: TestClient) -> None:
    body = '{"item_ids": ["i1"], "pad": "' + "p" * 1_100_000 + '"}'
    _assert_error_shape(client.post("/recommendations", content=body, headers=JSON), 413)


def test_an_unexpected_error_is_a_plain_500_with_the_model_version(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    app = create_app(settings, store=graph, embeddings=embeddings)

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/ready")  # loads the model
        response = client.get("/boom")
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal server error."}
        assert response.headers.get("x-model-version") == "test-1"
        assert "secret" not in response.text


def test_metrics_labels_stay_bounded(client: TestClient) -> None:
    """Made-up methods and unknown paths fold into `other` and `unmatched`."""
    for n in range(40):
        client.request(f"X{n}METHOD", "/health")
        client.get(f"/no/such/route/{n}")
    text = client.get("/metrics").text
    lines = [line for line in text.splitlines() if line.startswith("tailgraph_http_requests_total")]
    assert not any("X1METHOD" in line or "/no/such" in line for line in lines)
    assert any('method="other"' in line for line in lines)
    assert len(lines) < 10
