"""BPR training with full-graph propagation per step, early stopping on validation NDCG.

Each step samples a mini-batch of training (user, positive) pairs and ``negatives`` uniform
negatives per pair (resampled until none is a training positive), propagates the WHOLE graph
(no neighbour sampling), and minimises softplus(s_neg - s_pos) + weight_decay * L2(batch ego
embeddings) with Adam. Every ``eval_every`` epochs the validation set is ranked over the full
catalogue; the best NDCG@20 state is restored at the end and evaluated on test.

A model whose training step propagates differently, or adds a term to the loss (XSimGCL's
perturbed pass and its contrastive loss), passes a ``training_pass`` (:data:`TrainingPass`):
the schedule, sampling, early stopping and evaluation stay this module's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.evaluate import EvaluationResult, ScoreFn, evaluate
from tailgraph.gnn.models.base import NodeType, Recommender
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import tail_adjusted

# A loss term added to BPR for one batch: (users, positives, negatives (B, k)) -> scalar.
ExtraLoss = Callable[[Tensor, Tensor, Tensor], Tensor]
# One training step's propagation: model -> (the embeddings BPR ranks with, by node type; the
# extra loss of that same pass, or None). The default is the model's forward and no extra term.
TrainingPass = Callable[[Recommender], tuple[dict[NodeType, Tensor], ExtraLoss | None]]


def forward_pass(model: Recommender) -> tuple[dict[NodeType, Tensor], ExtraLoss | None]:
    """The default :data:`TrainingPass`: ``model()`` and BPR + L2 alone."""
    return model(), None


@dataclass
class TrainResult:
    """What a run produced: history, best epoch, timings, test metrics, final vectors."""

    history: list[dict[str, float]]
    best_epoch: int
    best_valid: dict[str, float]
    seconds_per_epoch: float
    test: EvaluationResult
    user_embeddings: np.ndarray
    item_embeddings: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available else CPU; anything else as given (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(f"device {name!r} requested but CUDA is not available")
    return device


def make_score_fn(
    user_emb: torch.Tensor,
    item_emb: torch.Tensor,
    popularity: torch.Tensor | None = None,
    tail_weight: float = 0.0,
) -> ScoreFn:
    """Dot-product scores, re-ranked by :func:`tail_adjusted` when ``tail_weight`` > 0."""

    def score(users: torch.Tensor) -> torch.Tensor:
        return user_emb[users.to(user_emb.device)] @ item_emb.T

    if tail_weight and popularity is not None:
        return tail_adjusted(score, popularity, tail_weight)
    return score


class NegativeSampler:
    """Uniform items that are not training positives of the user (vectorised rejection).

    ``candidates`` restricts negatives to some items (train() passes the items that have a
    training interaction: an item nobody has rated in training is unknown, not disliked, and
    sampling it only teaches the model to bury cold items).
    """

    def __init__(
        self,
        train: np.ndarray,
        n_items: int,
        generator: torch.Generator,
        candidates: np.ndarray | None = None,
    ) -> None:
        self.n_items = n_items
        self.generator = generator
        pool = np.arange(n_items) if candidates is None or not len(candidates) else candidates
        self.candidates = torch.from_numpy(np.asarray(pool, dtype=np.int64))
        keys = torch.from_numpy(train[:, 0] * n_items + train[:, 1])
        self.keys = torch.sort(keys).values

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        keys = users * self.n_items + items
        pos = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
        return self.keys[pos] == keys

    def sample(self, users: torch.Tensor, k: int = 1) -> torch.Tensor:
        """(B, k) negatives for ``users`` (B,)."""
        users = users.unsqueeze(1).expand(-1, k).reshape(-1)
        n = len(self.candidates)
        items = self.candidates[torch.randint(0, n, users.shape, generator=self.generator)]
        for _ in range(100):
            bad = self.is_positive(users, items)
            if not bad.any():
                break
            redraw = torch.randint(0, n, (int(bad.sum()),), generator=self.generator)
            items[bad] = self.candidates[redraw]
        return items.view(-1, k)


def _valid_key(ks: tuple[int, ...]) -> str:
    return f"ndcg@{20 if 20 in ks else max(ks)}"


@torch.no_grad()
def embeddings(model: Recommender) -> tuple[torch.Tensor, torch.Tensor]:
    """Final user and item vectors in eval mode (float32)."""
    was_training = model.training
    model.eval()
    out = model()
    model.train(was_training)
    return out["user"].detach().float(), out["item"].detach().float()


def _validate(
    model: Recommender,
    split: InteractionSplit,
    config: TrainConfig,
    popularity: torch.Tensor,
    device: torch.device,
) -> dict[str, float]:
    """Validation metrics of ``model`` as it stands (eval mode, full-catalogue ranking)."""
    user_emb, item_emb = embeddings(model)
    score_fn = make_score_fn(user_emb, item_emb, popularity, config.tail_weight)
    return evaluate(
        score_fn,
        split,
        part="valid",
        ks=config.eval_ks,
        batch_size=config.eval_batch_size,
        device=device,
    ).metrics


def train(
    model: Recommender,
    data: HeteroData | None,
    split: InteractionSplit,
    config: TrainConfig,
    *,
    progress: Callable[[str], None] | None = None,
    training_pass: TrainingPass = forward_pass,
) -> TrainResult:
    """Train ``model`` on ``split.train`` (``data`` must be the graph it was built from; None
    for a model built from ``split`` alone).

    A model with ``stages`` (TailGNN) is trained stage after stage, each with its own
    optimiser and early stopping, then ``model.tune`` picks its inference settings on valid.
    Each step propagates with ``training_pass`` (:data:`TrainingPass`).
    """
    if data is not None and int(data["item"].num_nodes) != split.n_items:
        raise ConfigurationError("data and split disagree on the number of items")
    say = progress or (lambda _message: None)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = model.to(device)
    popularity = torch.from_numpy(split.item_popularity())
    sampler = NegativeSampler(
        split.train, split.n_items, generator, np.flatnonzero(split.item_popularity() > 0)
    )
    history: list[dict[str, float]] = []
    epoch_seconds: list[float] = []
    extra: dict[str, Any] = {}
    best_epoch, best_valid = 0, {}
    for stage in getattr(model, "stages", ("",)):
        if stage:
            model.set_stage(stage)
            say(f"stage {stage}")
        best_epoch, best_valid, stage_history = _train_stage(
            model,
            split,
            config,
            sampler,
            generator,
            popularity,
            device,
            epoch_seconds,
            say,
            training_pass,
        )
        for record in stage_history:
            history.append({"stage": stage, **record} if stage else record)
        if stage:
            extra[f"{stage}/best_epoch"] = best_epoch
            extra[f"{stage}/epochs_run"] = len(stage_history)
    tune = getattr(model, "tune", None)
    if tune is not None:
        key, tried = _valid_key(config.eval_ks), []

        def valid_score() -> float:
            tried.append(_validate(model, split, config, popularity, device))
            return tried[-1][key]

        extra["tuned_valid_ndcg@20"] = tune(valid_score)
        best_valid = max(tried, key=lambda metrics: metrics[key])  # what tune kept (first on ties)
    user_emb, item_emb = embeddings(model)
    test = evaluate(
        make_score_fn(user_emb, item_emb, popularity, config.tail_weight),
        split,
        part="test",
        ks=config.eval_ks,
        subsets=config.subsets,
        batch_size=config.eval_batch_size,
        device=device,
    )
    return TrainResult(
        history=history,
        best_epoch=best_epoch,
        best_valid=best_valid,
        seconds_per_epoch=float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        test=test,
        user_embeddings=user_emb.cpu().numpy(),
        item_embeddings=item_emb.cpu().numpy(),
        extra=extra,
    )


def _train_stage(
    model: Recommender,
    split: InteractionSplit,
    config: TrainConfig,
    sampler: NegativeSampler,
    generator: torch.Generator,
    popularity: torch.Tensor,
    device: torch.device,
    epoch_seconds: list[float],
    say: Callable[[str], None],
    training_pass: TrainingPass,
) -> tuple[int, dict[str, float], list[dict[str, float]]]:
    """BPR epochs over the trainable parameters with early stopping; restores the best state.

    Returns (best epoch, its validation metrics, per-epoch records)."""
    use_amp = config.amp and device.type == "cuda"
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    pairs = torch.from_numpy(split.train)
    key = _valid_key(config.eval_ks)
    history: list[dict[str, float]] = []
    best_score, best_epoch, best_valid, best_state = -1.0, 0, {}, None
    waited = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        total, steps = 0.0, 0
        for batch in torch.randperm(len(pairs), generator=generator).split(config.batch_size):
            users, pos = pairs[batch, 0], pairs[batch, 1]
            neg = sampler.sample(users, config.negatives)
            users, pos, neg = users.to(device), pos.to(device), neg.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                out, extra_loss = training_pass(model)
                u = out["user"][users].float()
                s_pos = (u * out["item"][pos].float()).sum(-1, keepdim=True)
                s_neg = torch.einsum("bd,bkd->bk", u, out["item"][neg].float())
                loss = torch.nn.functional.softplus(s_neg - s_pos).mean()
                if extra_loss is not None:
                    loss = loss + extra_loss(users, pos, neg)
                loss = loss + config.weight_decay * model.reg_loss(users, pos, neg.reshape(-1))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            steps += 1
        epoch_seconds.append(time.perf_counter() - started)
        record: dict[str, float] = {"epoch": epoch, "loss": total / max(steps, 1)}
        record["seconds"] = epoch_seconds[-1]
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            valid = _validate(model, split, config, popularity, device)
            record.update({f"valid/{k}": v for k, v in valid.items()})
            if valid[key] > best_score:
                best_score, best_epoch, best_valid, waited = valid[key], epoch, valid, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
            say(f"epoch {epoch} loss {record['loss']:.4f} valid {key} {valid[key]:.4f}")
        history.append(record)
        if waited >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return best_epoch, best_valid, history
