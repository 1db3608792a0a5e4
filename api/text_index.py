"""Free text -> items: the BERT encoder (loaded once, lazily) and the items' text embeddings.

Matching is done in memory: the ``textEmbedding`` of every item is read from the store once
(keyset-paged) into a unit-norm matrix, and a query text's nearest items are a matrix product,
so no vector index is needed. Items added through ``POST /items`` are appended as they are
created, and those another worker of the service writes are applied by
:mod:`tailgraph.api.catalogue_sync`; items loaded by other processes (ingest) after the first
read appear after a restart.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from tailgraph.api.titles import title_variants
from tailgraph.graph.store import GraphStore, run_query

PAGE_SIZE = 2000
ENCODED_CACHE = 1024  # distinct query texts whose BERT vectors are kept


class TextIndex:
    """Lazy encoder plus an in-memory item text-embedding matrix (ids aligned with rows)."""

    def __init__(self, encoder_factory: Callable[[], object]) -> None:
        self._factory = encoder_factory
        self._encoder: object | None = None
        self._ids: list[str] = []
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()
        self._encoded: OrderedDict[str, np.ndarray] = OrderedDict()
        self._titles: dict[str, str] = {}  # item id -> title, for items named in a text
        self._by_word: dict[str, list[tuple[str, str]]] | None = None  # first word -> variants

    @property
    def loaded(self) -> bool:
        """Whether the item text vectors were read (before that, a change needs no applying:
        the first read takes the store as it is then)."""
        return self._matrix is not None

    @property
    def encoder(self) -> Any:
        """The text encoder (a ``TextEncoder``, imported lazily: transformers is heavy), loaded
        on first use (ConfigurationError if it cannot be)."""
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._factory()
        return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm BERT vectors of ``texts``, shape (n, 384); the last ``ENCODED_CACHE``
        distinct texts are kept, so a repeated interest costs no BERT pass."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._encoded]
        if missing:
            fresh = self.encoder.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._encoded[text] = np.asarray(vector, dtype=np.float32)
                while len(self._encoded) > ENCODED_CACHE:
                    self._encoded.popitem(last=False)
        found = {t: self._encoded.get(t) for t in texts}
        if any(v is None for v in found.values()):  # evicted meanwhile: encode directly
            return np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def _load(self, store: GraphStore) -> tuple[list[str], np.ndarray]:
        if self._matrix is not None:
            return self._ids, self._matrix
        with self._lock:
            if self._matrix is None:
                ids: list[str] = []
                vectors: list[list[float]] = []
                titles: dict[str, str] = {}
                after = ""
                while True:
                    rows = run_query(
                        store,
                        "read_text_embeddings",
                        {"after": after, "limit": PAGE_SIZE},
                        read_only=True,
                        label="Item",
                    )
                    for row in rows:
                        ids.append(str(row["id"]))
                        vectors.append(row["embedding"])
                        if row.get("title"):
                            titles[str(row["id"])] = str(row["title"])
                    if len(rows) < PAGE_SIZE:
                        break
                    after = str(rows[-1]["id"])
                matrix = (
                    np.asarray(vectors, dtype=np.float32)
                    if ids
                    else np.zeros((0, 0), dtype=np.float32)
                )
                norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(ids) else 1.0
                self._ids, self._matrix = ids, matrix / np.where(norms > 0, norms, 1.0)
                self._titles, self._by_word = titles, None
            return self._ids, self._matrix

    def add(
        self, store: GraphStore, item_id: str, vector: np.ndarray, title: str | None = None
    ) -> None:
        """Add a new item's text vector and title (after they were written to the store), or
        replace the ones an earlier version of the item had."""
        ids, matrix = self._load(store)
        with self._lock:
            if title:
                self._titles[item_id], self._by_word = title, None
            row = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            if matrix.size and matrix.shape[1] != row.shape[1]:
                return
            if item_id in ids:
                matrix = matrix.copy()  # readers may hold the old matrix
                matrix[ids.index(item_id)] = row[0]
                self._matrix = matrix
                return
            self._ids = [*ids, item_id]
            self._matrix = np.vstack([matrix, row]) if matrix.size else row

    def remove(self, store: GraphStore, item_id: str) -> None:
        """Forget a deleted item's text vector and title (nothing to do before the first
        load: that reads the store, which no longer has the item)."""
        if self._matrix is None:
            return
        ids, matrix = self._load(store)
        with self._lock:
            if self._titles.pop(item_id, None) is not None:
                self._by_word = None
            if item_id in ids:
                keep = ids.index(item_id)
                self._ids = [*ids[:keep], *ids[keep + 1 :]]
                self._matrix = np.delete(matrix, keep, axis=0)

    def named(self, store: GraphStore, texts: Sequence[str]) -> set[str]:
        """Ids of the items whose title appears, as whole words, in one of ``texts``: titles
        are indexed by their first word, so a text costs its words, not the catalogue."""
        self._load(store)
        by_word = self._by_word
        if by_word is None:
            by_word = {}
            for item_id, title in self._titles.items():
                for variant in title_variants(title):
                    by_word.setdefault(variant.split()[0], []).append((variant, item_id))
            self._by_word = by_word
        text = " ".join(texts).lower()
        found = set()
        for word in set(re.findall(r"[^\s]+", text)) | set(re.findall(r"\w+", text)):
            for variant, item_id in by_word.get(word, ()):
                if item_id not in found and _says(text, variant):
                    found.add(item_id)
        return found

    def catalogue_cosines(self, store: GraphStore, vector: np.ndarray) -> dict[str, float]:
        """Cosine of ``vector`` with every item that has text, by item id."""
        ids, matrix = self._load(store)
        if not ids or matrix.shape[1] != np.asarray(vector).shape[0]:
            return {}
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        return dict(zip(ids, scores.tolist(), strict=True))

    def cosines(self, store: GraphStore, vector: np.ndarray, item_ids: Sequence[str]) -> np.ndarray:
        """Cosine of ``vector`` with each of ``item_ids`` (0 for items without text)."""
        ids, matrix = self._load(store)
        if not ids or matrix.shape[1] != np.asarray(vector).shape[0]:
            return np.zeros(len(item_ids), dtype=np.float32)
        rows = {item_id: row for row, item_id in enumerate(ids)}
        scores = np.zeros(len(item_ids), dtype=np.float32)
        known = [(n, rows[i]) for n, i in enumerate(item_ids) if i in rows]
        if known:
            positions, matrix_rows = (list(x) for x in zip(*known, strict=True))
            scores[positions] = matrix[matrix_rows] @ np.asarray(vector, dtype=np.float32)
        return scores

    def nearest(
        self,
        store: GraphStore,
        vector: np.ndarray,
        k: int,
        allowed: Callable[[str], bool] = lambda _: True,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        """Up to ``k`` (item id, cosine) with positive similarity, best first."""
        ids, matrix = self._load(store)
        if not ids or matrix.shape[1] != vector.shape[0]:
            return []
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        out: list[tuple[str, float]] = []
        for row in np.argsort(-scores, kind="stable"):
            if scores[row] <= 0 or len(out) >= k:
                break
            item_id = ids[row]
            if item_id not in exclude and allowed(item_id):
                out.append((item_id, float(scores[row])))
        return out


def _says(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None
