"""GDS FastRP: Neo4j Graph Data Science's standard recommendation recipe, scored by our code.

FastRP (Chen et al., "Fast and Accurate Network Embeddings via Very Sparse Random Projection",
CIKM 2019) gives every node of the undirected training graph (users, items and, when used, KG
entities) the weighted sum of its normalised propagated random vectors,

    e = Σ_k w_k · normalise((D^{-1} A)^k  D^{s} R),

with R very sparse random (plus, with ``propertyRatio`` > 0, a random projection of the node's
text vector), s the normalisation strength (s < 0 shrinks popular nodes' share). GDS computes
the embeddings on a Neo4j server (:mod:`tailgraph.graph.gds`); here score(u, i) = e_u · e_i
over the whole catalogue (training items are removed by the evaluation, as for every peer).

The server side reaches this module only through an :class:`Embedder` (models never open a
store): the evaluation passes one in. :meth:`GdsFastRP.tuned` loads the training graph once and
picks the :data:`GRID` setting with the best validation NDCG@20 (at most 16, the budget rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from tailgraph.gnn.baselines.tuning import best_on_validation
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot

Edges = tuple[str, np.ndarray, str, np.ndarray]  # (source type, indices, target type, indices)
EMBEDDING_DIMENSION = 256
ITERATION_WEIGHTS = (0.0, 1.0, 1.0)  # GDS's default: 1- and 2-hop neighbourhoods, not the node
NORMALIZATION_GRID = (-1.0, -0.75, -0.5, -0.25)
KG_GRID = (False, True)  # the KG entities as extra nodes (only when the dataset has a KG)
PROPERTY_RATIO_GRID = (0.0, 0.1)  # share of dimensions from the text vectors (when present)


class Embedder(Protocol):
    """What computes FastRP for this peer (``tailgraph.graph.gds.FastRPGraph``)."""

    def load(
        self,
        nodes: Mapping[str, int],
        edges: Sequence[Edges],
        text: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None: ...

    def embed(
        self,
        *,
        embedding_dimension: int,
        iteration_weights: Sequence[float],
        normalization_strength: float,
        property_ratio: float,
        with_kg: bool,
        seed: int,
    ) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class FastRPSettings:
    """One FastRP configuration (GDS's parameter names in snake case)."""

    embedding_dimension: int = EMBEDDING_DIMENSION  # dimensions of every embedding
    iteration_weights: tuple[float, ...] = ITERATION_WEIGHTS  # weight of each propagation step
    normalization_strength: float = -0.5  # degree exponent s; < 0 damps popular nodes
    property_ratio: float = 0.0  # share of dimensions projected from the text vectors
    with_kg: bool = False  # entities and KG edges in the graph

    def label(self) -> str:
        return (
            f"s={self.normalization_strength:g},kg={int(self.with_kg)},text={self.property_ratio:g}"
        )


def training_graph(
    snapshot: GraphSnapshot, split: InteractionSplit
) -> tuple[dict[str, int], list[Edges], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(node counts, edges, text) of the graph FastRP sees: TRAIN interactions, every KG edge
    between items and entities, and the text vectors of the nodes that have one."""
    nodes = {"User": split.n_users, "Item": split.n_items, "Entity": len(snapshot.entity_ids)}
    edges: list[Edges] = [("User", split.train[:, 0], "Item", split.train[:, 1])]
    for (head, _, tail), (src, dst) in sorted(snapshot.kg_edges.items()):
        if {head, tail} <= {"Item", "Entity"} and len(src):
            edges.append((head, src, tail, dst))
    text = {
        label: (snapshot.text[label], snapshot.has_text[label])
        for label in ("User", "Item")
        if snapshot.text_dim and label in snapshot.text and snapshot.has_text[label].any()
    }
    return nodes, edges, text


def grid(has_kg: bool, has_text: bool) -> list[FastRPSettings]:
    """The settings :meth:`GdsFastRP.tuned` tries (16 with a KG and text, fewer without)."""
    return [
        FastRPSettings(normalization_strength=s, with_kg=kg, property_ratio=ratio)
        for kg, ratio, s in itertools.product(
            KG_GRID if has_kg else (False,),
            PROPERTY_RATIO_GRID if has_text else (0.0,),
            NORMALIZATION_GRID,
        )
    ]


class GdsFastRP:
    """A score function ``(B,) users -> (B, I)`` = user embeddings · item embeddings."""

    name = "gds_fastrp"

    def __init__(self, users: np.ndarray, items: np.ndarray, settings: FastRPSettings) -> None:
        self.users = torch.from_numpy(np.ascontiguousarray(users, dtype=np.float32))
        self.items = torch.from_numpy(np.ascontiguousarray(items, dtype=np.float32))
        self.settings = settings

    @classmethod
    def from_embedder(cls, embedder: Embedder, settings: FastRPSettings, seed: int) -> GdsFastRP:
        """FastRP at ``settings`` on the graph ``embedder`` holds."""
        vectors = embedder.embed(**asdict(settings), seed=seed)
        return cls(vectors["User"], vectors["Item"], settings)

    @classmethod
    def tuned(
        cls,
        snapshot: GraphSnapshot,
        split: InteractionSplit,
        embedder: Embedder,
        settings: Sequence[FastRPSettings] | None = None,
    ) -> tuple[GdsFastRP, dict[str, float]]:
        """Load the training graph into ``embedder`` once, then the setting of ``settings``
        (default :func:`grid`) with the best validation NDCG@20, and every label's score."""
        nodes, edges, text = training_graph(snapshot, split)
        embedder.load(nodes, edges, text)
        has_kg = any("Entity" in (edge[0], edge[2]) for edge in edges)
        candidates = settings or grid(has_kg, bool(text))
        return best_on_validation(
            ((s.label(), cls.from_embedder(embedder, s, split.seed)) for s in candidates), split
        )

    def __call__(self, users: Tensor) -> Tensor:
        return self.users[users.cpu()] @ self.items.T
