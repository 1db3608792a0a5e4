"""Hyper-parameters of one training run (model, optimisation, evaluation), RecBole-style."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    """One line per field; defaults suit ml-100k-sized data."""

    model: str = "tailgnn"  # "tailgnn", "lightgcn" or "bpr_mf"
    dim: int = 64  # embedding size
    layers: int = 2  # propagation layers (graph models)
    lr: float = 5e-3  # Adam learning rate
    weight_decay: float = 1e-4  # L2 coefficient on the batch's layer-0 embeddings
    epochs: int = 100  # maximum epochs
    batch_size: int = 2048  # BPR (user, positive) pairs per step; each step propagates fully
    negatives: int = 1  # uniformly sampled negatives per positive (never a training positive)
    content_share: float = 0.5  # TailGNN content stage: share of items scored by text+KG per step
    min_entity_degree: int = 2  # TailGNN: drop KG entities linked to fewer nodes (leaves)
    patience: int = 3  # evaluations without a better validation NDCG@20 before stopping
    eval_every: int = 5  # epochs between validation evaluations
    eval_ks: tuple[int, ...] = (10, 20)  # cut-offs reported
    eval_batch_size: int = 1024  # users ranked per evaluation batch
    seed: int = 2020  # seeds torch, numpy sampling and the split
    device: str = "auto"  # "auto" (CUDA when available), "cpu" or "cuda[:n]"
    amp: bool = False  # bfloat16 autocast for dense ops; only ever used on CUDA
    tail_weight: float = 0.0  # inference re-ranking towards the tail (gnn.tail.tail_adjusted)
    subsets: tuple[str, ...] = ("cold", "sparse")  # extra test subsets evaluated at the end
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes saved with the run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for key in ("eval_ks", "subsets"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)
