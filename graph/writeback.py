"""Every write of what training learned back into the graph: node vectors and RECOMMENDED edges.

- ``embedding`` on ``User`` / ``Item`` nodes (a dialect vector, so the vector index can use it);
- ``(:User)-[:RECOMMENDED {score, rank, model, version}]->(:Item)``: a model's top-K lists for
  browsing, replaced as a whole per model.

Both take plain arrays (computed by ``tailgraph.gnn``); nothing here knows about models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tailgraph import cypher
from tailgraph.errors import DataValidationError
from tailgraph.graph.records import NODE_LABELS
from tailgraph.graph.store import GraphStore, batched

_NODE_LABELS = frozenset(NODE_LABELS)


def write_embeddings(
    store: GraphStore,
    label: str,
    ids: Sequence[str],
    vectors: np.ndarray,
    *,
    version: str | None,
    batch_size: int = 500,
) -> int:
    """Set ``embedding`` (a dialect vector) and ``embeddingVersion`` (the model that computed
    it, so a service never gives a vector to another model) on ``label`` nodes; return how
    many were written."""
    if len(ids) != len(vectors):
        raise DataValidationError(
            f"{len(ids)} ids but {len(vectors)} vectors", source="write_embeddings"
        )
    query = cypher.render("write_embeddings", store.dialect, allowed=_NODE_LABELS, label=label)
    written = 0
    rows = (
        {"id": str(node_id), "vector": [float(x) for x in vector]}
        for node_id, vector in zip(ids, np.asarray(vectors, dtype=np.float32), strict=True)
    )
    for batch in batched(rows, batch_size):
        result = store.run(query, {"rows": batch, "version": version})
        written += int(result[0]["written"]) if result else 0
    return written


def write_recommendations(
    store: GraphStore,
    user_ids: Sequence[str],
    item_ids: Sequence[str],
    indices: np.ndarray,
    scores: np.ndarray,
    *,
    model: str,
    version: str,
    batch_size: int = 200,
) -> int:
    """Replace ``model``'s RECOMMENDED lists: row u of ``indices`` / ``scores`` (U, k) is user
    u's ranked items (non-finite scores skipped). Returns the relationships written."""
    if len(indices) != len(user_ids) or np.shape(indices) != np.shape(scores):
        raise DataValidationError(
            f"{len(user_ids)} users but lists of shape {np.shape(indices)} / {np.shape(scores)}",
            source="write_recommendations",
        )
    rows = [
        {
            "user": user_ids[u],
            "items": [
                {"item": item_ids[int(i)], "score": float(s), "rank": rank + 1}
                for rank, (i, s) in enumerate(zip(indices[u], scores[u], strict=True))
                if np.isfinite(s)
            ],
        }
        for u in range(len(user_ids))
    ]
    query = cypher.load("write_recommendations")
    written = 0
    for batch in batched(rows, batch_size):
        result = store.run(query, {"rows": batch, "model": model, "version": version})
        written += int(result[0]["written"]) if result else 0
    return written
