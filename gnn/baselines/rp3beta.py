"""RP3β: three-step random walks on the user–item graph, popularity-discounted (Paudel et al.,
TiiS 2017; the tuned form of Dacrema et al., RecSys 2019).

With R the binary training matrix, P_ui = R / deg(u) (user -> item) and P_iu = R^T / deg(i)
(item -> user), each raised element-wise to the power α,

    W_ij  = (P_iu^α P_ui^α)_ij / pop(j)^β        (0 on the diagonal)

each source item i keeps its ``neighbours`` largest W_ij, and score(u, j) = Σ_i R_ui W_ij.
α sharpens or flattens the walk, β > 0 moves probability mass from popular to rare targets.
(α, β) are chosen on validation NDCG@20 by :meth:`RP3Beta.tuned`. W is dense I × I, so RP3β is
for catalogues up to :data:`MAX_ITEMS` items.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.ease import interaction_matrix
from tailgraph.gnn.baselines.tuning import best_on_validation
from tailgraph.gnn.split import InteractionSplit

MAX_ITEMS = 20_000
ALPHA_GRID = (0.75, 1.0, 1.25)
BETA_GRID = (0.2, 0.35, 0.5, 0.6, 0.7)
NEIGHBOURS = 200  # targets kept per source item


def transition_product(history: sp.csr_matrix, alpha: float) -> np.ndarray:
    """(I, I) float64 P_iu^α P_ui^α: probability of walking item -> user -> item (before β)."""
    n_items = history.shape[1]
    if n_items > MAX_ITEMS:
        raise ConfigurationError(
            f"RP3beta keeps a dense {n_items}x{n_items} matrix; limit is {MAX_ITEMS} items"
        )
    user_degree = np.asarray(history.sum(axis=1)).ravel()
    item_degree = np.asarray(history.sum(axis=0)).ravel()
    p_ui = sp.diags(1.0 / np.maximum(user_degree, 1.0)) @ history
    p_iu = sp.diags(1.0 / np.maximum(item_degree, 1.0)) @ history.T.tocsr()
    p_ui, p_iu = p_ui.power(alpha), p_iu.power(alpha)
    return np.asarray((p_iu @ p_ui).todense(), dtype=np.float64)


def rp3beta_weights(
    walk: np.ndarray, popularity: np.ndarray, beta: float, neighbours: int | None = NEIGHBOURS
) -> np.ndarray:
    """W (I, I) float32 from :func:`transition_product`: targets divided by pop^β, the
    diagonal zeroed, each row pruned to its ``neighbours`` largest entries (None: all)."""
    discount = np.power(np.maximum(popularity.astype(np.float64), 1.0), -beta)
    weights = (walk * discount[None, :]).astype(np.float32)
    np.fill_diagonal(weights, 0.0)
    if neighbours is not None and neighbours < weights.shape[1]:
        drop = np.argpartition(-weights, neighbours, axis=1)[:, neighbours:]
        np.put_along_axis(weights, drop, 0.0, axis=1)
    return weights


class RP3Beta:
    """A score function ``(B,) users -> (B, I)`` = R_u W. Args: ``weights`` W, ``history`` R."""

    name = "rp3beta"

    def __init__(
        self, weights: np.ndarray, history: sp.csr_matrix, alpha: float, beta: float
    ) -> None:
        self.weights = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))
        self.history = history
        self.alpha, self.beta = alpha, beta

    @classmethod
    def fit(
        cls,
        split: InteractionSplit,
        alpha: float = 1.0,
        beta: float = 0.5,
        neighbours: int | None = NEIGHBOURS,
    ) -> RP3Beta:
        """RP3β at one (α, β) (no tuning)."""
        history = interaction_matrix(split)
        walk = transition_product(history, alpha)
        weights = rp3beta_weights(walk, split.item_popularity(), beta, neighbours)
        return cls(weights, history, alpha, beta)

    @classmethod
    def tuned(
        cls,
        split: InteractionSplit,
        alphas: tuple[float, ...] = ALPHA_GRID,
        betas: tuple[float, ...] = BETA_GRID,
        neighbours: int | None = NEIGHBOURS,
    ) -> tuple[RP3Beta, dict[str, float]]:
        """The (α, β) of the grid with the best validation NDCG@20, and every label's score."""
        history = interaction_matrix(split)
        popularity = split.item_popularity()
        walks: dict[float, np.ndarray] = {}

        def candidates():
            for alpha, beta in itertools.product(alphas, betas):
                if alpha not in walks:
                    walks.clear()  # one walk matrix held at a time
                    walks[alpha] = transition_product(history, alpha)
                weights = rp3beta_weights(walks[alpha], popularity, beta, neighbours)
                yield f"alpha={alpha:g},beta={beta:g}", cls(weights, history, alpha, beta)

        return best_on_validation(candidates(), split)

    def __call__(self, users: Tensor) -> Tensor:
        rows = self.history[users.cpu().numpy()]
        return torch.from_numpy(np.asarray(rows @ self.weights.numpy(), dtype=np.float32))
