"""Write-back into a real store: ``embedding`` on nodes, RECOMMENDED lists replaced per model."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.errors import DataValidationError
from tailgraph.gnn.evaluate import top_k_unseen
from tailgraph.graph.writeback import write_embeddings, write_recommendations

USERS = ["u0", "u1"]
ITEMS = ["i0", "i1", "i2", "i3"]
USER = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
ITEM = np.array([[4.0, 0.0], [3.0, 1.0], [2.0, 2.0], [0.0, 5.0]], dtype=np.float32)
SEEN = np.array([[0, 0], [1, 3]])


def test_top_k_excludes_seen_and_orders_by_score() -> None:
    indices, scores = top_k_unseen(USER, ITEM, SEEN, 2)
    assert indices.tolist() == [[1, 2], [2, 1]]
    assert scores.tolist() == [[3.0, 2.0], [2.0, 1.0]]


def _recommended(store) -> list[tuple]:
    rows = store.run(
        "MATCH (u:User)-[r:RECOMMENDED]->(i:Item) "
        "RETURN u.id AS u, i.id AS i, r.rank AS rank, r.model AS model, r.version AS version "
        "ORDER BY model, u, rank"
    )
    return [(r["u"], r["i"], r["rank"], r["model"], r["version"]) for r in rows]


def _nodes(store) -> None:
    store.run("UNWIND $ids AS id CREATE (:User {id: id})", {"ids": USERS})
    store.run("UNWIND $ids AS id CREATE (:Item {id: id})", {"ids": ITEMS})


def test_write_replaces_only_this_models_lists(store) -> None:
    _nodes(store)

    def write(k: int, model: str, version: str) -> int:
        indices, scores = top_k_unseen(USER, ITEM, SEEN, k)
        return write_recommendations(
            store, USERS, ITEMS, indices, scores, model=model, version=version
        )

    assert write(2, "other", "o1") == 4
    assert write(2, "tailgnn", "v1") == 4
    assert write(1, "tailgnn", "v2") == 2
    assert _recommended(store) == [
        ("u0", "i1", 1, "other", "o1"),
        ("u0", "i2", 2, "other", "o1"),
        ("u1", "i2", 1, "other", "o1"),
        ("u1", "i1", 2, "other", "o1"),
        ("u0", "i1", 1, "tailgnn", "v2"),
        ("u1", "i2", 1, "tailgnn", "v2"),
    ]


def test_recommendation_lists_must_match_the_users(store) -> None:
    _nodes(store)
    indices, scores = top_k_unseen(USER, ITEM, SEEN, 2)
    with pytest.raises(DataValidationError, match="2 users but lists of shape"):
        write_recommendations(store, USERS, ITEMS, indices[:1], scores, model="m", version="v")
    assert _recommended(store) == []


def test_write_embeddings(store) -> None:
    _nodes(store)
    vectors = np.array([[0.5, 1.0], [0.25, -1.0], [0.0, 0.0]], dtype=np.float32)
    written = write_embeddings(
        store, "Item", ["i1", "i2", "i3"], vectors, version="model-2", batch_size=2
    )
    assert written == 3
    rows = store.run("MATCH (i:Item {id: 'i2'}) RETURN i.embedding AS e, i.embeddingVersion AS v")
    np.testing.assert_allclose(rows[0]["e"], [0.25, -1.0])
    assert rows[0]["v"] == "model-2"  # a service gives this vector to model-2 only
    write_embeddings(store, "Item", ["i2"], vectors[:1], version=None)
    rows = store.run("MATCH (i:Item {id: 'i2'}) RETURN i.embedding AS e, i.embeddingVersion AS v")
    np.testing.assert_allclose(rows[0]["e"], [0.5, 1.0])
    assert rows[0]["v"] is None  # an older version's mark does not outlive its vector
    with pytest.raises(DataValidationError, match="2 ids but 3 vectors"):
        write_embeddings(store, "Item", ["i1", "i2"], vectors, version=None)
    with pytest.raises(ValueError, match="not one of the validated"):
        write_embeddings(store, "Movie", ["i1"], vectors[:1], version=None)
