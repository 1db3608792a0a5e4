"""Long-tail re-ranking: push popular items down by a tunable, scale-free amount.

    penalty(i)  = log(1 + pop(i)) / log(1 + max_pop)            in [0, 1]
    spread      = max(score) - min(score) over the candidates    (score units)
    adjusted(i) = score(i) - tail_weight * spread * penalty(i)

``tail_weight = 0`` keeps the model's order; ``tail_weight = 1`` is strong enough to move the
most popular candidate from first to last. Multiplying by the spread makes the weight mean the
same for any model, whatever the scale of its dot products.
"""

from __future__ import annotations

import numpy as np


def popularity_penalty(popularity: np.ndarray) -> np.ndarray:
    """Normalised log popularity in [0, 1]; all zeros when nothing has been interacted with."""
    logged = np.log1p(np.maximum(np.asarray(popularity, dtype=np.float64), 0.0))
    top = logged.max(initial=0.0)
    return logged / top if top > 0 else np.zeros_like(logged)


def tail_adjusted(scores: np.ndarray, penalty: np.ndarray, tail_weight: float) -> np.ndarray:
    """``scores`` minus ``tail_weight * spread * penalty`` (see the module docstring)."""
    scores = np.asarray(scores, dtype=np.float64)
    if tail_weight == 0 or scores.size == 0:
        return scores.copy()
    spread = float(scores.max() - scores.min())
    return scores - tail_weight * spread * np.asarray(penalty, dtype=np.float64)


def rank(item_ids: list[str], scores: np.ndarray) -> list[int]:
    """Positions of ``item_ids`` sorted by score descending, ties by item id (deterministic)."""
    return sorted(range(len(item_ids)), key=lambda i: (-float(scores[i]), item_ids[i]))
