"""Every model TailGraph can fit, by name: the torch models trained with BPR and the baselines.

- trained (:data:`TRAINED`): built from HeteroData and a :class:`TrainConfig` by
  :func:`build_model`, then trained by :func:`tailgraph.gnn.train.train`; this includes
  TailGNN's ablations (:data:`ABLATIONS`), TailGNN on a graph whose KG or text was removed
  or shuffled among nodes of the same type (:func:`ablate`);
- baselines (:data:`BASELINES`): score functions fitted on a split by :func:`fit_baseline`,
  tuned on validation where they have hyper-parameters (``fusion`` mixes two other fitted
  models, named in :data:`DEPENDS`; ``xsimgcl`` adds its contrastive term to the shared
  training loop through its training-pass hook;
  ``gds_fastrp`` is computed by Neo4j's Graph Data Science library through the
  :class:`~tailgraph.gnn.baselines.gds_fastrp.Embedder` the caller passes, :data:`NEEDS_GDS`).

:data:`PEERS` are the published models that set the bar (EASE, RP3β, iALS, XSimGCL, and the
Neo4j-native GDS FastRP recipe).
:data:`MODELS` lists them all in the order reports show them; :data:`DEFAULT_MODELS` is what an
evaluation fits unless told otherwise (everything but the ablations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.ease import EASE
from tailgraph.gnn.baselines.fusion import Fusion
from tailgraph.gnn.baselines.gds_fastrp import Embedder, GdsFastRP
from tailgraph.gnn.baselines.ials import IALS
from tailgraph.gnn.baselines.itemknn import ItemKNN
from tailgraph.gnn.baselines.mostpop import MostPop
from tailgraph.gnn.baselines.rp3beta import RP3Beta
from tailgraph.gnn.baselines.text_only import TextOnly
from tailgraph.gnn.baselines.xsimgcl import fit_xsimgcl
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import INTERACTS, NODE_TYPES, KGEdges, bipartite_adjacency, kg_edges
from tailgraph.gnn.models.base import Recommender
from tailgraph.gnn.models.bpr_mf import BPRMF
from tailgraph.gnn.models.lightgcn import LightGCN
from tailgraph.gnn.models.tailgnn import TailGNN
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn
from tailgraph.graph.snapshot import GraphSnapshot

# TailGNN without / with shuffled KG links or text (what each part is worth)
ABLATIONS = ("tailgnn-no-kg", "tailgnn-shuffled-kg", "tailgnn-no-text", "tailgnn-shuffled-text")
TRAINED = ("tailgnn", "lightgcn", "bpr_mf", *ABLATIONS)
PEERS = ("ease", "rp3beta", "ials", "xsimgcl", "gds_fastrp")
BASELINES = ("mostpop", "itemknn", "text_only", "fusion", *PEERS)
DEFAULT_MODELS = (
    "mostpop",
    "itemknn",
    "ease",
    "rp3beta",
    "ials",
    "bpr_mf",
    "lightgcn",
    "xsimgcl",
    "gds_fastrp",
    "text_only",
    "fusion",
    "tailgnn",
)
MODELS = (*DEFAULT_MODELS, *ABLATIONS)
DEPENDS = {"fusion": ("text_only", "lightgcn")}  # fitted models a baseline is made from
NEEDS_TEXT = frozenset({"text_only", "fusion"})  # need item text embeddings (`tailgraph encode`)
NEEDS_GDS = frozenset({"gds_fastrp"})  # need a Neo4j with Graph Data Science (an Embedder)


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
    kg, text, has_text = ablate(
        data,
        kg_edges(data),
        config.model.removeprefix("tailgnn").removeprefix("-") or None,
        config.seed,
    )
    return TailGNN(
        {t: int(data[t].num_nodes) for t in NODE_TYPES},
        adj,
        kg,
        text,
        has_text,
        popularity > 0,
        dim=config.dim,
        layers=config.layers,
        content_share=config.content_share,
        min_entity_degree=config.min_entity_degree,
    )


def ablate(
    data: HeteroData, kg: KGEdges, variant: str | None, seed: int
) -> tuple[KGEdges, dict[str, Tensor], dict[str, Tensor]]:
    """(KG edges, text, has_text per node type) TailGNN is built from, for an ablation.

    ``variant``: None (the full graph), ``no-kg`` (no KG edge at all), ``shuffled-kg`` (each
    item's KG links given to another item by a seeded permutation, so the KG keeps its shape
    but says nothing true about the items), ``no-text`` (no node has text), ``shuffled-text``
    (each node's text vector given to another node of its type by a seeded permutation).
    """
    text = {t: data[t].x for t in NODE_TYPES}
    has_text = {t: data[t].has_text for t in NODE_TYPES}
    if variant is None:
        return kg, text, has_text
    generator = torch.Generator().manual_seed(seed)
    if variant == "no-kg":
        empty = kg.src[:0]
        kg = KGEdges(empty, empty, empty, kg.weight[:0], [], kg.offsets, kg.num_nodes)
    elif variant == "shuffled-kg":
        start, n_items = kg.offsets["item"], int(data["item"].num_nodes)
        relabel = torch.arange(kg.num_nodes)
        relabel[start : start + n_items] = start + torch.randperm(n_items, generator=generator)
        # a consistent relabelling keeps every node's mean weights valid
        kg = KGEdges(
            relabel[kg.src], relabel[kg.dst], kg.relation, kg.weight, kg.relations,
            kg.offsets, kg.num_nodes,
        )  # fmt: skip
    elif variant == "no-text":
        text = {t: torch.zeros_like(x) for t, x in text.items()}
        has_text = {t: torch.zeros_like(h, dtype=torch.bool) for t, h in has_text.items()}
    elif variant == "shuffled-text":
        for t in NODE_TYPES:
            order = torch.randperm(len(text[t]), generator=generator)
            text[t], has_text[t] = text[t][order], has_text[t][order]
    else:
        raise ConfigurationError(f"unknown TailGNN ablation {variant!r}; choose from {ABLATIONS}")
    return kg, text, has_text


def fit_baseline(
    name: str,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    fitted: Callable[[str], ScoreFn] | None = None,
    config: TrainConfig | None = None,
    embedder: Embedder | None = None,
) -> tuple[ScoreFn, dict[str, Any]]:
    """(score function, what tuning chose) of baseline ``name`` fitted on ``split.train``.

    ``fitted(model)`` returns an already fitted model named in :data:`DEPENDS`; ``config``
    holds the training schedule of ``xsimgcl`` (the shared one when None); ``embedder`` is the
    empty GDS graph ``gds_fastrp`` loads the training graph into and embeds with.
    """
    check_model(name, BASELINES)
    if name == "mostpop":
        return MostPop.fit(split), {}
    if name == "itemknn":
        model, table = ItemKNN.tuned(split)
        return model, {"neighbours": model.neighbours, "valid_ndcg@20": table}
    if name == "ease":
        ease, table = EASE.tuned(split)
        return ease, {"lambda": ease.lam, "valid_ndcg@20": table}
    if name == "rp3beta":
        rp3, table = RP3Beta.tuned(split)
        return rp3, {"alpha": rp3.alpha, "beta": rp3.beta, "valid_ndcg@20": table}
    if name == "ials":
        ials, table = IALS.tuned(split)
        return ials, {"reg": ials.reg, "confidence": ials.alpha, "valid_ndcg@20": table}
    if name == "xsimgcl":
        base = config or TrainConfig(seed=split.seed)
        return fit_xsimgcl(split, replace(base, model=name))
    if name == "gds_fastrp":
        if embedder is None:
            raise ConfigurationError("gds_fastrp runs on Neo4j with GDS: pass `embedder`")
        fastrp, table = GdsFastRP.tuned(snapshot, split, embedder)
        return fastrp, asdict(fastrp.settings) | {"valid_ndcg@20": table}
    if name == "text_only":
        return TextOnly.fit(snapshot, split), {}
    if fitted is None:
        raise ConfigurationError(f"{name} is made from {DEPENDS[name]}: pass `fitted`")
    fusion, table = Fusion.tuned(fitted("text_only"), fitted("lightgcn"), split)
    return fusion, {"alpha": fusion.alpha, "valid_ndcg@20": table}
