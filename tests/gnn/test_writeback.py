"""RECOMMENDED write-back: top-K unseen items, replaced per model, other models untouched."""

from __future__ import annotations

import numpy as np

from tailgraph.gnn.writeback import top_k_unseen, write_recommendations

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


def test_write_replaces_only_this_models_lists(store) -> None:
    store.run("UNWIND $ids AS id CREATE (:User {id: id})", {"ids": USERS})
    store.run("UNWIND $ids AS id CREATE (:Item {id: id})", {"ids": ITEMS})
    args = (store, USERS, ITEMS, USER, ITEM, SEEN)
    assert write_recommendations(*args, k=2, model="other", version="o1") == 4
    assert write_recommendations(*args, k=2, model="tailgnn", version="v1") == 4
    assert write_recommendations(*args, k=1, model="tailgnn", version="v2") == 2
    assert _recommended(store) == [
        ("u0", "i1", 1, "other", "o1"),
        ("u0", "i2", 2, "other", "o1"),
        ("u1", "i2", 1, "other", "o1"),
        ("u1", "i1", 2, "other", "o1"),
        ("u0", "i1", 1, "tailgnn", "v2"),
        ("u1", "i2", 1, "tailgnn", "v2"),
    ]
