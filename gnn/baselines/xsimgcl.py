"""Fitting XSimGCL (:mod:`tailgraph.gnn.models.xsimgcl`): BPR on one perturbed propagation plus
its cross-layer InfoNCE, with the shared training schedule of :class:`TrainConfig`.

Each step samples ``batch_size`` training (user, positive) pairs with uniform negatives (the
sampler of :mod:`tailgraph.gnn.train`), propagates the whole graph once with noise, and
minimises softplus(s_neg - s_pos) + contrastive loss + weight_decay * L2(batch ego embeddings)
with Adam. Every ``eval_every`` epochs the noiseless model is ranked on validation; training
stops after ``patience`` evaluations without a better NDCG@20 and the best state is restored.
Its contrastive settings (:data:`SETTINGS`) are the paper's but for λ_cl, which the paper's 0.2
sets far too high for a dense catalogue (bench/README.md has the validation probe).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import bipartite_adjacency
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.models.xsimgcl import XSimGCL
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn
from tailgraph.gnn.train import NegativeSampler, embeddings, make_score_fn, resolve_device

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


def valid_ndcg(model: XSimGCL, split: InteractionSplit, config: TrainConfig, device) -> float:
    """Validation NDCG@20 of the noiseless model as it stands."""
    user, item = embeddings(model)
    result = evaluate(
        make_score_fn(user, item),
        split,
        part="valid",
        ks=(20,),
        metric_names=("ndcg",),
        batch_size=config.eval_batch_size,
        device=device,
    )
    return result.metrics["ndcg@20"]


def fit_xsimgcl(
    split: InteractionSplit, config: TrainConfig, **settings: Any
) -> tuple[ScoreFn, dict[str, Any]]:
    """(score function of the best-validation state, what training did) on ``split.train``."""
    device = resolve_device(config.device)
    model = build_xsimgcl(split, config, **settings).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    popularity = split.item_popularity()
    sampler = NegativeSampler(split.train, split.n_items, generator, np.flatnonzero(popularity > 0))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    pairs = torch.from_numpy(split.train)
    best_score, best_epoch, best_state, waited = -1.0, 0, None, 0
    history: list[dict[str, float]] = []
    epoch_seconds: list[float] = []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        total, steps = 0.0, 0
        for batch in torch.randperm(len(pairs), generator=generator).split(config.batch_size):
            users, pos = pairs[batch, 0], pairs[batch, 1]
            neg = sampler.sample(users, config.negatives)
            users, pos, neg = users.to(device), pos.to(device), neg.to(device)
            final, view = model.training_views()
            u = final["user"][users]
            s_pos = (u * final["item"][pos]).sum(-1, keepdim=True)
            s_neg = torch.einsum("bd,bkd->bk", u, final["item"][neg])
            loss = torch.nn.functional.softplus(s_neg - s_pos).mean()
            loss = loss + model.contrastive_loss(final, view, users, pos)
            loss = loss + config.weight_decay * model.reg_loss(users, pos, neg.reshape(-1))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            steps += 1
        epoch_seconds.append(time.perf_counter() - started)
        record = {"epoch": epoch, "loss": total / max(steps, 1)}
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            record["valid/ndcg@20"] = valid_ndcg(model, split, config, device)
            if record["valid/ndcg@20"] > best_score:
                best_score, best_epoch, waited = record["valid/ndcg@20"], epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
        history.append(record)
        if waited >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    user, item = embeddings(model)
    extra = {
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        "valid_ndcg@20": best_score,
        "settings": SETTINGS | settings,
        "loss": [record["loss"] for record in history],
    }
    return make_score_fn(user.cpu(), item.cpu()), extra
