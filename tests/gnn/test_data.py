"""HeteroData building and sparse adjacencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.gnn.data import (
    INTERACTS,
    bipartite_adjacency,
    build_hetero_data,
    kg_edge_types,
    kg_edges,
)
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.graph.snapshot import GraphSnapshot


def _data(snapshot: GraphSnapshot, protocol: str = "cold"):
    split = split_snapshot(snapshot, protocol, seed=0)
    return build_hetero_data(snapshot, split), split


def test_node_and_edge_types(planted: GraphSnapshot) -> None:
    data, split = _data(planted)
    assert set(data.node_types) == {"user", "item", "entity"}
    assert data["user"].num_nodes == 300 and data["item"].num_nodes == 200
    assert data["item"].x.shape == (200, 32) and data["user"].x.shape == (300, 32)
    assert data["item"].has_text.all() and not data["user"].has_text.any()
    assert ("item", "rev_interacts", "user") in data.edge_types
    for src, rel, dst in kg_edge_types(data):
        if not rel.startswith("rev_"):
            assert (dst, f"rev_{rel}", src) in data.edge_types
    assert ("item", "GENRE", "entity") in data.edge_types


def test_interaction_edges_are_train_only(planted: GraphSnapshot) -> None:
    data, split = _data(planted)
    edge_index = data[INTERACTS].edge_index
    assert edge_index.shape == (2, len(split.train))
    assert np.array_equal(edge_index.T.numpy(), split.train)
    assert not np.isin(edge_index[1].numpy(), split.cold_items).any()
    rev = data["item", "rev_interacts", "user"].edge_index
    assert torch.equal(rev, edge_index.flip(0))


def test_bipartite_adjacency_is_symmetric_normalised() -> None:
    edge_index = torch.tensor([[0, 0, 1], [0, 1, 1]])  # user 0 - items 0, 1; user 1 - item 1
    adj = bipartite_adjacency(edge_index, 2, 3).to_dense()
    assert adj.shape == (5, 5)
    assert torch.allclose(adj, adj.T)
    # user 0 (degree 2) - item 1 (degree 2): 1 / sqrt(2 * 2)
    assert adj[0, 3].item() == pytest.approx(0.5)
    assert adj[4].abs().sum() == 0  # item 2 has no training interaction


def test_kg_edges_weights_are_means_over_relations(planted: GraphSnapshot) -> None:
    data, _ = _data(planted)
    kg = kg_edges(data)
    total = torch.zeros(kg.num_nodes).index_add_(0, kg.dst, kg.weight)
    has_neighbours = torch.bincount(kg.dst, minlength=kg.num_nodes) > 0
    assert torch.allclose(total[has_neighbours], torch.ones(int(has_neighbours.sum())))
    assert kg.offsets == {"user": 0, "item": 300, "entity": 500}
