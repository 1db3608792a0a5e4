"""ItemKNN: item–item collaborative filtering with cosine similarity (Sarwar et al. 2001).

With R the binary user × item training matrix, sim(i, j) = (R^T R)_ij / (|U_i| |U_j|)^1/2
(cosine of item columns; 0 on the diagonal). Each target item i keeps its ``neighbours``
most similar items N_k(i), and score(u, i) = sum_{j in train(u) ∩ N_k(i)} sim(i, j), as
RecBole's ItemKNN does. ``neighbours`` is chosen on validation NDCG@20 by :meth:`ItemKNN.tuned`.
The similarity is a dense I × I matrix, so this baseline is for catalogues up to ~20k items.
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
NEIGHBOUR_GRID = (10, 20, 50, 100, 200)


def cosine_similarity(train: np.ndarray, n_users: int, n_items: int) -> np.ndarray:
    """(I, I) float32 cosine similarity of item columns of the binary train matrix, diag 0."""
    if n_items > MAX_ITEMS:
        raise ConfigurationError(
            f"ItemKNN keeps a dense {n_items}x{n_items} similarity; limit is {MAX_ITEMS} items"
        )
    ones = np.ones(len(train), dtype=np.float32)
    matrix = sp.csr_matrix((ones, (train[:, 0], train[:, 1])), shape=(n_users, n_items))
    matrix.data[:] = 1.0  # binary even if a pair repeats
    co = np.asarray((matrix.T @ matrix).todense(), dtype=np.float32)
    norms = np.sqrt(np.diag(co).copy())
    norms[norms == 0] = 1.0
    sim = co / norms[:, None] / norms[None, :]
    np.fill_diagonal(sim, 0.0)
    return sim


class ItemKNN:
    """A score function over a pruned item–item cosine similarity.

    Args: ``similarity`` (I, I) from :func:`cosine_similarity`, the train ``split``,
    ``neighbours`` kept per target item (None: all).
    """

    name = "itemknn"

    def __init__(
        self, similarity: np.ndarray, split: InteractionSplit, neighbours: int | None = 100
    ) -> None:
        sim = torch.from_numpy(similarity)
        if neighbours is not None and neighbours < sim.shape[0]:
            top = torch.topk(sim, neighbours, dim=0).indices  # per target column i
            pruned = torch.zeros_like(sim)
            pruned.scatter_(0, top, torch.gather(sim, 0, top))
            sim = pruned
        self.similarity = sim  # [j, i] = sim(i, j) if j in N_k(i) else 0
        self.neighbours = neighbours
        ones = np.ones(len(split.train), dtype=np.float32)
        self.history = sp.csr_matrix(
            (ones, (split.train[:, 0], split.train[:, 1])), shape=(split.n_users, split.n_items)
        )

    @classmethod
    def tuned(
        cls, split: InteractionSplit, grid: tuple[int, ...] = NEIGHBOUR_GRID
    ) -> tuple[ItemKNN, dict[str, float]]:
        """The model whose ``neighbours`` (from ``grid``) has the best validation NDCG@20.

        Returns it with ``{"neighbours=<k>": valid NDCG@20}`` for every candidate.
        """
        similarity = cosine_similarity(split.train, split.n_users, split.n_items)
        return best_on_validation(
            ((f"neighbours={k}", cls(similarity, split, k)) for k in grid), split
        )

    def __call__(self, users: Tensor) -> Tensor:
        rows = self.history[users.cpu().numpy()]
        return torch.from_numpy(np.asarray(rows @ self.similarity.numpy(), dtype=np.float32))
