"""Build any registered model by name from HeteroData, a split and a config."""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import INTERACTS, NODE_TYPES, bipartite_adjacency, kg_edges
from tailgraph.gnn.models.base import Recommender
from tailgraph.gnn.models.bpr_mf import BPRMF
from tailgraph.gnn.models.lightgcn import LightGCN
from tailgraph.gnn.models.tailgnn import TailGNN

MODELS = ("tailgnn", "lightgcn", "bpr_mf")


def build_model(data: HeteroData, config: TrainConfig) -> Recommender:
    """A freshly initialised ``config.model`` over the training graph in ``data``."""
    n_users, n_items = int(data["user"].num_nodes), int(data["item"].num_nodes)
    torch.manual_seed(config.seed)
    if config.model == "bpr_mf":
        return BPRMF(n_users, n_items, config.dim)
    adj = bipartite_adjacency(data[INTERACTS].edge_index, n_users, n_items)
    if config.model == "lightgcn":
        return LightGCN(n_users, n_items, adj, config.dim, config.layers)
    if config.model == "tailgnn":
        popularity = torch.bincount(data[INTERACTS].edge_index[1], minlength=n_items)
        return TailGNN(
            {t: int(data[t].num_nodes) for t in NODE_TYPES},
            adj,
            kg_edges(data),
            {t: data[t].x for t in NODE_TYPES},
            {t: data[t].has_text for t in NODE_TYPES},
            popularity > 0,
            dim=config.dim,
            layers=config.layers,
            content_share=config.content_share,
            min_entity_degree=config.min_entity_degree,
        )
    raise ConfigurationError(f"unknown model {config.model!r}; choose from {MODELS}")
