"""TailGNN: TailGraph's model — a collaborative tower for what has interactions, a text + KG
content tower trained into the same space, and neighbour transfer for what has none.

    collaborative:  LightGCN over training interactions        -> user u, item v_i
    content:        ContentTower (BERT text + gated KG mean)    -> item c_i
    score(u, i) = u · h_i,   h_i = (1 - λ) v_i + λ c_i   if i has training interactions
                             h_i = s transfer(v)_i       otherwise (cold, or added after training:
                                                         :meth:`TailGNN.embed_new_item`)

``transfer`` (:mod:`tailgraph.gnn.transfer`) borrows the LightGCN vectors of the warm items
nearest in BERT text and KG links, length restored. The scale s is picked with λ on
validation, because items without interactions are not alike across settings: new items are
as popular as any, while the items of a random split that drew no training interaction are
the rarest of all.

Stage ``collaborative`` trains LightGCN alone. Stage ``content`` freezes it and trains the
content tower against the frozen user vectors: every step a random ``content_share`` of the
items (positives and negatives alike) is scored through c_i instead of v_i (DropoutNet-style),
so c_i learns to rank *in LightGCN's space and at its scale*. Early stopping in that stage
judges the content tower alone (every item by c_i). λ is then picked on validation NDCG@20
from :data:`CONTENT_WEIGHTS` (0 keeps warm items exactly LightGCN's). The mix is convex so warm
items keep LightGCN's scale, which transferred vectors are made to match. Why two stages and
transfer rather than one joint space: ``docs/models.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from tailgraph.gnn import transfer as transfer_rule
from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.models import neighbour_transfer
from tailgraph.gnn.models.base import NodeType, Recommender
from tailgraph.gnn.models.content_tower import ContentTower
from tailgraph.gnn.models.lightgcn import LightGCN

STAGES = ("collaborative", "content")
HYBRID = "hybrid"  # the trained model: both towers, the way it serves
CONTENT_WEIGHTS = (0.0, 0.1, 0.25, 0.5)  # λ candidates, chosen on validation
TRANSFER_SCALES = (0.5, 0.9, 1.0, 1.1)  # s candidates for borrowed vectors, chosen with λ


class TailGNN(Recommender):
    """Args: node counts, ``adj`` (U+I)^2 CSR, ``kg`` edges, ``text``/``has_text`` per node type,
    ``item_has_train`` (I,) bool, ``dim``, ``layers``, ``content_share``, ``min_entity_degree``,
    ``transfer_neighbours`` / ``transfer_temperature`` / ``transfer_kg_weight`` (see
    :class:`~gnn.models.neighbour_transfer.NeighbourTransfer`).

    Shapes: forward -> user (U, d), item (I, d), entity (E, d) (``collaborative`` stage: no entity).
    """

    name = "tailgnn"
    stages = STAGES

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
        content_share: float = 0.5,
        min_entity_degree: int = 2,
        transfer_neighbours: int = transfer_rule.NEIGHBOURS,
        transfer_temperature: float = transfer_rule.TEMPERATURE,
        transfer_kg_weight: float = transfer_rule.KG_WEIGHT,
    ) -> None:
        super().__init__()
        if not 0.0 < content_share <= 1.0:
            raise ValueError(f"content_share must be in (0, 1], got {content_share}")
        self.content_share = content_share
        self.collaborative = LightGCN(num_nodes["user"], num_nodes["item"], adj, dim, layers)
        self.content = ContentTower(
            num_nodes,
            kg,
            text,
            has_text,
            dim=dim,
            layers=layers,
            min_entity_degree=min_entity_degree,
        )
        self.transfer = neighbour_transfer.NeighbourTransfer(
            text["item"],
            has_text["item"],
            kg,
            item_has_train.bool(),
            neighbours=transfer_neighbours,
            temperature=transfer_temperature,
            kg_weight=transfer_kg_weight,
        )
        self.register_buffer("item_has_train", item_has_train.bool(), persistent=False)
        self.register_buffer("content_weight", torch.zeros(()))  # λ, saved with the state
        self.register_buffer("transfer_scale", torch.ones(()))  # s, saved with the state
        self.stage = HYBRID
        self._frozen: dict[NodeType, Tensor] | None = None

    def reset_parameters(self) -> None:
        self.collaborative.reset_parameters()
        self.content.reset_parameters()
        self.content_weight.zero_()
        self.transfer_scale.fill_(1.0)

    def set_stage(self, stage: str) -> None:
        """Switch what trains and what ``forward`` returns: a stage of :data:`STAGES` or
        ``hybrid`` (all parameters trainable; the served model)."""
        if stage not in (*STAGES, HYBRID):
            raise ValueError(f"unknown stage {stage!r}; choose from {(*STAGES, HYBRID)}")
        self.stage = stage
        self.collaborative.requires_grad_(stage != "content")
        self.content.requires_grad_(stage != "collaborative")
        self._frozen = None
        if stage == "content":
            with torch.no_grad():
                self._frozen = self.collaborative()

    def forward(self) -> dict[NodeType, Tensor]:
        if self.stage == "collaborative":
            return self.collaborative()
        content = self.content()
        if self.stage == "content":
            frozen = self._frozen if self._frozen is not None else self.collaborative()
            item = content["item"]  # evaluation judges the content tower alone
            if self.training:
                swap = torch.rand(item.shape[0], 1, device=item.device) < self.content_share
                item = torch.where(swap, item, frozen["item"])
            return {"user": frozen["user"], "item": item, "entity": content["entity"]}
        collaborative = self.collaborative()
        warm = self.item_has_train.unsqueeze(1)
        mixed = torch.lerp(collaborative["item"], content["item"], self.content_weight)
        borrowed = self.transfer_scale * self.transfer(collaborative["item"])
        item = torch.where(warm, mixed, borrowed)
        return {"user": collaborative["user"], "item": item, "entity": content["entity"]}

    @torch.no_grad()
    def embed_new_item(self, text: Tensor, entity_indices: Tensor) -> Tensor:
        """(d,) vector of an item added after training, from its BERT ``text`` (T,) (empty when
        it has none) and the ``entity`` indices it links to; the same path cold items take."""
        borrowed = self.transfer.embed(self.collaborative()["item"], text, entity_indices)
        return self.transfer_scale * borrowed

    def serving_settings(self) -> dict[str, float]:
        """s, which the service applies to items created after training."""
        return {"transfer_scale": float(self.transfer_scale)}

    def reg_loss(self, users: Tensor, pos_items: Tensor, neg_items: Tensor) -> Tensor:
        """LightGCN's ego-embedding L2 (none in the ``content`` stage: that tower's only free
        vectors are entities, shared by many items)."""
        if self.stage == "content":
            return self.content.entity.weight.new_zeros(())
        return self.collaborative.reg_loss(users, pos_items, neg_items)

    @torch.no_grad()
    def tune(self, valid_ndcg: Callable[[], float]) -> dict[str, float]:
        """Switch to ``hybrid`` and keep the (λ, s) of :data:`CONTENT_WEIGHTS` x
        :data:`TRANSFER_SCALES` with the best ``valid_ndcg()`` (the first on ties); returns every
        candidate's score. s stays 1 when every item has interactions."""
        self.set_stage(HYBRID)
        self.transfer_scale.fill_(1.0)
        # with no item to borrow for, s cannot change validation: keep 1 for items added later
        scales = TRANSFER_SCALES if len(self.transfer.target_index) else (1.0,)
        scores, grid = {}, {}
        for weight in CONTENT_WEIGHTS:
            for scale in scales:
                self.content_weight.fill_(weight)
                self.transfer_scale.fill_(scale)
                name = f"content_weight={weight},transfer_scale={scale}"
                scores[name], grid[name] = valid_ndcg(), (weight, scale)
        weight, scale = grid[max(scores, key=scores.__getitem__)]
        self.content_weight.fill_(weight)
        self.transfer_scale.fill_(scale)
        return scores
