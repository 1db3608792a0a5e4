"""Top-K ``(:User)-[:RECOMMENDED {score, rank, model, version}]->(:Item)`` for browsing."""

from __future__ import annotations

import numpy as np
import torch

from tailgraph import cypher
from tailgraph.graph.store import GraphStore, batched


def top_k_unseen(
    user: np.ndarray, item: np.ndarray, seen: np.ndarray, k: int, *, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores (U, k) of each user's best items by ``user · item``, minus ``seen``.

    ``seen`` is an (n, 2) array of [user_idx, item_idx] pairs that must not be recommended.
    """
    k = min(k, item.shape[0])
    users_t, items_t = torch.from_numpy(user), torch.from_numpy(item)
    seen_t = torch.from_numpy(np.asarray(seen, dtype=np.int64).reshape(-1, 2))
    indices, scores = [], []
    for start in range(0, user.shape[0], batch_size):
        stop = min(start + batch_size, user.shape[0])
        block = users_t[start:stop] @ items_t.T
        mine = seen_t[(seen_t[:, 0] >= start) & (seen_t[:, 0] < stop)]
        block[mine[:, 0] - start, mine[:, 1]] = -torch.inf
        top = block.topk(k, dim=1)
        indices.append(top.indices.numpy())
        scores.append(top.values.numpy())
    return np.concatenate(indices), np.concatenate(scores)


def write_recommendations(
    store: GraphStore,
    user_ids: list[str],
    item_ids: list[str],
    user: np.ndarray,
    item: np.ndarray,
    seen: np.ndarray,
    *,
    k: int,
    model: str,
    version: str,
    batch_size: int = 200,
) -> int:
    """Replace ``model``'s RECOMMENDED lists with each user's top ``k`` unseen items."""
    if k <= 0:
        return 0
    indices, scores = top_k_unseen(user, item, seen, k)
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
