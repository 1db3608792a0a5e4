"""Score items with the learned embeddings: ``user · item`` in numpy, fold-in without retraining.

User vectors (:meth:`Scorer.user_vector`):

- a user the model was trained on: the learned vector; if interactions were recorded after the
  model was trained (edge property ``recorded`` newer than the model), it is *blended* with the
  mean vector of those newly interacted items, ``v = (1 - w) u + w mean(new)`` with
  ``w = n / (n + FOLD_IN_PRIOR)``: a handful of new interactions nudge, many dominate;
- a user unknown to the model: the mean vector of all their known items (*folded in*);
- nobody with usable history: the mean user (*average*).

Items added after training (``POST /items``) are appended with an inductive vector
(:meth:`Scorer.add_item`); the item arrays are swapped as one immutable snapshot, so readers
never see a half-updated catalogue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tailgraph.api.schemas import UserVectorKind
from tailgraph.errors import ArtefactError, ConflictError
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.neighbours import COLLABORATIVE, ItemNeighbours
from tailgraph.gnn.tail import popularity_penalty, tail_items

FOLD_IN_PRIOR = 5.0  # new interactions that weigh as much as the learned user vector


@dataclass(frozen=True)
class _Catalogue:
    """Item ids, vectors and popularity, replaced as a whole when an item is added."""

    item_ids: tuple[str, ...]
    index: dict[str, int]
    item: np.ndarray  # (I, d) float32
    unit: np.ndarray  # (I, d) rows L2-normalised
    popularity: np.ndarray  # (I,) training interactions
    penalty: np.ndarray  # (I,) normalised log popularity in [0, 1]
    tail: np.ndarray  # (I,) bool: the long tail as gnn.tail defines it (added items: tail)

    @classmethod
    def build(cls, item_ids: Sequence[str], item: np.ndarray, popularity: np.ndarray) -> _Catalogue:
        norms = np.linalg.norm(item, axis=1, keepdims=True)
        return cls(
            item_ids=tuple(item_ids),
            index={iid: row for row, iid in enumerate(item_ids)},
            item=item,
            unit=item / np.where(norms > 0, norms, 1.0),
            popularity=popularity,
            penalty=popularity_penalty(popularity),
            tail=tail_items(popularity),
        )


SIMILAR_COLLABORATIVE_WEIGHT = 1.0  # co-interaction in similar items: bench/similar_items.py


class Scorer:
    """Id-indexed view of one model's embeddings, built once when the model is loaded."""

    def __init__(
        self,
        embeddings: LearnedEmbeddings,
        *,
        trained_at: float | None = None,
        neighbours: Mapping[str, ItemNeighbours] | None = None,
    ) -> None:
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
        self.dimension = int(item.shape[1])
        self.trained_at = trained_at if trained_at is not None else time.time()
        # length factor for vectors borrowed by items added later (TailGNN's s; 1 otherwise)
        self.transfer_scale = float(embeddings.extra.get("transfer_scale", 1.0))
        self._user = user
        self._user_index = {uid: row for row, uid in enumerate(embeddings.user_ids)}
        self._catalogue = _Catalogue.build(list(embeddings.item_ids), item, popularity)
        self._write_lock = threading.Lock()
        # precomputed item neighbours by candidate source (collaborative / knowledge), if any
        self.neighbours: dict[str, ItemNeighbours] = dict(neighbours or {})

    @property
    def n_items(self) -> int:
        return len(self._catalogue.item_ids)

    def popularity(self, item_ids: Sequence[str]) -> np.ndarray:
        """Training interactions of each item (0 for items unknown to the model)."""
        catalogue = self._catalogue
        return np.array(
            [catalogue.popularity[catalogue.index[i]] if i in catalogue.index else 0.0
             for i in item_ids]
        )  # fmt: skip

    def has_item(self, item_id: str) -> bool:
        return item_id in self._catalogue.index

    def item_rows(self, item_ids: Sequence[str]) -> np.ndarray:
        """Matrix rows of ``item_ids`` (all must be known to the model)."""
        index = self._catalogue.index
        return np.array([index[i] for i in item_ids], dtype=np.int64)

    def item_vectors(self, item_ids: Sequence[str]) -> np.ndarray:
        """Vectors of the known ``item_ids`` (unknown ones skipped), shape (n, d)."""
        catalogue = self._catalogue
        rows = [catalogue.index[i] for i in item_ids if i in catalogue.index]
        return catalogue.item[rows]

    def mean_user(self) -> np.ndarray:
        if self._user.shape[0]:
            return self._user.mean(axis=0)
        return self._catalogue.item.mean(axis=0)

    def learned_user_vector(self, user_id: str) -> np.ndarray | None:
        """The user's learned vector, None for a user the model was not trained on (or erased)."""
        row = self._user_index.get(user_id)
        return None if row is None else self._user[row]

    def user_vector(
        self, user_id: str, history: Collection[str], live: Collection[str] = ()
    ) -> tuple[np.ndarray, UserVectorKind]:
        """The user's vector and where it came from (see the module docstring).

        ``history``: every item the user interacted with; ``live``: those recorded after the
        model was trained.
        """
        row = self._user_index.get(user_id)
        if row is not None:
            learned = self._user[row]
            fresh = self.item_vectors(list(live))
            if not len(fresh):
                return learned, "learned"
            weight = len(fresh) / (len(fresh) + FOLD_IN_PRIOR)
            return (1 - weight) * learned + weight * fresh.mean(axis=0), "blended"
        known = self.item_vectors(list(history))
        if len(known):
            return known.mean(axis=0), "folded_in"
        return self.mean_user(), "average"

    def score(self, vector: np.ndarray, item_ids: Sequence[str]) -> np.ndarray:
        """``vector · item`` for each of ``item_ids`` (all must be known to the model)."""
        if not item_ids:
            return np.zeros(0, dtype=np.float32)
        return self._catalogue.item[self.item_rows(item_ids)] @ vector

    def catalogue_scores(self, vector: np.ndarray) -> np.ndarray:
        """``vector · item`` for every catalogue item, in catalogue order."""
        return self._catalogue.item @ vector

    def penalty(self, item_ids: Sequence[str]) -> np.ndarray:
        """Normalised log training popularity of each item (see :mod:`tailgraph.gnn.tail`)."""
        if not item_ids:
            return np.zeros(0)
        return self._catalogue.penalty[self.item_rows(item_ids)]

    def item_score(self, vector: np.ndarray, item_id: str) -> float | None:
        catalogue = self._catalogue
        row = catalogue.index.get(item_id)
        return None if row is None else float(catalogue.item[row] @ vector)

    def top_items(
        self, vector: np.ndarray, k: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` best-scoring catalogue items not in ``exclude``, best first."""
        catalogue = self._catalogue
        return _top(catalogue, catalogue.item @ vector, k, exclude)

    def top_tail_items(
        self, vector: np.ndarray, k: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """The tail pool: the ``k`` best-scoring low-popularity items not in ``exclude``."""
        catalogue = self._catalogue
        scores = np.where(catalogue.tail, catalogue.item @ vector, -np.inf)
        return _top(catalogue, scores, k, exclude)

    def similar_items(
        self, item_id: str, k: int, collaborative_weight: float = SIMILAR_COLLABORATIVE_WEIGHT
    ) -> list[tuple[str, float]]:
        """The ``k`` items most similar to ``item_id`` (itself excluded): cosine of the learned
        vectors plus ``collaborative_weight`` × co-interaction cosine where the item's
        collaborative neighbours are loaded (``count / sqrt(pop_a · pop_b)``): co-watching
        separates a sequel from a same-genre film; the learned part keeps tail items apart."""
        catalogue = self._catalogue
        row = catalogue.index[item_id]
        scores = (catalogue.unit @ catalogue.unit[row]).astype(np.float64)
        collaborative = self.neighbours.get(COLLABORATIVE)
        if collaborative is not None and collaborative_weight:
            pop = np.maximum(catalogue.popularity, 1.0)
            for other, count in collaborative.of(item_id):
                j = catalogue.index.get(other)
                if j is not None:
                    scores[j] += collaborative_weight * count / np.sqrt(pop[row] * pop[j])
        return _top(catalogue, scores, k, {item_id})

    def forget_user(self, user_id: str) -> None:
        """Drop a user's learned vector (the index is replaced, not edited, so concurrent
        readers see before or after); the user is then scored like a new one."""
        index = self._user_index
        if user_id in index:
            self._user_index = {uid: row for uid, row in index.items() if uid != user_id}

    def forget_item(self, item_id: str) -> None:
        """Drop an item's row from the catalogue (copy-on-write, like :meth:`add_item`)."""
        self.forget_items([item_id])

    def forget_items(self, item_ids: Collection[str]) -> None:
        """Drop the rows of ``item_ids`` (unknown ones ignored) in one copy of the catalogue."""
        with self._write_lock:
            old = self._catalogue
            gone = {old.index[i] for i in item_ids if i in old.index}
            if not gone:
                return
            keep = np.array([r for r in range(len(old.item_ids)) if r not in gone], dtype=np.int64)
            ids = tuple(old.item_ids[r] for r in keep)
            self._catalogue = _Catalogue(
                item_ids=ids,
                index={item: n for n, item in enumerate(ids)},
                item=old.item[keep],
                unit=old.unit[keep],
                popularity=old.popularity[keep],
                penalty=old.penalty[keep],
                tail=old.tail[keep],
            )

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Every item the model can score, in catalogue order."""
        return self._catalogue.item_ids

    def item_vector(self, item_id: str) -> np.ndarray | None:
        """The item's vector, None for an item unknown to the model."""
        catalogue = self._catalogue
        row = catalogue.index.get(item_id)
        return None if row is None else catalogue.item[row]

    def set_items(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Give each item this vector: known items get it instead of theirs (keeping their
        popularity), others are appended as :meth:`add_item` does; one copy of the catalogue.
        ArtefactError (nothing changed) if a vector has another dimension."""
        if not vectors:
            return
        ids = list(vectors)
        rows = np.asarray([np.asarray(vectors[i], dtype=np.float32).reshape(-1) for i in ids])
        if rows.ndim != 2 or rows.shape[1] != self.dimension:
            raise ArtefactError(f"vectors have shape {rows.shape}, want (n, {self.dimension})")
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        units = rows / np.where(norms > 0, norms, 1.0)
        with self._write_lock:
            old = self._catalogue
            item, unit = old.item.copy(), old.unit.copy()
            new = [n for n, i in enumerate(ids) if i not in old.index]
            for n, item_id in enumerate(ids):
                if item_id in old.index:
                    item[old.index[item_id]], unit[old.index[item_id]] = rows[n], units[n]
            added = tuple(ids[n] for n in new)
            self._catalogue = _Catalogue(
                item_ids=(*old.item_ids, *added),
                index={**old.index, **{i: len(old.item_ids) + n for n, i in enumerate(added)}},
                item=np.vstack([item, rows[new]]),
                unit=np.vstack([unit, units[new]]),
                popularity=np.append(old.popularity, np.zeros(len(new))),
                penalty=np.append(old.penalty, np.zeros(len(new))),
                tail=np.append(old.tail, np.ones(len(new), dtype=bool)),
            )

    def add_item(self, item_id: str, vector: np.ndarray) -> None:
        """Append an item unseen in training (popularity 0, so it belongs to the tail)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if vector.shape[1] != self.dimension:
            raise ArtefactError(f"vector has dimension {vector.shape[1]}, want {self.dimension}")
        with self._write_lock:
            old = self._catalogue
            if item_id in old.index:
                raise ConflictError(f"item {item_id!r} is already known to the model")
            norm = float(np.linalg.norm(vector))
            self._catalogue = _Catalogue(
                item_ids=(*old.item_ids, item_id),
                index={**old.index, item_id: len(old.item_ids)},
                item=np.vstack([old.item, vector]),
                unit=np.vstack([old.unit, vector / norm if norm > 0 else vector]),
                popularity=np.append(old.popularity, 0.0),
                penalty=np.append(old.penalty, 0.0),
                tail=np.append(old.tail, True),
            )


def _top(
    catalogue: _Catalogue, scores: np.ndarray, k: int, exclude: Collection[str]
) -> list[tuple[str, float]]:
    """Best ``k`` rows of ``scores`` not excluded (score desc, then catalogue order)."""
    scores = scores.astype(np.float64, copy=True)
    excluded = [catalogue.index[i] for i in exclude if i in catalogue.index]
    scores[excluded] = -np.inf
    available = int(np.isfinite(scores).sum())
    k = min(k, available)
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((top, -scores[top]))]
    values = scores[top]
    finite = np.isfinite(values)
    ids = catalogue.item_ids
    rows, kept = top[finite].tolist(), values[finite].tolist()
    return [(ids[r], v) for r, v in zip(rows, kept, strict=True)]


@dataclass(frozen=True)
class TextAffinity:
    """A visitor's interests as a ranking signal: catalogue z-scores of the collaborative score
    (``vector · item``) and of the text cosine, mixed with ``weight`` on the text."""

    weight: float
    collab_mean: float
    collab_std: float
    text_z: Mapping[str, float]  # item id -> standardised cosine (absent: no text, 0)

    @classmethod
    def build(cls, weight: float, collab: np.ndarray, cosines: Mapping[str, float]) -> TextAffinity:
        """From the visitor's collaborative scores of every item and text cosines by id."""
        values = np.fromiter(cosines.values(), dtype=np.float64, count=len(cosines))
        t_mean, t_std = (float(values.mean()), float(values.std())) if len(values) else (0.0, 1.0)
        text_z = {i: (c - t_mean) / (t_std or 1.0) for i, c in cosines.items()}
        return cls(weight, float(np.mean(collab)), float(np.std(collab)) or 1.0, text_z)

    def blend(self, collab: np.ndarray, item_ids: Sequence[str]) -> np.ndarray:
        """Blended scores of ``item_ids`` given their collaborative scores ``collab``."""
        z_collab = (np.asarray(collab, dtype=np.float64) - self.collab_mean) / self.collab_std
        z_text = np.array([self.text_z.get(i, 0.0) for i in item_ids], dtype=np.float64)
        return (1.0 - self.weight) * z_collab + self.weight * z_text
