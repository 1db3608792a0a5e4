"""Fitting XSimGCL (:mod:`tailgraph.gnn.models.xsimgcl`) with the shared training loop of
:func:`tailgraph.gnn.train.train`, its schedule set by :class:`TrainConfig`.

Each step propagates the whole graph once with noise (:class:`ContrastivePass`); BPR ranks with
that pass's final layer and its cross-layer InfoNCE is added to the loss, beside the loop's
weight_decay * L2(batch ego embeddings). Validation, early stopping and restoring the best state
are the loop's; validation and the returned scores use the noiseless model.
Its contrastive settings (:data:`SETTINGS`) are the paper's but for λ_cl, which the paper's 0.2
sets far too high for a dense catalogue (bench/README.md has the validation probe).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import bipartite_adjacency
from tailgraph.gnn.models.base import NodeType
from tailgraph.gnn.models.xsimgcl import XSimGCL
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn
from tailgraph.gnn.train import ExtraLoss, make_score_fn, train

# eps ε, cl_layer l*, temperature τ: Yu et al.'s defaults (SELFRec's config); cl_weight λ_cl
# from {0.2, 0.05, 0.01} on validation NDCG@20 (0.2 and 0.05 collapse to popularity-blind lists)
SETTINGS = {"eps": 0.2, "cl_layer": 1, "cl_weight": 0.01, "temperature": 0.15}


def build_xsimgcl(split: InteractionSplit, config: TrainConfig, **settings: Any) -> XSimGCL:
    """A freshly initialised XSimGCL over ``split.train`` (``settings`` override SETTINGS)."""
    edge_index = torch.from_numpy(split.train.T.copy()).long()
    adj = bipartite_adjacency(edge_index, split.n_users, split.n_items)
    torch.manual_seed(config.seed)
    return XSimGCL(
        split.n_users, split.n_items, adj, config.dim, config.layers, **(SETTINGS | settings)
    )


class ContrastivePass:
    """XSimGCL's :data:`tailgraph.gnn.train.TrainingPass`: one perturbed propagation, whose
    final layer BPR ranks with, and the cross-layer InfoNCE of that pass over the batch's users
    and positives.

    The noise on the CPU is drawn from a stream of its own that continues torch's generator
    from where it stood when the pass was made (right after the model's initialisation), so
    train()'s reseeding of the global generator leaves a seed's noise as it was.
    """

    def __init__(self) -> None:
        self.noise = torch.get_rng_state()

    def __call__(self, model: XSimGCL) -> tuple[dict[NodeType, Tensor], ExtraLoss]:
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.noise)
            final, view = model.training_views()
            self.noise = torch.get_rng_state()

        def contrast(users: Tensor, positives: Tensor, _negatives: Tensor) -> Tensor:
            return model.contrastive_loss(final, view, users, positives)

        return final, contrast


def fit_xsimgcl(
    split: InteractionSplit, config: TrainConfig, **settings: Any
) -> tuple[ScoreFn, dict[str, Any]]:
    """(score function of the best-validation state, what training did) on ``split.train``.

    Scored as a baseline is, at its default: no tail re-ranking and no test subsets while
    training (the harness scores the returned function itself)."""
    config = replace(config, model=XSimGCL.name, tail_weight=0.0, subsets=())
    model = build_xsimgcl(split, config, **settings)
    result = train(model, None, split, config, training_pass=ContrastivePass())
    extra = {
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds_per_epoch": result.seconds_per_epoch,
        "valid_ndcg@20": result.best_valid.get("ndcg@20", -1.0),
        "settings": SETTINGS | settings,
        "loss": [record["loss"] for record in result.history],
    }
    user, item = torch.from_numpy(result.user_embeddings), torch.from_numpy(result.item_embeddings)
    return make_score_fn(user, item), extra
