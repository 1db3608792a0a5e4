"""Score items with the learned embeddings: ``user · item`` in numpy, fold-in for new users."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from tailgraph.api.rerank import popularity_penalty
from tailgraph.api.schemas import UserVectorKind
from tailgraph.errors import ArtefactError
from tailgraph.gnn.artefacts import LearnedEmbeddings


class Scorer:
    """Id-indexed view of one model's embeddings, built once when the model is loaded."""

    def __init__(self, embeddings: LearnedEmbeddings) -> None:
        user = np.asarray(embeddings.user, dtype=np.float32)
        item = np.asarray(embeddings.item, dtype=np.float32)
        popularity = np.asarray(embeddings.item_popularity, dtype=np.float64)
        if user.ndim != 2 or item.ndim != 2 or user.shape[1] != item.shape[1]:
            raise ArtefactError(
                f"embedding shapes do not match: user {user.shape}, item {item.shape}"
            )
        if len(embeddings.user_ids) != user.shape[0] or len(embeddings.item_ids) != item.shape[0]:
            raise ArtefactError("embedding ids and matrices have different lengths")
        if popularity.shape != (item.shape[0],):
            raise ArtefactError(
                f"item_popularity has shape {popularity.shape}, want {item.shape[:1]}"
            )
        if item.shape[0] == 0:
            raise ArtefactError("the model has no items")
        self.model_name = embeddings.model_name
        self.version = embeddings.version
        self.item_ids = list(embeddings.item_ids)
        self._user = user
        self._item = item
        self._user_index = {uid: row for row, uid in enumerate(embeddings.user_ids)}
        self._item_index = {iid: row for row, iid in enumerate(self.item_ids)}
        norms = np.linalg.norm(item, axis=1, keepdims=True)
        self._item_unit = item / np.where(norms > 0, norms, 1.0)
        self.popularity = popularity
        self.tail_penalty = popularity_penalty(popularity)  # per item, in [0, 1]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._item_index

    def item_rows(self, item_ids: Sequence[str]) -> np.ndarray:
        """Matrix rows of ``item_ids`` (all must be known to the model)."""
        return np.fromiter((self._item_index[i] for i in item_ids), dtype=np.int64)

    def user_vector(
        self, user_id: str, history: Collection[str]
    ) -> tuple[np.ndarray, UserVectorKind]:
        """The trained vector; else the mean of the user's known items; else the mean user.

        Folding in (mean of interacted items) serves users who arrived after training without
        retraining; a user with no usable history gets the average user's taste.
        """
        row = self._user_index.get(user_id)
        if row is not None:
            return self._user[row], "learned"
        known = [self._item_index[i] for i in history if i in self._item_index]
        if known:
            return self._item[known].mean(axis=0), "folded_in"
        if self._user.shape[0]:
            return self._user.mean(axis=0), "average"
        return self._item.mean(axis=0), "average"

    def score(self, vector: np.ndarray, item_ids: Sequence[str]) -> np.ndarray:
        """``vector · item`` for each of ``item_ids`` (all must be known to the model)."""
        if not item_ids:
            return np.zeros(0, dtype=np.float32)
        return self._item[self.item_rows(item_ids)] @ vector

    def penalty(self, item_ids: Sequence[str]) -> np.ndarray:
        """Normalised log training popularity of each item (see :mod:`tailgraph.api.rerank`)."""
        if not item_ids:
            return np.zeros(0)
        return self.tail_penalty[self.item_rows(item_ids)]

    def item_score(self, vector: np.ndarray, item_id: str) -> float | None:
        row = self._item_index.get(item_id)
        return None if row is None else float(self._item[row] @ vector)

    def top_items(
        self, vector: np.ndarray, k: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` best-scoring catalogue items not in ``exclude``, best first."""
        return self._top(self._item @ vector, k, exclude)

    def similar_items(self, item_id: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` items with the highest cosine similarity to ``item_id`` (itself excluded)."""
        row = self._item_index[item_id]
        return self._top(self._item_unit @ self._item_unit[row], k, {item_id})

    def _top(self, scores: np.ndarray, k: int, exclude: Collection[str]) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64, copy=True)
        excluded = [self._item_index[i] for i in exclude if i in self._item_index]
        scores[excluded] = -np.inf
        available = len(scores) - len(excluded)
        k = min(k, available)
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # score desc, then catalogue order
        return [(self.item_ids[r], float(scores[r])) for r in top if np.isfinite(scores[r])]
