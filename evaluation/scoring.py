"""Scoring top-K lists, whoever made them: accuracy, popularity, subsets, deciles, exposure.

Every model — trained, a baseline's score function or a peer library's lists — is judged by
:func:`score_topk` from its per-user top-K lists against the split's test pairs: the metrics of
:mod:`tailgraph.gnn.metrics`, the same accuracy metrics on the ``cold`` (test pairs whose item
was withheld from training) and ``sparse`` (users with <= 5 training interactions) subsets,
recall by item-popularity decile and per-item exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tailgraph.errors import ConfigurationError
from tailgraph.gnn import metrics as M
from tailgraph.gnn.evaluate import rank
from tailgraph.gnn.split import InteractionSplit, sparse_users
from tailgraph.gnn.tail import ScoreFn, head_items

KS = (10, 20)
DECILE_K = 20  # cut-off of the popularity-decile recall and of the exposure counts
N_DECILES = 10


@dataclass
class Scored:
    """What one model's top-K lists on one split are worth."""

    metrics: dict[str, float]  # "recall@20", ..., "cold/recall@20", "sparse/ndcg@10"
    subset_users: dict[str, int]  # evaluated users per subset ("all", "cold", "sparse")
    decile_recall: list[float | None]  # recall@DECILE_K per popularity decile, least popular 1st
    exposure: np.ndarray  # (n_items,) times each item is in a top-DECILE_K list


def ranking_context(
    users: np.ndarray, topk: np.ndarray, truth: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, M.RankingContext]:
    """Context for the users that have ``truth`` pairs; ``users`` (sorted) index ``topk`` rows."""
    n_items = len(popularity)
    truth_users = np.unique(truth[:, 0])
    rows = np.searchsorted(users, truth_users)
    if len(truth_users) and (
        rows.max() >= len(users) or not np.array_equal(users[rows], truth_users)
    ):
        raise ConfigurationError("some users with truth pairs have no top-K list")
    lists = topk[rows]
    keys = np.unique(truth[:, 0] * n_items + truth[:, 1])
    hits = np.isin(truth_users[:, None] * n_items + lists, keys)
    head = head_items(popularity)
    truth_count = np.bincount(truth[:, 0])
    head_count = np.bincount(truth[head[truth[:, 1]], 0], minlength=len(truth_count))
    ctx = M.RankingContext(
        topk=lists,
        hits=hits,
        truth_count=truth_count[truth_users],
        popularity=popularity,
        head_truth_count=head_count[truth_users],
        head_mask=head,
    )
    return truth_users, ctx


def popularity_deciles(popularity: np.ndarray, n: int = N_DECILES) -> np.ndarray:
    """(n_items,) decile 0..n-1 of each item: equal-size groups by training popularity, ascending
    (ties by item index), so decile 0 holds the least popular items (cold items included)."""
    order = np.argsort(popularity, kind="stable")
    decile = np.zeros(len(popularity), dtype=np.int64)
    for d, part in enumerate(np.array_split(order, n)):
        decile[part] = d
    return decile


def decile_recall(
    users: np.ndarray,
    topk: np.ndarray,
    truth: np.ndarray,
    popularity: np.ndarray,
    k: int = DECILE_K,
) -> list[float | None]:
    """Per decile: test pairs whose item is in the user's top k / test pairs (None: no pairs)."""
    n_items = len(popularity)
    shown = np.unique(users[:, None] * n_items + topk[:, :k])
    hit = np.isin(truth[:, 0] * n_items + truth[:, 1], shown)
    decile = popularity_deciles(popularity)[truth[:, 1]]
    out: list[float | None] = []
    for d in range(N_DECILES):
        in_d = decile == d
        out.append(float(hit[in_d].mean()) if in_d.any() else None)
    return out


def score_topk(
    users: np.ndarray, topk: np.ndarray, split: InteractionSplit, ks: tuple[int, ...] = KS
) -> Scored:
    """Score top-K lists (rows of ``topk`` for sorted ``users``) against ``split.test``."""
    if topk.shape[1] < max(ks):
        raise ConfigurationError(f"top-K lists hold {topk.shape[1]} items, need {max(ks)}")
    popularity = split.item_popularity()
    test = split.test
    _, ctx = ranking_context(users, topk, test, popularity)
    metrics = M.compute_all(ctx, ks)
    counts = {"all": len(ctx.topk)}
    subsets = {
        "cold": test[np.isin(test[:, 1], split.cold_items)],
        "sparse": test[np.isin(test[:, 0], sparse_users(split))],
    }
    for name, pairs in subsets.items():
        counts[name] = len(np.unique(pairs[:, 0]))
        if counts[name]:
            _, sub = ranking_context(users, topk, pairs, popularity)
            values = M.compute_all(sub, ks, M.ACCURACY)
            metrics.update({f"{name}/{key}": value for key, value in values.items()})
    k = min(DECILE_K, topk.shape[1])
    exposure = np.bincount(topk[:, :k].ravel(), minlength=split.n_items)
    return Scored(metrics, counts, decile_recall(users, topk, test, popularity, k), exposure)


def score_function_topk(
    score_fn: ScoreFn, split: InteractionSplit, k: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """(test users, (U, k) top-k) by full-catalogue ranking, train and valid items excluded."""
    exclude = np.concatenate([split.train, split.valid])
    users, ctx = rank(score_fn, split.test, exclude, split.n_users, split.item_popularity(), k=k)
    return users, ctx.topk
