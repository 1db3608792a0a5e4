"""Top-K ranking metrics, declared in one registry (RecBole-compatible definitions).

Every metric reads a :class:`RankingContext` built once per evaluation: each evaluated user's
top-K item list, which of those are hits, how many truth items the user has (also split into
head and tail), and the items' training popularity. *Head* and *tail* are
:mod:`tailgraph.gnn.tail`'s (the top 20% of the catalogue by training popularity, the rest).

``needs`` says what a metric reads: ``topk+truth`` (accuracy), ``topk+popularity``
(popularity/long-tail), ``topk+catalogue`` (aggregate exposure over all items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tailgraph.gnn.tail import head_items


@dataclass
class RankingContext:
    """What metrics need, for U evaluated users and the largest K."""

    topk: np.ndarray  # (U, K) int64 item indices, best first
    hits: np.ndarray  # (U, K) bool, topk[u, r] is a truth item of u
    truth_count: np.ndarray  # (U,) int64 |truth(u)|, > 0
    popularity: np.ndarray  # (n_items,) training interactions per item
    head_truth_count: np.ndarray | None = None  # (U,) truth items of u in the head
    head_mask: np.ndarray | None = None  # (n_items,) bool

    def __post_init__(self) -> None:
        if self.head_mask is None:
            self.head_mask = head_items(self.popularity)

    @property
    def n_items(self) -> int:
        return int(self.popularity.shape[0])


@dataclass(frozen=True)
class Metric:
    """One metric: ``compute(ctx, k)`` returns a float (per-user metrics are averaged)."""

    name: str
    needs: str
    smaller_is_better: bool
    compute: Callable[[RankingContext, int], float]
    per_user: Callable[[RankingContext, int], np.ndarray] | None = None


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def _recall_users(ctx: RankingContext, k: int) -> np.ndarray:
    """hits in the top K / |truth|."""
    return ctx.hits[:, :k].sum(1) / ctx.truth_count


def _ndcg_users(ctx: RankingContext, k: int) -> np.ndarray:
    """DCG = sum_r hit_r / log2(r + 1); IDCG = sum_{r <= min(|truth|, K)} 1 / log2(r + 1)."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (ctx.hits[:, :k] * discount).sum(1)
    ideal = np.cumsum(discount)[np.minimum(ctx.truth_count, k) - 1]
    return dcg / ideal


def _hit_users(ctx: RankingContext, k: int) -> np.ndarray:
    """1 if any of the top K is a truth item."""
    return ctx.hits[:, :k].any(1).astype(np.float64)


def _precision_users(ctx: RankingContext, k: int) -> np.ndarray:
    """hits in the top K / K."""
    return ctx.hits[:, :k].sum(1) / k


def _mrr_users(ctx: RankingContext, k: int) -> np.ndarray:
    """1 / rank of the first hit within the top K (0 when none)."""
    hits = ctx.hits[:, :k]
    first = hits.argmax(1)
    return np.where(hits.any(1), 1.0 / (first + 1), 0.0)


def _coverage(ctx: RankingContext, k: int) -> float:
    """Distinct items in all users' top K / catalogue size."""
    return len(np.unique(ctx.topk[:, :k])) / ctx.n_items


def _gini(ctx: RankingContext, k: int) -> float:
    """Gini index of recommendation exposure over ALL items (never-shown items count 0).

    With counts c sorted ascending and i = 1..n: sum((2i - n - 1) c_i) / (n sum c).
    0 = every item shown equally often, close to 1 = a few items get all exposure.
    """
    counts = np.sort(np.bincount(ctx.topk[:, :k].ravel(), minlength=ctx.n_items))
    n = ctx.n_items
    total = counts.sum()
    if total == 0:
        return 0.0
    idx = np.arange(1, n + 1)
    return float(((2 * idx - n - 1) * counts).sum() / (n * total))


def _avg_pop_users(ctx: RankingContext, k: int) -> np.ndarray:
    """Mean training popularity (interaction count) of the top K items."""
    return ctx.popularity[ctx.topk[:, :k]].mean(1)


def _tail_pct_users(ctx: RankingContext, k: int) -> np.ndarray:
    """Share of the top K that are tail items (outside the top-20% head)."""
    assert ctx.head_mask is not None
    return (~ctx.head_mask[ctx.topk[:, :k]]).mean(1)


def _novelty_users(ctx: RankingContext, k: int) -> np.ndarray:
    """Mean self-information -log2 p_i of the top K, p_i = (c_i + 1) / (sum c + n_items)."""
    pop = ctx.popularity.astype(np.float64)
    share = (pop + 1.0) / (pop.sum() + ctx.n_items)
    return (-np.log2(share))[ctx.topk[:, :k]].mean(1)


def _restricted_recall(
    ctx: RankingContext, k: int, in_subset: np.ndarray, subset_count: np.ndarray
) -> np.ndarray:
    """Recall over truth items in a subset, for users having at least one such item."""
    users = subset_count > 0
    hits = (ctx.hits[:, :k] & in_subset[ctx.topk[:, :k]]).sum(1)
    return hits[users] / subset_count[users]


def _head_recall_users(ctx: RankingContext, k: int) -> np.ndarray:
    """Recall on head truth items, averaged over users that have head truth items."""
    assert ctx.head_mask is not None and ctx.head_truth_count is not None
    return _restricted_recall(ctx, k, ctx.head_mask, ctx.head_truth_count)


def _tail_recall_users(ctx: RankingContext, k: int) -> np.ndarray:
    """Recall on tail truth items, averaged over users that have tail truth items."""
    assert ctx.head_mask is not None and ctx.head_truth_count is not None
    return _restricted_recall(ctx, k, ~ctx.head_mask, ctx.truth_count - ctx.head_truth_count)


def _averaged(per_user: Callable[[RankingContext, int], np.ndarray]):
    return lambda ctx, k: _mean(per_user(ctx, k))


def _user_metric(name: str, needs: str, fn, smaller: bool = False) -> Metric:
    return Metric(name, needs, smaller, _averaged(fn), fn)


REGISTRY: dict[str, Metric] = {
    m.name: m
    for m in (
        _user_metric("recall", "topk+truth", _recall_users),
        _user_metric("ndcg", "topk+truth", _ndcg_users),
        _user_metric("hit", "topk+truth", _hit_users),
        _user_metric("precision", "topk+truth", _precision_users),
        _user_metric("mrr", "topk+truth", _mrr_users),
        Metric("itemcoverage", "topk+catalogue", False, _coverage),
        Metric("giniindex", "topk+catalogue", True, _gini),
        _user_metric("averagepopularity", "topk+popularity", _avg_pop_users, smaller=True),
        _user_metric("tailpercentage", "topk+popularity", _tail_pct_users),
        _user_metric("novelty", "topk+popularity", _novelty_users),
        _user_metric("headrecall", "topk+truth+popularity", _head_recall_users),
        _user_metric("tailrecall", "topk+truth+popularity", _tail_recall_users),
    )
}

ACCURACY = ("recall", "ndcg", "hit", "precision", "mrr")
DEFAULT_METRICS = tuple(REGISTRY)


def get(name: str) -> Metric:
    """The registered metric called ``name`` (case-insensitive)."""
    try:
        return REGISTRY[name.lower()]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(REGISTRY)}") from None


def compute_all(
    ctx: RankingContext, ks: tuple[int, ...], names: tuple[str, ...] = DEFAULT_METRICS
) -> dict[str, float]:
    """``{"name@K": value}`` for every metric and K."""
    return {f"{name}@{k}": get(name).compute(ctx, k) for name in names for k in ks}
