"""The ``tail_weight`` sweep: how much accuracy each fitted model gives up for tail exposure.

The inference-time knob (:func:`tailgraph.gnn.tail.tail_adjusted`, the service's re-ranker) is
applied to already-fitted models at several weights and each re-ranked list is scored with the
same exclusions as the model's own ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tailgraph.evaluation.results import TradeoffPoint
from tailgraph.evaluation.scoring import score_function_topk, score_topk
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn, tail_adjusted

TAIL_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
TAIL_POOL = 500  # candidates re-ranked per user (the service expands a few hundred)
TRADEOFF_MODELS = ("bpr_mf", "lightgcn", "itemknn", "tailgnn")
TRADEOFF_METRICS = (
    "recall@20",
    "ndcg@20",
    "tailrecall@20",
    "itemcoverage@20",
    "giniindex@20",
    "averagepopularity@20",
    "cold/recall@20",
)


def tail_tradeoff(
    model: str,
    seed: int,
    score_fn: ScoreFn,
    split: InteractionSplit,
    tail_weights: Sequence[float],
) -> list[TradeoffPoint]:
    """Score ``score_fn`` re-ranked at each tail weight (same lists and exclusions as at 0)."""
    popularity = torch.as_tensor(split.item_popularity())
    points = []
    for weight in tail_weights:
        adjusted = tail_adjusted(score_fn, popularity, weight, TAIL_POOL)
        users, topk = score_function_topk(adjusted, split)
        metrics = score_topk(users, topk, split).metrics
        kept = {key: metrics[key] for key in TRADEOFF_METRICS if key in metrics}
        points.append(TradeoffPoint(model, seed, float(weight), kept))
    return points
