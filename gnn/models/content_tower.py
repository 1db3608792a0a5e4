"""Content tower: an item's vector from its BERT text and its knowledge-graph neighbours only.

No item id and no interaction enters it, so an item with no interactions (cold, or added after
training) gets a vector the same way a popular one does. Over the global node set
x = [users; items; entities] of the KG:

    layer 0:  item  x_i = P_item t_i                  (text only)
              entity x_e = e_e + [has_text_e] P_entity t_e
              user  x_u = [has_text_u] P_user t_u     (users take part only through KG edges)
    layer l+1: x' = KGConv_l(x)                       (relation-gated mean, both directions)
    content_i = mean(x_0[i], x_1[i], ..., x_L[i])

Entity ids are the only free vectors: a shared actor or director becomes a learned signal that
every item linked to it inherits. TailGNN mixes ``content_i`` into warm items' vectors; items
without interactions take neighbour transfer instead (:mod:`~gnn.models.neighbour_transfer`),
which ranks them better (docs/models.md).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.models.base import NodeType
from tailgraph.gnn.models.kg_conv import KGConv, KGGraph, prune_kg

NODE_TYPES = ("user", "item", "entity")


class ContentTower(torch.nn.Module):
    """Args: node counts, ``kg`` edges, ``text``/``has_text`` per node type, ``dim``, ``layers``,
    ``min_entity_degree`` (see :func:`~gnn.models.kg_conv.prune_kg`).

    Shapes: forward -> item (I, d), entity (E, d).
    """

    def __init__(
        self,
        num_nodes: dict[NodeType, int],
        kg: KGEdges,
        text: dict[NodeType, Tensor],
        has_text: dict[NodeType, Tensor],
        *,
        dim: int = 64,
        layers: int = 2,
        min_entity_degree: int = 2,
    ) -> None:
        super().__init__()
        self.num_nodes = {t: int(num_nodes[t]) for t in NODE_TYPES}
        self.dim = dim
        self.relations = list(kg.relations)
        self.entity = torch.nn.Embedding(max(self.num_nodes["entity"], 1), dim)
        text_dim = int(text["item"].shape[1])
        self.proj = torch.nn.ModuleDict(
            {
                t: torch.nn.Linear(text_dim, dim, bias=False)
                for t in NODE_TYPES
                if text_dim and bool(has_text[t].any())
            }
        )
        self.kg_convs = torch.nn.ModuleList(KGConv(len(self.relations), dim) for _ in range(layers))
        for t in NODE_TYPES:
            self.register_buffer(f"text_{t}", text[t].float(), persistent=False)
            self.register_buffer(f"has_text_{t}", has_text[t].bool(), persistent=False)
        kg = prune_kg(kg, min_entity_degree)
        graph = KGGraph.build(kg.src, kg.dst, kg.relation, kg.weight, kg.num_nodes)
        for name in ("gather", "scatter", "pair_relation"):
            self.register_buffer(f"kg_{name}", getattr(graph, name), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.entity.weight)
        for linear in self.proj.values():
            torch.nn.init.xavier_uniform_(linear.weight)
        for conv in self.kg_convs:
            conv.reset_parameters()

    def _text(self, node_type: NodeType) -> Tensor:
        """Projected text of every node of ``node_type``; zeros where there is none."""
        if node_type not in self.proj:
            return self.entity.weight.new_zeros(self.num_nodes[node_type], self.dim)
        projected = self.proj[node_type](getattr(self, f"text_{node_type}"))
        return projected * getattr(self, f"has_text_{node_type}").unsqueeze(1)

    @property
    def kg_graph(self) -> KGGraph:
        return KGGraph(self.kg_gather, self.kg_scatter, self.kg_pair_relation)

    def propagate(self) -> list[Tensor]:
        """States of all KG nodes [users; items; entities] at layers 0..L, each (N, d)."""
        entity = self.entity.weight[: self.num_nodes["entity"]] + self._text("entity")
        x = torch.cat([self._text("user"), self._text("item"), entity])
        states, graph = [x], self.kg_graph
        for conv in self.kg_convs:
            x = conv(x, graph)
            states.append(x)
        return states

    def forward(self) -> dict[NodeType, Tensor]:
        mean = torch.stack(self.propagate()).mean(0)
        n_user, n_ui = self.num_nodes["user"], self.num_nodes["user"] + self.num_nodes["item"]
        return {"item": mean[n_user:n_ui], "entity": mean[n_ui:]}
