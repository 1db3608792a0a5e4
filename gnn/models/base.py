"""What every recommendation model here provides, so training and evaluation treat them alike.

Models are transductive over one fixed training graph, held as (non-persistent) buffers so
``model.to(device)`` moves it; ``forward()`` propagates over the whole graph (no sampling)
and returns final embeddings keyed by node type. Score = dot product of user and item vectors.
"""

from __future__ import annotations

import torch
from torch import Tensor

NodeType = str


class Recommender(torch.nn.Module):
    """Base class: ``forward() -> {"user": (U, d), "item": (I, d), ...}`` and a batch L2 term."""

    name: str = "base"

    def forward(self) -> dict[NodeType, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        """Sum of squared layer-0 (ego) embeddings of a batch, divided by the batch size."""
        raise NotImplementedError

    def reset_parameters(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def serving_settings(self) -> dict[str, float]:
        """Tuned values the service needs besides the vectors (saved in the artefacts' meta)."""
        return {}
