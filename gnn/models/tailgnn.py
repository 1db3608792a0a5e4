"""TailGNN: TailGraph's model — text + id inputs, LightGCN over interactions, gated KG mean.

Inputs (layer 0), with t_v the BERT text embedding and [has_text_v] its presence mask:

    item:    h_i = P_item t_i + m_i * e_i     m_i = 0 if i has no training interaction
    user:    h_u = e_u + [has_text_u] P_user t_u
    entity:  h_e = e_e + [has_text_e] P_entity t_e

so a cold item is represented by its text and (below) its KG neighbours only. During training
a random ``id_dropout`` share of item ids is also zeroed each step, so the text/KG path learns
to rank on its own — which is what tail and cold items depend on.

Layer l -> l+1 over the global node set x = [users; items; entities]:

    cf  = Â [x_user; x_item]          (LightGCN, D^-1/2 A D^-1/2 of train interactions)
    kg  = KGConv_l(x)                 (relation-gated mean over KG edges, both directions)
    x'_user = cf_user + kg_user,  x'_item = cf_item + kg_item,  x'_entity = kg_entity

Output: mean of layers 0..L per node type; score(u, i) = h_u · h_i.
:meth:`TailGNN.embed_new_item` gives an unseen item a vector from its text and KG neighbours
by running the item side of the same layers against the trained entity states (inductive).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.models.base import NodeType, Recommender
from tailgraph.gnn.models.kg_conv import KGConv

NODE_TYPES = ("user", "item", "entity")


class TailGNN(Recommender):
    """Args: node counts, ``adj`` (U+I)^2 CSR, ``kg`` edges, ``text``/``has_text`` per node type,
    ``item_has_train`` (I,) bool, ``dim``, ``layers``, ``id_dropout``.

    Shapes: forward -> user (U, d), item (I, d), entity (E, d).
    """

    name = "tailgnn"

    def __init__(
        self,
        num_nodes: dict[NodeType, int],
        adj: Tensor,
        kg: KGEdges,
        text: dict[NodeType, Tensor],
        has_text: dict[NodeType, Tensor],
        item_has_train: Tensor,
        *,
        dim: int = 64,
        layers: int = 2,
        id_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_nodes = {t: int(num_nodes[t]) for t in NODE_TYPES}
        self.relations = list(kg.relations)
        self.id_dropout = id_dropout
        self.ids = torch.nn.ModuleDict(
            {t: torch.nn.Embedding(max(self.num_nodes[t], 1), dim) for t in NODE_TYPES}
        )
        self.text_dim = int(text["item"].shape[1])
        self.proj = torch.nn.ModuleDict(
            {
                t: torch.nn.Linear(self.text_dim, dim, bias=False)
                for t in NODE_TYPES
                if self.text_dim and bool(has_text[t].any())
            }
        )
        self.kg_convs = torch.nn.ModuleList(KGConv(len(self.relations), dim) for _ in range(layers))
        self.register_buffer("adj", adj, persistent=False)
        for t in NODE_TYPES:
            self.register_buffer(f"text_{t}", text[t].float(), persistent=False)
            self.register_buffer(f"has_text_{t}", has_text[t].bool(), persistent=False)
        self.register_buffer("item_has_train", item_has_train.bool(), persistent=False)
        for name in ("src", "dst", "relation", "weight"):
            self.register_buffer(f"kg_{name}", getattr(kg, name), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for embedding in self.ids.values():
            torch.nn.init.xavier_uniform_(embedding.weight)
        for linear in self.proj.values():
            torch.nn.init.xavier_uniform_(linear.weight)
        for conv in self.kg_convs:
            conv.reset_parameters()

    def _text(self, node_type: NodeType) -> Tensor | None:
        if node_type not in self.proj:
            return None
        projected = self.proj[node_type](getattr(self, f"text_{node_type}"))
        return projected * getattr(self, f"has_text_{node_type}").unsqueeze(1)

    def inputs(self) -> dict[NodeType, Tensor]:
        """Layer-0 representation of every node type."""
        out = {}
        for t in NODE_TYPES:
            x = self.ids[t].weight[: self.num_nodes[t]]
            if t == "item":
                keep = self.item_has_train.to(x.dtype)
                if self.training and self.id_dropout > 0:
                    keep = keep * (torch.rand_like(keep) >= self.id_dropout).to(x.dtype)
                x = x * keep.unsqueeze(1)
            text = self._text(t)
            out[t] = x if text is None else x + text
        return out

    def propagate(self) -> list[Tensor]:
        """States of all nodes [users; items; entities] at layers 0..L, each (N, d)."""
        h0 = self.inputs()
        x = torch.cat([h0[t] for t in NODE_TYPES])
        n_ui = self.num_nodes["user"] + self.num_nodes["item"]
        states = [x]
        for conv in self.kg_convs:
            kg = conv(x, self.kg_src, self.kg_dst, self.kg_relation, self.kg_weight)
            cf = torch.sparse.mm(self.adj, x[:n_ui])
            x = torch.cat([cf + kg[:n_ui], kg[n_ui:]])
            states.append(x)
        return states

    def forward(self) -> dict[NodeType, Tensor]:
        final = torch.stack(self.propagate()).mean(0)
        return self._by_type(final)

    def _by_type(self, x: Tensor) -> dict[NodeType, Tensor]:
        out, start = {}, 0
        for t in NODE_TYPES:
            out[t] = x[start : start + self.num_nodes[t]]
            start += self.num_nodes[t]
        return out

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        user, item = self.ids["user"].weight, self.ids["item"].weight
        terms = user[users].pow(2).sum() + item[pos_items].pow(2).sum()
        return (terms + item[neg_items].pow(2).sum()) / users.numel()

    def item_relation(self, name: str) -> int:
        """Index of the relation carrying messages from entities to items for KG type ``name``."""
        for candidate in (("entity", f"rev_{name}", "item"), ("entity", name, "item")):
            if candidate in self.relations:
                return self.relations.index(candidate)
        raise KeyError(f"no KG relation {name!r} between items and entities")

    @torch.no_grad()
    def embed_new_item(
        self,
        text_embedding: Tensor,
        entity_indices: Tensor,
        relation_indices: Tensor,
        states: list[Tensor] | None = None,
    ) -> Tensor:
        """Vector (d,) of an item absent from training, from its text and KG neighbours.

        ``entity_indices`` index the ``entity`` node type; ``relation_indices`` index
        :attr:`relations` (see :meth:`item_relation`). ``states`` (from :meth:`propagate` in
        eval mode) can be passed to embed many items without re-propagating.
        """
        if states is None:
            was_training = self.training
            self.eval()
            states = self.propagate()
            self.train(was_training)
        h = torch.zeros(states[0].shape[1], device=states[0].device)
        if "item" in self.proj and text_embedding.numel():
            h = self.proj["item"](text_embedding.to(h.device).float())
        layers = [h]
        entities = entity_indices.to(h.device).long() + self.num_nodes["user"] + self.num_nodes[
            "item"
        ]
        relations = relation_indices.to(h.device).long()
        weight = self._mean_weights(relations)
        for conv, x in zip(self.kg_convs, states[:-1], strict=True):
            messages = x[entities] * conv.gate[relations] * weight.unsqueeze(1)
            layers.append(messages.sum(0) if len(entities) else torch.zeros_like(h))
        return torch.stack(layers).mean(0)

    @staticmethod
    def _mean_weights(relations: Tensor) -> Tensor:
        """1 / (|R| * |N_r|) per neighbour: mean over relations of means over neighbours."""
        if not len(relations):
            return torch.zeros(0, device=relations.device)
        _, inverse, counts = torch.unique(relations, return_inverse=True, return_counts=True)
        return 1.0 / (counts[inverse].float() * len(counts))
