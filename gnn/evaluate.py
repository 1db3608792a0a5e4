"""Full-catalogue top-K ranking (never sampled) of any scoring function, and its evaluation.

Each evaluated user is ranked against every item except their training items (and, when
evaluating ``test``, their validation items). Subsets: ``cold`` keeps only test interactions
whose item is cold (withheld from training), ``sparse`` only users with <= 5 training
interactions; both rank over the full catalogue like the main evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from tailgraph.gnn import metrics as M
from tailgraph.gnn.split import InteractionSplit, sparse_users
from tailgraph.gnn.tail import ScoreFn, head_items


@dataclass
class EvaluationResult:
    """Averages ``{"metric@K": value}``, the same per subset, and per-user values per subset."""

    metrics: dict[str, float]
    subsets: dict[str, dict[str, float]] = field(default_factory=dict)
    per_user: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    n_users: int = 0

    def flat(self) -> dict[str, float]:
        """One dict: main metrics plus ``"<subset>/<metric>@K"``."""
        out = dict(self.metrics)
        for subset, values in self.subsets.items():
            out.update({f"{subset}/{key}": value for key, value in values.items()})
        return out


def _csr(pairs: np.ndarray, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, items) with each user's items contiguous."""
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")] if len(pairs) else pairs.reshape(0, 2)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs[:, 0], minlength=n_users), out=indptr[1:])
    return indptr, pairs[:, 1].astype(np.int64)


def _rows_cols(indptr: np.ndarray, items: np.ndarray, users: np.ndarray):
    """Flattened (row within batch, item) for the items of ``users``."""
    starts, ends = indptr[users], indptr[users + 1]
    sizes = ends - starts
    rows = np.repeat(np.arange(len(users)), sizes)
    offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    cols = items[np.repeat(starts, sizes) + offsets]
    return torch.from_numpy(rows), torch.from_numpy(cols)


@torch.no_grad()
def rank(
    score_fn: ScoreFn,
    truth: np.ndarray,
    exclude: np.ndarray,
    n_users: int,
    popularity: np.ndarray,
    *,
    k: int = 20,
    batch_size: int = 1024,
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, M.RankingContext]:
    """Rank all items for users that have truth pairs; return (users, context for metrics)."""
    n_items = len(popularity)
    head = head_items(popularity)
    t_ptr, t_items = _csr(truth, n_users)
    x_ptr, x_items = _csr(exclude, n_users)
    users = np.flatnonzero(np.diff(t_ptr) > 0)
    topk_parts, hit_parts = [], []
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = score_fn(torch.from_numpy(batch).to(device)).float()
        rows, cols = _rows_cols(x_ptr, x_items, batch)
        scores[rows.to(scores.device), cols.to(scores.device)] = -torch.inf
        top = torch.topk(scores, min(k, n_items), dim=1).indices.cpu()
        truth_mask = torch.zeros(len(batch), n_items, dtype=torch.bool)
        rows, cols = _rows_cols(t_ptr, t_items, batch)
        truth_mask[rows, cols] = True
        topk_parts.append(top.numpy())
        hit_parts.append(torch.gather(truth_mask, 1, top).numpy())
    truth_count = np.diff(t_ptr)[users]
    head_count = (
        np.add.reduceat(head[t_items].astype(np.int64), t_ptr[users])
        if len(users)
        else np.zeros(0, np.int64)
    )
    ctx = M.RankingContext(
        topk=np.concatenate(topk_parts) if topk_parts else np.zeros((0, k), np.int64),
        hits=np.concatenate(hit_parts) if hit_parts else np.zeros((0, k), bool),
        truth_count=truth_count,
        popularity=popularity,
        head_truth_count=head_count,
        head_mask=head,
    )
    return users, ctx


def evaluate(
    score_fn: ScoreFn,
    split: InteractionSplit,
    *,
    part: str = "test",
    ks: tuple[int, ...] = (10, 20),
    metric_names: tuple[str, ...] = M.DEFAULT_METRICS,
    subsets: tuple[str, ...] = (),
    batch_size: int = 1024,
    device: torch.device | str = "cpu",
) -> EvaluationResult:
    """Evaluate ``score_fn`` on ``part`` ("valid"/"test"); ``subsets`` from ("cold", "sparse")."""
    if part not in ("valid", "test"):
        raise ValueError(f"part must be 'valid' or 'test', not {part!r}")
    truth = split.test if part == "test" else split.valid
    exclude = np.concatenate([split.train, split.valid]) if part == "test" else split.train
    popularity = split.item_popularity()

    def run(pairs: np.ndarray) -> tuple[np.ndarray, M.RankingContext]:
        return rank(
            score_fn,
            pairs,
            exclude,
            split.n_users,
            popularity,
            k=max(ks),
            batch_size=batch_size,
            device=device,
        )

    users, ctx = run(truth)
    result = EvaluationResult(M.compute_all(ctx, ks, metric_names), n_users=len(users))
    for subset in subsets:
        if subset == "cold" and not len(split.cold_items):
            continue  # nothing was withheld (protocol is not "cold")
        if subset == "cold":
            pairs = truth[np.isin(truth[:, 1], split.cold_items)]
        elif subset == "sparse":
            pairs = truth[np.isin(truth[:, 0], sparse_users(split))]
        else:
            raise ValueError(f"unknown subset {subset!r}; use 'cold' or 'sparse'")
        sub_users, sub_ctx = run(pairs)
        result.subsets[subset] = M.compute_all(sub_ctx, ks, M.ACCURACY)
        result.per_user[subset] = {"users": sub_users}
        for k in ks:
            for name in ("recall", "ndcg"):
                per_user = M.get(name).per_user
                assert per_user is not None
                result.per_user[subset][f"{name}@{k}"] = per_user(sub_ctx, k)
    return result


def top_k_unseen(
    user: np.ndarray, item: np.ndarray, seen: np.ndarray, k: int, *, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores (U, k) of each user's best items by ``user · item``, minus ``seen``.

    ``seen`` is an (n, 2) array of [user_idx, item_idx] pairs that must not be recommended.
    """
    k = min(k, item.shape[0])
    users_t, items_t = torch.from_numpy(user), torch.from_numpy(item)
    seen_t = torch.from_numpy(np.asarray(seen, dtype=np.int64).reshape(-1, 2))
    indices, scores = [], []
    for start in range(0, user.shape[0], batch_size):
        stop = min(start + batch_size, user.shape[0])
        block = users_t[start:stop] @ items_t.T
        mine = seen_t[(seen_t[:, 0] >= start) & (seen_t[:, 0] < stop)]
        block[mine[:, 0] - start, mine[:, 1]] = -torch.inf
        top = block.topk(k, dim=1)
        indices.append(top.indices.numpy())
        scores.append(top.values.numpy())
    return np.concatenate(indices), np.concatenate(scores)
