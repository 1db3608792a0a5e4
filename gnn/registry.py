"""Every model TailGraph can fit, by name: the torch models trained with BPR and the baselines.

- trained (:data:`TRAINED`): built from HeteroData and a :class:`TrainConfig` by
  :func:`build_model`, then trained by :func:`tailgraph.gnn.train.train`;
- baselines (:data:`BASELINES`): score functions fitted on a split by :func:`fit_baseline`
  (``fusion`` mixes two other fitted models, named in :data:`DEPENDS`).

:data:`MODELS` lists them all in the order reports show them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch_geometric.data import HeteroData

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.fusion import Fusion
from tailgraph.gnn.baselines.itemknn import ItemKNN
from tailgraph.gnn.baselines.mostpop import MostPop
from tailgraph.gnn.baselines.text_only import TextOnly
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import INTERACTS, NODE_TYPES, bipartite_adjacency, kg_edges
from tailgraph.gnn.models.base import Recommender
from tailgraph.gnn.models.bpr_mf import BPRMF
from tailgraph.gnn.models.lightgcn import LightGCN
from tailgraph.gnn.models.tailgnn import TailGNN
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn
from tailgraph.graph.snapshot import GraphSnapshot

TRAINED = ("tailgnn", "lightgcn", "bpr_mf")
BASELINES = ("mostpop", "itemknn", "text_only", "fusion")
MODELS = ("mostpop", "itemknn", "bpr_mf", "lightgcn", "text_only", "fusion", "tailgnn")
DEPENDS = {"fusion": ("text_only", "lightgcn")}  # fitted models a baseline is made from
NEEDS_TEXT = frozenset({"text_only", "fusion"})  # need item text embeddings (`tailgraph encode`)


def check_model(name: str, choices: tuple[str, ...] = MODELS) -> str:
    """``name`` if it is one of ``choices``; ConfigurationError naming them otherwise."""
    if name not in choices:
        raise ConfigurationError(f"unknown model {name!r}; choose from {', '.join(choices)}")
    return name


def build_model(data: HeteroData, config: TrainConfig) -> Recommender:
    """A freshly initialised ``config.model`` over the training graph in ``data``."""
    check_model(config.model, TRAINED)
    n_users, n_items = int(data["user"].num_nodes), int(data["item"].num_nodes)
    torch.manual_seed(config.seed)
    if config.model == "bpr_mf":
        return BPRMF(n_users, n_items, config.dim)
    adj = bipartite_adjacency(data[INTERACTS].edge_index, n_users, n_items)
    if config.model == "lightgcn":
        return LightGCN(n_users, n_items, adj, config.dim, config.layers)
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


def fit_baseline(
    name: str,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    fitted: Callable[[str], ScoreFn] | None = None,
) -> tuple[ScoreFn, dict[str, Any]]:
    """(score function, what tuning chose) of baseline ``name`` fitted on ``split.train``.

    ``fitted(model)`` returns an already fitted model named in :data:`DEPENDS`.
    """
    check_model(name, BASELINES)
    if name == "mostpop":
        return MostPop.fit(split), {}
    if name == "itemknn":
        model, table = ItemKNN.tuned(split)
        return model, {"neighbours": model.neighbours, "valid_ndcg@20": table}
    if name == "text_only":
        return TextOnly.fit(snapshot, split), {}
    if fitted is None:
        raise ConfigurationError(f"{name} is made from {DEPENDS[name]}: pass `fitted`")
    fusion, table = Fusion.tuned(fitted("text_only"), fitted("lightgcn"), split)
    return fusion, {"alpha": fusion.alpha, "valid_ndcg@20": table}
