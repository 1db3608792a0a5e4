"""Candidate sources beyond the graph: the store's vector index, the tail pool; entity filter."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tailgraph import cypher
from tailgraph.graph.falkordb_store import FalkorDBStore

from .conftest import ITEM_VECTORS


def _write_learned_vectors(graph: FalkorDBStore) -> None:
    graph.run(
        cypher.render("write_embeddings", graph.dialect, label="Item"),
        {"rows": [{"id": i, "vector": v} for i, v in ITEM_VECTORS.items()], "version": "test-1"},
    )


def _sources(body: dict) -> dict[str, list[str]]:
    return {item["item_id"]: item["sources"] for item in body["items"]}


def test_vector_source_waits_for_the_index_then_proposes_nearest_items(
    client: TestClient, graph: FalkorDBStore
) -> None:
    _write_learned_vectors(graph)
    params = {"k": 3, "sources": ["vector"]}
    deadline = time.monotonic() + 20
    while True:
        body = client.get("/users/u1/recommendations", params=params).json()
        if any("vector" in s for s in _sources(body).values()):
            break
        # Until the index is OPERATIONAL the source is skipped: the catalogue fills in.
        assert all(s == ["catalogue"] for s in _sources(body).values())
        assert time.monotonic() < deadline, "the vector index never became operational"
        time.sleep(0.2)
    if graph.dialect.name == "neo4j":
        indexes = graph.run("SHOW INDEXES YIELD type, labelsOrTypes, properties, state")
        assert {"type": "VECTOR", "labelsOrTypes": ["Item"], "properties": ["embedding"]} in [
            {k: row[k] for k in ("type", "labelsOrTypes", "properties")} for row in indexes
        ]
    else:
        indexes = graph.run(
            "CALL db.indexes() YIELD label, types, status RETURN label, types, status"
        )
        assert any(
            row["label"] == "Item" and "VECTOR" in row["types"].get("embedding", [])
            for row in indexes
        )
    # Nearest to u1 = (1, 0, 0, 0) by cosine, seen items i1, i2 excluded: i7, i3, i5.
    assert [item["item_id"] for item in body["items"]] == ["i7", "i3", "i5"]
    assert all(item["sources"] == ["vector"] for item in body["items"])


def test_tail_pool_brings_low_popularity_items(client: TestClient) -> None:
    body = client.get("/users/u1/recommendations", params={"k": 10, "sources": ["tail"]}).json()
    sources = _sources(body)
    # Head = the most popular 20% of trained items (i3, i1); u1 has seen i1 and i2.
    assert {i for i, s in sources.items() if s == ["tail"]} == {"i4", "i5", "i6", "i7"}
    assert sources["i3"] == ["catalogue"]  # a head item only arrives as the fill


def test_every_source_that_proposed_an_item_is_listed(client: TestClient) -> None:
    body = client.get("/users/u1/recommendations", params={"k": 10}).json()
    sources = _sources(body)
    # every unseen item the model knows is within its exact top-N here (N > catalogue)
    assert sources["i5"] == ["model", "collaborative", "knowledge", "tail"]
    assert sources["i6"] == ["model", "knowledge", "tail"]
    assert sources["i3"] == ["model", "collaborative"]
    assert sources["i7"] == ["model", "tail"]
    assert "i1" not in sources and "i2" not in sources
    without = client.get(
        "/users/u1/recommendations",
        params={"k": 10, "sources": ["collaborative", "knowledge", "vector", "tail", "text"]},
    ).json()
    assert _sources(without)["i5"] == ["collaborative", "knowledge", "tail"]


def test_model_source_puts_the_models_own_top_k_in_the_pool(client: TestClient) -> None:
    """With only the model source, the served list is the model's exact top-k of unseen items
    (u1 = e1: i7 .95 > i3 .9 > i5 .7), whatever the graph would expand."""
    params = {"k": 3, "sources": ["model"]}
    body = client.get("/users/u1/recommendations", params=params).json()
    assert [item["item_id"] for item in body["items"]] == ["i7", "i3", "i5"]
    assert all(item["sources"] == ["model"] for item in body["items"])


def test_entity_filter_keeps_only_linked_items(client: TestClient) -> None:
    body = client.get("/users/u1/recommendations", params={"k": 10, "entity_id": "e_genre"}).json()
    # e_genre links i2 (seen) and i5; nothing else may appear, whatever the source.
    assert [item["item_id"] for item in body["items"]] == ["i5"]
    body = client.get(
        "/users/u1/recommendations",
        params={"k": 10, "entity_id": "e_dir", "exclude_seen": False},
    ).json()
    assert {item["item_id"] for item in body["items"]} == {"i1", "i6"}  # i8 is unknown


def test_entity_filter_fills_from_the_entity_only(client: TestClient) -> None:
    body = client.get(
        "/users/u1/recommendations",
        params={"k": 5, "entity_id": "e_dir", "sources": ["collaborative"]},
    ).json()
    assert [(item["item_id"], item["sources"]) for item in body["items"]] == [("i6", ["catalogue"])]


def test_unknown_entity_is_404(client: TestClient) -> None:
    response = client.get("/users/u1/recommendations", params={"entity_id": "nope"})
    assert response.status_code == 404
    assert response.json() == {"detail": "entity 'nope' not found"}


def test_unknown_source_is_422(client: TestClient) -> None:
    response = client.get("/users/u1/recommendations", params={"sources": ["magic"]})
    assert response.status_code == 422
