"""EASE: a closed-form item–item linear autoencoder (Steck, WWW 2019).

With X the binary user × item training matrix and G = X^T X,

    B = argmin ||X - X B||^2 + λ ||B||^2  subject to diag(B) = 0
      = I - P diag(1 / diag(P)),  P = (G + λI)^-1        (so B_ij = -P_ij / P_jj, B_jj = 0)

and score(u, ·) = X_u B. λ is chosen on validation NDCG@20 by :meth:`EASE.tuned`; G is
eigen-decomposed once so every λ of the grid costs one (I, I) product, not one inverse.
B is a dense I × I matrix, so EASE is for catalogues up to :data:`MAX_ITEMS` items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.tuning import best_on_validation
from tailgraph.gnn.split import InteractionSplit

MAX_ITEMS = 20_000
LAMBDA_GRID = (10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)


def interaction_matrix(split: InteractionSplit) -> sp.csr_matrix:
    """The binary (U, I) float32 matrix of ``split.train`` (a repeated pair counts once)."""
    ones = np.ones(len(split.train), dtype=np.float32)
    train = split.train
    matrix = sp.csr_matrix((ones, (train[:, 0], train[:, 1])), shape=(split.n_users, split.n_items))
    matrix.data[:] = 1.0
    return matrix


def ease_weights(eigenvalues: np.ndarray, eigenvectors: np.ndarray, lam: float) -> np.ndarray:
    """B (I, I) float32 for one λ from the eigen-decomposition G = Q diag(w) Q^T."""
    if lam <= 0:
        raise ValueError(f"EASE needs λ > 0, got {lam}")
    inverse = (eigenvectors / (eigenvalues + lam)) @ eigenvectors.T  # P = (G + λI)^-1
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


class EASE:
    """A score function ``(B,) users -> (B, I)`` = X_u B. Args: ``weights`` B, train ``history``."""

    name = "ease"

    def __init__(self, weights: np.ndarray, history: sp.csr_matrix, lam: float) -> None:
        self.weights = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))
        self.history = history
        self.lam = lam

    @classmethod
    def fit(cls, split: InteractionSplit, lam: float = 500.0) -> EASE:
        """EASE at one λ (no tuning)."""
        history = interaction_matrix(split)
        return cls(ease_weights(*_eigen(history), lam), history, lam)

    @classmethod
    def tuned(
        cls, split: InteractionSplit, grid: tuple[float, ...] = LAMBDA_GRID
    ) -> tuple[EASE, dict[str, float]]:
        """The λ of ``grid`` with the best validation NDCG@20, and ``{"lambda=<λ>": NDCG}``."""
        history = interaction_matrix(split)
        eigen = _eigen(history)
        return best_on_validation(
            ((f"lambda={lam:g}", cls(ease_weights(*eigen, lam), history, lam)) for lam in grid),
            split,
        )

    def __call__(self, users: Tensor) -> Tensor:
        rows = self.history[users.cpu().numpy()]
        return torch.from_numpy(np.asarray(rows @ self.weights.numpy(), dtype=np.float32))


def _eigen(history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors (float64) of the Gram matrix X^T X."""
    n_items = history.shape[1]
    if n_items > MAX_ITEMS:
        raise ConfigurationError(
            f"EASE keeps a dense {n_items}x{n_items} weight matrix; limit is {MAX_ITEMS} items"
        )
    gram = np.asarray((history.T @ history).todense(), dtype=np.float64)
    return np.linalg.eigh(gram)
