"""Late fusion of text and collaborative scores (the TailGraph seed paper's baseline).

f(u, i) = α · z_u(s_text(u, i)) + (1 − α) · z_u(s_cf(u, i)), where z_u standardises a user's
scores over the whole catalogue (mean 0, std 1), s_text is :class:`TextOnly` and s_cf a
trained LightGCN's dot products. α is picked from a small grid on validation NDCG@20.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tailgraph.gnn.baselines.tuning import best_on_validation
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn

ALPHA_GRID = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def standardise(scores: Tensor) -> Tensor:
    """Per row: (s - mean) / std (std of a constant row taken as 1)."""
    std = scores.std(dim=1, keepdim=True)
    return (scores - scores.mean(dim=1, keepdim=True)) / torch.where(std > 0, std, 1.0)


class Fusion:
    """A score function mixing standardised ``text`` and ``cf`` score functions with ``alpha``."""

    name = "fusion"

    def __init__(self, text: ScoreFn, cf: ScoreFn, alpha: float) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.text, self.cf, self.alpha = text, cf, float(alpha)

    @classmethod
    def tuned(
        cls,
        text: ScoreFn,
        cf: ScoreFn,
        split: InteractionSplit,
        grid: tuple[float, ...] = ALPHA_GRID,
    ) -> tuple[Fusion, dict[str, float]]:
        """The α from ``grid`` with the best validation NDCG@20, and every α's score."""
        return best_on_validation(((f"alpha={a}", cls(text, cf, a)) for a in grid), split)

    def __call__(self, users: Tensor) -> Tensor:
        text = standardise(self.text(users).float())
        cf = standardise(self.cf(users).float().to(text.device))
        return self.alpha * text + (1.0 - self.alpha) * cf
