"""Small planted datasets for GNN tests: synthetic taste structure plus topic-bearing text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.graph.export import snapshot_from_dataset
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.graph.snapshot import GraphSnapshot


def _bag_of_words(texts: dict[str, str], dim: int = 32) -> dict[str, list[float]]:
    """A deterministic stand-in for BERT: hashed bag of words, L2-normalised."""
    out = {}
    for node_id, text in texts.items():
        vector = np.zeros(dim, dtype=np.float32)
        for word in text.lower().split():
            vector[sum(map(ord, word)) % dim] += 1.0
        out[node_id] = (vector / max(np.linalg.norm(vector), 1e-6)).tolist()
    return out


@pytest.fixture(scope="session")
def planted() -> GraphSnapshot:
    """300 users, 200 items, 60 entities, 4000 interactions, items with text features."""
    torch.set_num_threads(1)
    dataset = generate(
        SyntheticConfig(
            n_users=300, n_items=200, n_interactions=4000, n_entities=60, n_triples=400, seed=1
        )
    )
    item_text = {str(i["id"]): f"{i.get('title', '')} {i.get('text', '')}" for i in dataset.items}
    return snapshot_from_dataset(dataset, {"Item": _bag_of_words(item_text)})
