"""LightGCN (He et al., SIGIR 2020) over a normalised user–item adjacency.

E^(0) = [E_user; E_item] (free id embeddings), E^(l+1) = Â E^(l) with
Â = D^-1/2 A D^-1/2 of the bipartite training graph, final E = mean_l E^(l), score = dot.
Propagation is PyG's :class:`~torch_geometric.nn.conv.LGConv` (``normalize=False``) on a CSR
``adj_t``: that routes to ``torch.sparse.mm`` (PyG's ``spmm`` fast path, no scatter).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

with warnings.catch_warnings():  # PyG 2.8 calls the deprecated torch.jit.script at import
    warnings.filterwarnings("ignore", message=".*torch.jit.script", category=DeprecationWarning)
    from torch_geometric.nn.conv import LGConv

from tailgraph.gnn.models.base import NodeType, Recommender


class LightGCN(Recommender):
    """Args: ``adj`` CSR (U+I, U+I) from :func:`gnn.data.bipartite_adjacency`, ``dim``, ``layers``.

    Shapes: forward -> user (U, d), item (I, d).
    """

    name = "lightgcn"

    def __init__(self, n_users: int, n_items: int, adj: Tensor, dim: int = 64, layers: int = 3):
        super().__init__()
        self.n_users, self.n_items = n_users, n_items
        self.embedding = torch.nn.Embedding(n_users + n_items, dim)
        self.convs = torch.nn.ModuleList(LGConv(normalize=False) for _ in range(layers))
        self.register_buffer("adj", adj, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.embedding.weight)

    def forward(self) -> dict[NodeType, Tensor]:
        x = self.embedding.weight
        total = x
        for conv in self.convs:
            x = conv(x, self.adj)
            total = total + x
        out = total / (len(self.convs) + 1)
        return {"user": out[: self.n_users], "item": out[self.n_users :]}

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        emb = self.embedding.weight
        terms = emb[users].pow(2).sum() + emb[pos_items + self.n_users].pow(2).sum()
        return (terms + emb[neg_items + self.n_users].pow(2).sum()) / users.numel()
