"""Text-only recommender: BERT cosine between a user's profile and every item's text.

profile(u) = mean of the unit text vectors of u's training items, plus u's own profile-text
vector (age, occupation...) counted as one more element when the user has one; then
score(u, i) = cos(profile(u), t_i). No interaction signal beyond the user's own history, so
cold items rank exactly like warm ones. Items without text score -2 (below any cosine).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot

NO_TEXT_SCORE = -2.0


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


class TextOnly:
    """A score function ``(B,) users -> (B, I)`` cosines; built with :meth:`fit`."""

    name = "text_only"

    def __init__(self, profiles: np.ndarray, item_text: np.ndarray, item_has_text: np.ndarray):
        self.profiles = torch.from_numpy(_unit(profiles).astype(np.float32))
        self.items = torch.from_numpy(_unit(item_text).astype(np.float32))
        self.no_text = torch.from_numpy(~np.asarray(item_has_text, dtype=bool))

    @classmethod
    def fit(cls, snapshot: GraphSnapshot, split: InteractionSplit) -> TextOnly:
        """Profiles from TRAIN items only (and user profile text when present)."""
        if not snapshot.text_dim or not snapshot.has_text["Item"].any():
            raise ConfigurationError("text_only needs item text embeddings; run `tailgraph encode`")
        items = _unit(snapshot.text["Item"].astype(np.float32))
        has_text = snapshot.has_text["Item"]
        train = split.train[has_text[split.train[:, 1]]]
        history = sp.csr_matrix(
            (np.ones(len(train)), (train[:, 0], train[:, 1])), shape=(split.n_users, len(items))
        )
        sums = np.asarray(history @ items.astype(np.float64))
        counts = np.bincount(train[:, 0], minlength=split.n_users).astype(np.float64)
        user_text = snapshot.text.get("User")
        if user_text is not None and user_text.shape[1] == items.shape[1]:
            has_user = snapshot.has_text["User"]
            sums[has_user] += _unit(user_text[has_user].astype(np.float32))
            counts += has_user
        profiles = sums / np.maximum(counts, 1.0)[:, None]
        return cls(profiles, items, has_text)

    def __call__(self, users: Tensor) -> Tensor:
        scores = self.profiles[users.cpu()] @ self.items.T
        return scores.masked_fill(self.no_text.unsqueeze(0), NO_TEXT_SCORE)
