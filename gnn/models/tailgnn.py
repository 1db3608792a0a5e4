"""TailGNN: TailGraph's model — text + id inputs, LightGCN over interactions, gated KG mean.

Inputs (layer 0), with t_v the BERT text embedding and [has_text_v] its presence mask:

    item:    h_i = P_item t_i + m_i * e_i     m_i = 0 if i has no training interaction
    user:    h_u = e_u + [has_text_u] P_user t_u
    entity:  h_e = e_e + [has_text_e] P_entity t_e

Layer l -> l+1 over the global node set x = [users; items; entities]:

    cf  = Â [x_user; x_item]          (LightGCN, D^-1/2 A D^-1/2 of train interactions)
    kg  = KGConv_l(x)                 (relation-gated mean over KG edges, both directions)
    x'_user = cf_user + kg_user,  x'_item = cf_item + kg_item,  x'_entity = kg_entity

Outputs: users and entities take the mean of layers 0..L. Items have two views:

    full_i    = mean_l x_l[i]                                  (collaborative + content)
    content_i = mean(P_item t_i, kg_1[i], ..., kg_L[i])        (text + KG only, no id, no cf)

A cold item (no training interaction) has full_i = content_i exactly. In training, each step
a random ``content_dropout`` share of items is scored through ``content_i`` instead of
``full_i`` (DropoutNet-style): the text/KG path must then rank on its own *at the scale users
expect*, which is what tail and cold items depend on. ``id_dropout`` additionally zeroes a
share of item ids at layer 0. With ``normalize_items`` item vectors are L2-normalised so a
text-only vector competes with a heavily trained one on direction alone.

Score: score(u, i) = h_u · h_i. :meth:`TailGNN.embed_new_item` gives an unseen item a vector
from its text and KG neighbours against the trained entity states (inductive).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.models.base import NodeType, Recommender
from tailgraph.gnn.models.kg_conv import KGConv, KGGraph, prune_kg

NODE_TYPES = ("user", "item", "entity")


class TailGNN(Recommender):
    """Args: node counts, ``adj`` (U+I)^2 CSR, ``kg`` edges, ``text``/``has_text`` per node type,
    ``item_has_train`` (I,) bool, ``dim``, ``layers``, ``id_dropout``, ``content_dropout``,
    ``normalize_items``, ``min_entity_degree`` (see :func:`~gnn.models.kg_conv.prune_kg`).

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
        content_dropout: float = 0.3,
        normalize_items: bool = True,
        min_entity_degree: int = 2,
    ) -> None:
        super().__init__()
        self.num_nodes = {t: int(num_nodes[t]) for t in NODE_TYPES}
        self.relations = list(kg.relations)
        self.id_dropout = id_dropout
        self.content_dropout = content_dropout
        self.normalize_items = normalize_items
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
        kg = prune_kg(kg, min_entity_degree)
        kept = torch.zeros(kg.num_nodes, dtype=torch.bool)
        kept[kg.src] = True
        kept[kg.dst] = True
        start = kg.offsets.get("entity", kg.num_nodes)
        # entities still linked after pruning: the only ones a new item may draw messages from
        self.register_buffer("entity_kept", kept[start:].clone(), persistent=False)
        graph = KGGraph.build(kg.src, kg.dst, kg.relation, kg.weight, kg.num_nodes)
        for name in ("gather", "scatter", "pair_relation"):
            self.register_buffer(f"kg_{name}", getattr(graph, name), persistent=False)
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

    def _item_text(self) -> Tensor:
        text = self._text("item")
        if text is None:
            return self.ids["item"].weight.new_zeros(self.num_nodes["item"], self.ids_dim)
        return text

    @property
    def ids_dim(self) -> int:
        return int(self.ids["item"].weight.shape[1])

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
            text = self._item_text() if t == "item" else self._text(t)
            out[t] = x if text is None else x + text
        return out

    @property
    def kg_graph(self) -> KGGraph:
        return KGGraph(self.kg_gather, self.kg_scatter, self.kg_pair_relation)

    def _propagate(self) -> tuple[list[Tensor], list[Tensor]]:
        """All-node states at layers 0..L and the KG messages items received at layers 1..L."""
        h0 = self.inputs()
        x = torch.cat([h0[t] for t in NODE_TYPES])
        n_user, n_ui = self.num_nodes["user"], self.num_nodes["user"] + self.num_nodes["item"]
        states, item_kg, graph = [x], [], self.kg_graph
        for conv in self.kg_convs:
            kg = conv(x, graph)
            cf = torch.sparse.mm(self.adj, x[:n_ui])
            x = torch.cat([cf + kg[:n_ui], kg[n_ui:]])
            states.append(x)
            item_kg.append(kg[n_user:n_ui])
        return states, item_kg

    def propagate(self) -> list[Tensor]:
        """States of all nodes [users; items; entities] at layers 0..L, each (N, d)."""
        return self._propagate()[0]

    def forward(self) -> dict[NodeType, Tensor]:
        states, item_kg = self._propagate()
        out = self._by_type(torch.stack(states).mean(0))
        if self.training and self.content_dropout > 0:
            content = torch.stack([self._item_text(), *item_kg]).mean(0)
            swap = torch.rand(content.shape[0], 1, device=content.device) < self.content_dropout
            out["item"] = torch.where(swap, content, out["item"])
        if self.normalize_items:
            out["item"] = torch.nn.functional.normalize(out["item"], dim=1)
        return out

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

        ``entity_indices`` index the ``entity`` node type (entities pruned as leaves are
        ignored); ``relation_indices`` index :attr:`relations` (see :meth:`item_relation`).
        ``states`` (from :meth:`propagate` in eval mode) can be passed to embed many items
        without re-propagating.
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
        entity_indices = entity_indices.to(h.device).long()
        keep = self.entity_kept[entity_indices]  # pruned (leaf) entities carry no signal
        n_ui = self.num_nodes["user"] + self.num_nodes["item"]
        entities = entity_indices[keep] + n_ui
        relations = relation_indices.to(h.device).long()[keep]
        weight = self._mean_weights(relations)
        for conv, x in zip(self.kg_convs, states[:-1], strict=True):
            messages = x[entities] * conv.gate[relations] * weight.unsqueeze(1)
            layers.append(messages.sum(0) if len(entities) else torch.zeros_like(h))
        out = torch.stack(layers).mean(0)
        return torch.nn.functional.normalize(out, dim=0) if self.normalize_items else out

    @staticmethod
    def _mean_weights(relations: Tensor) -> Tensor:
        """1 / (|R| * |N_r|) per neighbour: mean over relations of means over neighbours."""
        if not len(relations):
            return torch.zeros(0, device=relations.device)
        _, inverse, counts = torch.unique(relations, return_inverse=True, return_counts=True)
        return 1.0 / (counts[inverse].float() * len(counts))
