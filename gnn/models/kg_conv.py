"""Relation-gated mean aggregation over knowledge-graph edges (TailGraph's KG layer).

For a node v with KG neighbours N_r(v) under relation r (R(v) = relations present at v):

    h'_v = 1/|R(v)| * sum_{r in R(v)} 1/|N_r(v)| * sum_{u in N_r(v)} g_r ⊙ h_u

with one learnable gate vector g_r per relation (initialised to 1), in the spirit of KGIN's
relation-aware aggregation but linear and cheap. Weights come precomputed
(:class:`gnn.data.KGEdges`); aggregation is one gather and one ``index_add_`` (no scatter lib).
"""

from __future__ import annotations

import torch
from torch import Tensor


class KGConv(torch.nn.Module):
    """Args: ``num_relations``, ``dim``.

    Shapes: x (N, d), src/dst/relation (E,), weight (E,) -> (N, d) (zeros for nodes without
    KG neighbours).
    """

    def __init__(self, num_relations: int, dim: int) -> None:
        super().__init__()
        self.gate = torch.nn.Parameter(torch.empty(max(num_relations, 1), dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.ones_(self.gate)

    def forward(
        self, x: Tensor, src: Tensor, dst: Tensor, relation: Tensor, weight: Tensor
    ) -> Tensor:
        messages = x[src] * self.gate[relation] * weight.unsqueeze(1).to(x.dtype)
        return torch.zeros_like(x).index_add_(0, dst, messages)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.gate.shape[0]}, {self.gate.shape[1]})"
