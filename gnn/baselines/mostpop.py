"""MostPop: every user gets the items with the most training interactions.

score(u, i) = |{v : (v, i) in train}|, identical for all users. The floor any personalised
model must clear, and the most head-heavy ranking possible (lowest coverage, highest Gini).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tailgraph.gnn.split import InteractionSplit


class MostPop:
    """A score function: ``(B,) user indices -> (B, n_items)`` training popularity."""

    name = "mostpop"

    def __init__(self, popularity: np.ndarray) -> None:
        self.popularity = torch.as_tensor(np.asarray(popularity), dtype=torch.float32)

    @classmethod
    def fit(cls, split: InteractionSplit) -> MostPop:
        """Count training interactions per item (valid and test are never read)."""
        return cls(split.item_popularity())

    def __call__(self, users: Tensor) -> Tensor:
        return self.popularity.unsqueeze(0).repeat(len(users), 1)
