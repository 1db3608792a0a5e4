"""BPR-MF: matrix factorisation trained with Bayesian Personalised Ranking (Rendle et al. 2009).

score(u, i) = e_u · e_i with free id embeddings; no graph. The classic baseline every graph
recommender must beat, and a sanity check for the training loop.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tailgraph.gnn.models.base import NodeType, Recommender


class BPRMF(Recommender):
    """Args: ``n_users``, ``n_items``, ``dim``. Shapes: forward -> user (U, d), item (I, d)."""

    name = "bpr_mf"

    def __init__(self, n_users: int, n_items: int, dim: int = 64) -> None:
        super().__init__()
        self.user = torch.nn.Embedding(n_users, dim)
        self.item = torch.nn.Embedding(n_items, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.user.weight)
        torch.nn.init.xavier_uniform_(self.item.weight)

    def forward(self) -> dict[NodeType, Tensor]:
        return {"user": self.user.weight, "item": self.item.weight}

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        terms = self.user(users).pow(2).sum() + self.item(pos_items).pow(2).sum()
        return (terms + self.item(neg_items).pow(2).sum()) / users.numel()
