"""XSimGCL (Yu et al., TKDE 2023): LightGCN propagation with uniform noise added at every layer,
and a cross-layer InfoNCE between the final and one intermediate layer of the same pass.

    E^(l+1) = Â E^(l) + Δ^(l+1),  Δ = ε · sign(E^(l+1)) ⊙ normalise(U(0, 1))   (training only)
    final   = mean(E^(1), ..., E^(L))              (layer 0 left out, as in the paper)
    view    = E^(l*)                               (the contrastive layer)
    L       = BPR(final) + λ_cl (InfoNCE_τ(final_u, view_u) + InfoNCE_τ(final_i, view_i))

over the batch's distinct users and positive items, where InfoNCE_τ(a, b) is the mean over
rows of -log softmax_j(cos(a_r, b_j) / τ)_r. One propagation per step serves both the ranking
loss and the contrast (SimGCL needs three). Evaluation and serving use the noiseless ``forward``.
Â is :func:`gnn.data.bipartite_adjacency` (CSR, ``torch.sparse.mm``), as in LightGCN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tailgraph.gnn.models.base import NodeType, Recommender


def info_nce(anchor: Tensor, positive: Tensor, temperature: float) -> Tensor:
    """Mean -log softmax of each row's own pair among all rows of ``positive`` (cosines / τ)."""
    anchor, positive = F.normalize(anchor, dim=1), F.normalize(positive, dim=1)
    logits = anchor @ positive.T / temperature
    return F.cross_entropy(logits, torch.arange(len(anchor), device=anchor.device))


class XSimGCL(Recommender):
    """Args: ``adj`` CSR (U+I, U+I), ``dim``, ``layers`` L, ``eps`` ε, ``cl_layer`` l* in 1..L,
    ``cl_weight`` λ_cl, ``temperature`` τ.

    Shapes: forward -> user (U, d), item (I, d).
    """

    name = "xsimgcl"

    def __init__(
        self,
        n_users: int,
        n_items: int,
        adj: Tensor,
        dim: int = 64,
        layers: int = 2,
        *,
        eps: float = 0.2,
        cl_layer: int = 1,
        cl_weight: float = 0.2,
        temperature: float = 0.15,
    ) -> None:
        super().__init__()
        if not 1 <= cl_layer <= layers:
            raise ValueError(f"cl_layer must be in 1..{layers}, got {cl_layer}")
        if temperature <= 0 or eps < 0 or cl_weight < 0:
            raise ValueError("XSimGCL needs temperature > 0, eps >= 0 and cl_weight >= 0")
        self.n_users, self.n_items, self.layers = n_users, n_items, layers
        self.eps, self.cl_layer = eps, cl_layer
        self.cl_weight, self.temperature = cl_weight, temperature
        self.embedding = torch.nn.Embedding(n_users + n_items, dim)
        self.register_buffer("adj", adj, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.embedding.weight)

    def propagate(self, perturbed: bool) -> tuple[Tensor, Tensor]:
        """(final (N, d), contrastive view (N, d)) over users then items."""
        x = self.embedding.weight
        total, view = torch.zeros_like(x), x
        for layer in range(1, self.layers + 1):
            x = torch.sparse.mm(self.adj, x)
            if perturbed and self.eps:
                noise = F.normalize(torch.rand_like(x), dim=1)
                x = x + self.eps * torch.sign(x) * noise
            total = total + x
            if layer == self.cl_layer:
                view = x
        return total / self.layers, view

    def _split(self, x: Tensor) -> dict[NodeType, Tensor]:
        return {"user": x[: self.n_users], "item": x[self.n_users :]}

    def forward(self) -> dict[NodeType, Tensor]:
        return self._split(self.propagate(perturbed=False)[0])

    def training_views(self) -> tuple[dict[NodeType, Tensor], dict[NodeType, Tensor]]:
        """(final, contrastive view) of one perturbed pass, each keyed by node type."""
        final, view = self.propagate(perturbed=True)
        return self._split(final), self._split(view)

    def contrastive_loss(
        self,
        final: dict[NodeType, Tensor],
        view: dict[NodeType, Tensor],
        users: Tensor,
        items: Tensor,
    ) -> Tensor:
        """λ_cl (InfoNCE over the batch's distinct users + over its distinct items)."""
        u, i = torch.unique(users), torch.unique(items)
        loss = info_nce(final["user"][u], view["user"][u], self.temperature)
        loss = loss + info_nce(final["item"][i], view["item"][i], self.temperature)
        return self.cl_weight * loss

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        emb = self.embedding.weight
        terms = emb[users].pow(2).sum() + emb[pos_items + self.n_users].pow(2).sum()
        return (terms + emb[neg_items + self.n_users].pow(2).sum()) / users.numel()
