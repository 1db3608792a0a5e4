"""A persistent text-embedding cache, so re-encoding a graph only pays for new text.

Keys are :func:`text_hash` values (``sha256(model_id + "\\0" + text)``), so vectors from
different models or settings never mix; values are float32 vectors stored as raw bytes in
one SQLite file that any later run (or process) can reuse.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np

from tailgraph.errors import ConfigurationError

# SQLite's default limit on ``?`` placeholders in one statement is 999 on old builds.
_CHUNK = 900


def text_hash(model_id: str, text: str) -> str:
    """Hex sha256 of ``model_id + "\\0" + text``: the cache key and the stored ``textHash``."""
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Float32 vectors keyed by text hash, kept in the SQLite file at ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                "key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vector BLOB NOT NULL)"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as e:
            raise ConfigurationError(f"cannot open the embedding cache at {self.path}: {e}") from e

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are simply absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", chunk
            )
            for key, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (dim,):
                    found[key] = vector.copy()
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Store (or replace) vectors; committed before returning."""
        rows = []
        for key, vector in vectors.items():
            array = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
            rows.append((key, int(array.shape[0]), array.tobytes()))
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)", rows
            )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    def __contains__(self, key: object) -> bool:
        row = self._db.execute("SELECT 1 FROM embeddings WHERE key = ?", (key,)).fetchone()
        return row is not None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
