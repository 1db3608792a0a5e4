"""Baseline service: score every item in memory (no Cypher), same endpoint and response shape.

    TGS_DIR=/tmp/tgs-ml uvicorn --factory --app-dir bench/serve baseline_app:create_app

Loads ``<dir>/artefacts/current`` (LearnedEmbeddings) and ``<dir>/seen.json`` once; a request
is one matrix-vector product over the catalogue, seen items masked, top-k by argpartition.
The difference to the real service is the cost of graph candidate expansion.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException

from tailgraph.gnn.artefacts import load_embeddings


def create_app() -> FastAPI:
    """Load the model and seen items from ``$TGS_DIR`` and serve the top-k route."""
    directory = Path(os.environ["TGS_DIR"])
    embeddings = load_embeddings(directory / "artefacts" / "current")
    user = np.asarray(embeddings.user, dtype=np.float32)
    item = np.asarray(embeddings.item, dtype=np.float32)
    user_index = {u: r for r, u in enumerate(embeddings.user_ids)}
    item_ids = list(embeddings.item_ids)
    item_index = {i: r for r, i in enumerate(item_ids)}
    seen = {
        u: np.asarray([item_index[i] for i in items if i in item_index], dtype=np.int64)
        for u, items in json.loads((directory / "seen.json").read_text()).items()
    }
    app = FastAPI(title="TailGraph in-memory baseline")

    @app.get("/users/{user_id}/recommendations")
    def recommendations(user_id: str, k: int = 10) -> dict:
        row = user_index.get(user_id)
        if row is None:
            raise HTTPException(404, f"user {user_id!r} not found")
        scores = item @ user[row]
        scores[seen.get(user_id, [])] = -np.inf
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return {
            "user_id": user_id,
            "model": embeddings.model_name,
            "version": embeddings.version,
            "items": [
                {"item_id": item_ids[r], "score": float(scores[r]), "rank": n}
                for n, r in enumerate(top, start=1)
            ],
        }

    return app
