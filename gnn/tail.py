"""The long tail, defined once: which items are head and tail, and the ``tail_weight`` re-ranker.

Evaluation (tail recall, the ``tail_weight`` sweep), training-time validation and the service's
re-ranking all read these definitions:

    head        = the ceil(HEAD_SHARE * n) items with the most training interactions (ties by
                  lower index); an item nobody interacted with in training is never head
    tail        = every other item
    penalty(i)  = log(1 + pop(i)) / log(1 + max_pop)            in [0, 1]
    adjusted(i) = score(i) - tail_weight * spread * penalty(i)

``spread`` is max - min score over the candidates, so the weight means the same for any model
whatever the scale of its dot products: 0 keeps the model's order, 1 can move the most popular
candidate from first to last. The service re-ranks the candidates it expanded
(:func:`rerank`); evaluation wraps a full-catalogue score function and re-ranks each user's
``pool`` best items the same way (:func:`tail_adjusted`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

HEAD_SHARE = 0.2  # share of the catalogue that is head (most popular in training)

ScoreFn = Callable[[torch.Tensor], torch.Tensor]  # (B,) user indices -> (B, n_items) scores
Array = TypeVar("Array", np.ndarray, torch.Tensor)


def head_items(popularity: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """(n,) bool: the head (see the module docstring)."""
    popularity = np.asarray(popularity)
    n = len(popularity)
    order = np.argsort(-popularity, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[: int(math.ceil(share * n))]] = True
    return mask & (popularity > 0)


def tail_items(popularity: np.ndarray, share: float = HEAD_SHARE) -> np.ndarray:
    """(n,) bool: every item outside :func:`head_items`."""
    return ~head_items(popularity, share)


def popularity_penalty(popularity: Array) -> Array:
    """Normalised log popularity in [0, 1], all zeros when nothing was interacted with.

    Same formula for a numpy array (float64, the service) and a tensor (float32, evaluation on
    any device); tests hold the two equal.
    """
    if isinstance(popularity, torch.Tensor):
        logged = torch.log1p(popularity.float().clamp(min=0))
        top = logged.max() if logged.numel() else logged.new_tensor(0.0)
        return logged / top if top > 0 else torch.zeros_like(logged)
    logged_np = np.log1p(np.maximum(np.asarray(popularity, dtype=np.float64), 0.0))
    top_np = logged_np.max(initial=0.0)
    return logged_np / top_np if top_np > 0 else np.zeros_like(logged_np)


def penalised(scores: Array, spread: Array | float, penalty: Array, tail_weight: float) -> Array:
    """``scores - tail_weight * spread * penalty``: the re-ranking rule itself."""
    return scores - tail_weight * spread * penalty


def rerank(scores: np.ndarray, penalty: np.ndarray, tail_weight: float) -> np.ndarray:
    """A candidate set's scores re-ranked towards the tail (float64; spread over the set)."""
    scores = np.asarray(scores, dtype=np.float64)
    if tail_weight == 0 or scores.size == 0:
        return scores.copy()
    spread = float(scores.max() - scores.min())
    return penalised(scores, spread, np.asarray(penalty, dtype=np.float64), tail_weight)


def tail_adjusted(
    score_fn: ScoreFn, popularity: torch.Tensor, tail_weight: float, pool: int | None = None
) -> ScoreFn:
    """``score_fn`` re-ranked towards the tail, per user over its ``pool`` best items.

    The candidates are each user's ``pool`` best-scored items (all items when None), as the
    service re-ranks its few hundred expanded candidates; items outside the pool stay below
    every candidate, in their own order.
    """
    if not tail_weight:
        return score_fn
    penalty = popularity_penalty(popularity)

    def score(users: torch.Tensor) -> torch.Tensor:
        scores = score_fn(users)
        top = scores.amax(dim=1, keepdim=True)
        if pool is None or pool >= scores.shape[1]:
            floor = scores.amin(dim=1, keepdim=True)
        else:
            floor = torch.topk(scores, pool, dim=1).values[:, -1:]
        spread = top - floor
        adjusted = penalised(scores, spread, penalty.to(scores.device), tail_weight)
        below = scores - (top - scores.amin(dim=1, keepdim=True)) - tail_weight * spread
        return torch.where(scores >= floor, adjusted, below)

    return score
