"""Scoring top-K lists, whoever made them: accuracy, popularity, subsets, deciles, exposure.

Every model — trained, a baseline's score function or a peer library's lists — is judged by
:func:`score_topk` from its per-user top-K lists against the split's test pairs: the metrics of
:mod:`tailgraph.gnn.metrics`, the same accuracy metrics on the ``cold`` (test pairs whose item
was withheld from training) and ``sparse`` (users with <= 5 training interactions) subsets,
recall by item-popularity decile and by user-activity bucket, per-item exposure, and the
per-user values of :data:`PAIRED` (what paired significance tests across users read).
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
PAIRED = ("ndcg@20", "recall@20", "tailrecall@20")  # kept per user for paired tests
# user-activity buckets: (label, most training interactions) — the first is the sparse users
ACTIVITY_BUCKETS = (("<=5", 5), ("6-20", 20), ("21-50", 50), ("51-100", 100), (">100", None))


@dataclass
class Scored:
    """What one model's top-K lists on one split are worth."""

    metrics: dict[str, float]  # "recall@20", ..., "cold/recall@20", "sparse/ndcg@10"
    subset_users: dict[str, int]  # evaluated users per subset ("all", "cold", "sparse")
    decile_recall: list[float | None]  # recall@DECILE_K per popularity decile, least popular 1st
    exposure: np.ndarray  # (n_items,) times each item is in a top-DECILE_K list
    activity_recall: dict[str, float | None]  # recall@DECILE_K per ACTIVITY_BUCKETS label
    per_user: dict[str, np.ndarray]  # "users" (test users) and each PAIRED metric (NaN: none)


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
    truth_users, ctx = ranking_context(users, topk, test, popularity)
    metrics = M.compute_all(ctx, ks)
    per_user = {"users": truth_users}
    for key in PAIRED:
        name, k = key.split("@")
        if int(k) > topk.shape[1]:
            continue  # lists too short for this cut-off
        if name == "tailrecall":  # defined for users with tail test items only
            assert ctx.head_truth_count is not None
            values = np.full(len(truth_users), np.nan)
            values[ctx.truth_count > ctx.head_truth_count] = M.get(name).per_user(ctx, int(k))
        else:
            values = M.get(name).per_user(ctx, int(k))
        per_user[key] = values
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
    recall_k = M.get("recall").per_user(ctx, k)
    return Scored(
        metrics,
        counts,
        decile_recall(users, topk, test, popularity, k),
        exposure,
        activity_recall(recall_k, split.user_degree()[truth_users]),
        per_user,
    )


def activity_recall(recall: np.ndarray, degree: np.ndarray) -> dict[str, float | None]:
    """Mean per-user recall in each :data:`ACTIVITY_BUCKETS` bucket of training interactions
    (None: no test user in it)."""
    out: dict[str, float | None] = {}
    low = -1
    for label, high in ACTIVITY_BUCKETS:
        inside = (degree > low) & (degree <= (np.inf if high is None else high))
        out[label] = float(recall[inside].mean()) if inside.any() else None
        low = high if high is not None else low
    return out


def score_function_topk(
    score_fn: ScoreFn, split: InteractionSplit, k: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """(test users, (U, k) top-k) by full-catalogue ranking, train and valid items excluded."""
    exclude = np.concatenate([split.train, split.valid])
    users, ctx = rank(score_fn, split.test, exclude, split.n_users, split.item_popularity(), k=k)
    return users, ctx.topk
