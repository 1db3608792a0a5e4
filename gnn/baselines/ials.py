"""iALS: implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and
Volinsky, ICDM 2008), fitted by the maintained ``implicit`` library (conjugate-gradient ALS).

    min Σ_{u,i} c_ui (p_ui - x_u · y_i)^2 + reg (Σ_u |x_u|^2 + Σ_i |y_i|^2)
    p_ui = 1 if (u, i) in train else 0,   c_ui = 1 + alpha · p_ui

score(u, i) = x_u · y_i. (reg, alpha) are chosen on validation NDCG@20 by :meth:`IALS.tuned`
(the factor count and iterations are fixed). Items without training interactions keep
``implicit``'s small random initial factors: they rank as noise, below every learned item.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from tailgraph.gnn.baselines.ease import interaction_matrix
from tailgraph.gnn.baselines.tuning import best_on_validation
from tailgraph.gnn.split import InteractionSplit

FACTORS = 64
ITERATIONS = 15
REG_GRID = (0.1, 1.0, 10.0, 50.0, 200.0)
ALPHA_GRID = (1.0, 3.0, 10.0)


class IALS:
    """A score function ``(B,) users -> (B, I)`` of dot products of ALS factors."""

    name = "ials"

    def __init__(self, user: np.ndarray, item: np.ndarray, reg: float, alpha: float) -> None:
        self.user = torch.from_numpy(np.ascontiguousarray(user, dtype=np.float32))
        self.item = torch.from_numpy(np.ascontiguousarray(item, dtype=np.float32))
        self.reg, self.alpha = reg, alpha

    @classmethod
    def fit(
        cls,
        split: InteractionSplit,
        *,
        reg: float = 1.0,
        alpha: float = 5.0,
        factors: int = FACTORS,
        iterations: int = ITERATIONS,
        seed: int | None = None,
        on_iteration: Callable[[int, float], None] | None = None,
    ) -> IALS:
        """ALS on ``split.train`` (``seed`` defaults to the split's); ``on_iteration(it, loss)``
        receives the training loss after each iteration."""
        with warnings.catch_warnings():  # implicit 0.7 reads the GPU module at import
            warnings.simplefilter("ignore", DeprecationWarning)
            from implicit.cpu.als import AlternatingLeastSquares

        # implicit solves many small systems; a threaded BLAS under it is only slower
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=factors,
                regularization=reg,
                alpha=alpha,
                iterations=iterations,
                calculate_training_loss=on_iteration is not None,
                random_state=split.seed if seed is None else seed,
                num_threads=1,
            )
            callback = None
            if on_iteration is not None:

                def callback(iteration: int, _elapsed: float, loss: float) -> None:
                    on_iteration(iteration, float(loss))

            model.fit(interaction_matrix(split), show_progress=False, callback=callback)
        return cls(model.user_factors, model.item_factors, reg, alpha)

    @classmethod
    def tuned(
        cls,
        split: InteractionSplit,
        regs: tuple[float, ...] = REG_GRID,
        alphas: tuple[float, ...] = ALPHA_GRID,
    ) -> tuple[IALS, dict[str, float]]:
        """The (reg, alpha) of the grid with the best validation NDCG@20, and every score."""
        return best_on_validation(
            (
                (f"reg={reg:g},alpha={alpha:g}", cls.fit(split, reg=reg, alpha=alpha))
                for reg, alpha in itertools.product(regs, alphas)
            ),
            split,
        )

    def __call__(self, users: Tensor) -> Tensor:
        return self.user[users.cpu()] @ self.item.T
