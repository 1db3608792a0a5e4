"""The ``encode`` stage: node text -> BERT -> ``textEmbedding`` and ``textHash`` on the node.

For each label the stage pages through nodes (vectors are never read back), builds each text,
hashes it with the model id, and skips nodes whose stored ``textHash`` already matches. The
rest take their vector from the :class:`~tailgraph.encoders.cache.EmbeddingCache` when it has
one, or from the model (each distinct text once), and are written back in batches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tailgraph import cypher
from tailgraph.encoders.cache import EmbeddingCache, text_hash
from tailgraph.encoders.text import INTERNAL_PROPERTIES, node_text
from tailgraph.errors import DataValidationError
from tailgraph.graph.store import GraphStore, run_batched

LABELS = frozenset({"User", "Item", "Entity"})
# Properties never returned when reading node text (vectors would be 384 floats each).
_SKIP = sorted(INTERNAL_PROPERTIES)


class Encoder(Protocol):
    """What the stage needs from an encoder (:class:`~tailgraph.encoders.bert.TextEncoder`)."""

    model_id: str

    @property
    def dimension(self) -> int: ...

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray: ...


@dataclass
class LabelCounts:
    """What happened to the nodes of one label."""

    seen: int = 0  # nodes read
    encoded: int = 0  # vector computed by the model in this run
    cached: int = 0  # vector taken from the embedding cache
    unchanged: int = 0  # stored textHash equals the new one: nothing written
    without_text: int = 0  # no text could be built (e.g. an entity without a name)

    @property
    def written(self) -> int:
        return self.encoded + self.cached


@dataclass
class EncodeReport:
    """Counts per label plus model and write throughput."""

    model_id: str
    labels: dict[str, LabelCounts] = field(default_factory=dict)
    texts_encoded: int = 0  # distinct texts that went through the model
    encode_seconds: float = 0.0  # time inside the model
    write_seconds: float = 0.0  # time writing vectors to the store
    seconds: float = 0.0  # wall time of the whole stage

    @property
    def texts_per_second(self) -> float:
        """Model throughput (distinct texts per second of encoding)."""
        return self.texts_encoded / self.encode_seconds if self.encode_seconds > 0 else 0.0

    @property
    def writes_per_second(self) -> float:
        written = sum(c.written for c in self.labels.values())
        return written / self.write_seconds if self.write_seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """Plain dict for logs and the CLI."""
        return {
            "model_id": self.model_id,
            "labels": {
                label: {**vars(c), "written": c.written} for label, c in self.labels.items()
            },
            "texts_encoded": self.texts_encoded,
            "texts_per_second": round(self.texts_per_second, 1),
            "writes_per_second": round(self.writes_per_second, 1),
            "seconds": round(self.seconds, 3),
        }


def vector_text(vector: np.ndarray) -> str:
    """A vector as comma-separated ``%.9g`` decimals: exact for float32, cheap to send.

    Subnormal values (below ~1.2e-38) become 0: FalkorDB's ``toFloat`` returns null for them.
    """
    array = np.asarray(vector, dtype=np.float32)
    array = np.where(np.abs(array) < np.finfo(np.float32).tiny, np.float32(0), array)
    return ",".join(map("{:.9g}".format, array.tolist()))


def _read_pages(store: GraphStore, label: str, page_size: int) -> Any:
    """Yield pages of ``{id, textHash, props}`` rows, keyset-paged by id."""
    query = cypher.render("read_node_texts", store.dialect, allowed=LABELS, label=label)
    after = ""
    while True:
        rows = store.run(query, {"after": after, "limit": page_size, "skip": _SKIP})
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]
        if len(rows) < page_size:
            return


def _count(store: GraphStore, label: str) -> int:
    query = cypher.render("count_label_nodes", store.dialect, allowed=LABELS, label=label)
    rows = store.run(query)
    return int(rows[0]["count"]) if rows else 0


def encode_store(
    store: GraphStore,
    encoder: Encoder,
    cache: EmbeddingCache,
    *,
    labels: Sequence[str] = ("Item", "User", "Entity"),
    batch_size: int = 64,
    write_batch_size: int = 256,
    read_page_size: int = 4096,
    progress: bool = True,
) -> EncodeReport:
    """Encode the text of every node of ``labels`` whose text changed; write vectors back.

    ``batch_size`` texts go through the model at once, ``write_batch_size`` vectors per write
    query, and nodes are read ``read_page_size`` at a time (which bounds memory).
    """
    if min(batch_size, write_batch_size, read_page_size) < 1:
        raise ValueError("batch sizes and the page size must be positive")
    for label in labels:
        if label not in LABELS:
            raise ValueError(f"cannot encode label {label!r}; choose from {sorted(LABELS)}")
    started = time.perf_counter()
    report = EncodeReport(model_id=encoder.model_id)
    for label in labels:
        counts = report.labels.setdefault(label, LabelCounts())
        write = cypher.render("write_text_embeddings", store.dialect, allowed=LABELS, label=label)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=_count(store, label), desc=f"encode {label}", unit="node")
        try:
            for page in _read_pages(store, label, read_page_size):
                _encode_page(
                    store,
                    encoder,
                    cache,
                    label,
                    page,
                    write,
                    counts,
                    report,
                    batch_size=batch_size,
                    write_batch_size=write_batch_size,
                )
                if bar is not None:
                    bar.update(len(page))
        finally:
            if bar is not None:
                bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _encode_page(
    store: GraphStore,
    encoder: Encoder,
    cache: EmbeddingCache,
    label: str,
    page: list[dict[str, Any]],
    write_query: str,
    counts: LabelCounts,
    report: EncodeReport,
    *,
    batch_size: int,
    write_batch_size: int,
) -> None:
    """Hash, look up, encode and write back one page of nodes."""
    pending: list[tuple[str, str]] = []  # (node id, text hash)
    texts: dict[str, str] = {}  # text hash -> text, each distinct text once
    for row in page:
        counts.seen += 1
        props = {key: value for key, value in row["props"]}
        text = node_text(label, props)
        if text is None:
            counts.without_text += 1
            continue
        key = text_hash(encoder.model_id, text)
        if row.get("textHash") == key:
            counts.unchanged += 1
            continue
        pending.append((row["id"], key))
        texts[key] = text
    if not pending:
        return

    vectors = cache.get_many(texts)
    missing = [key for key in texts if key not in vectors]
    if missing:
        tick = time.perf_counter()
        fresh = encoder.encode([texts[key] for key in missing], batch_size=batch_size)
        report.encode_seconds += time.perf_counter() - tick
        report.texts_encoded += len(missing)
        new = dict(zip(missing, fresh, strict=True))
        cache.put_many(new)
        vectors.update(new)
    missing_set = set(missing)
    for _node, key in pending:
        if key in missing_set:
            counts.encoded += 1
        else:
            counts.cached += 1

    rows = [
        {"id": node, "embedding": vector_text(vectors[key]), "hash": key} for node, key in pending
    ]
    tick = time.perf_counter()
    run_batched(store, write_query, rows, batch_size=write_batch_size)
    report.write_seconds += time.perf_counter() - tick


def read_texts(store: GraphStore, label: str, *, page_size: int = 4096) -> dict[str, str]:
    """``{node id: text}`` for every node of ``label`` with text, built as encoding builds it."""
    texts: dict[str, str] = {}
    for page in _read_pages(store, label, page_size):
        for row in page:
            text = node_text(label, {key: value for key, value in row["props"]})
            if text is not None:
                texts[row["id"]] = text
    return texts


def read_text_embeddings(
    store: GraphStore, label: str, *, page_size: int = 4096
) -> tuple[list[str], np.ndarray]:
    """Ids (sorted) and float32 matrix of the nodes of ``label`` that have a text embedding."""
    query = cypher.render("read_text_embeddings", store.dialect, allowed=LABELS, label=label)
    ids: list[str] = []
    vectors: list[list[float]] = []
    after = ""
    while True:
        rows = store.run(query, {"after": after, "limit": page_size})
        for row in rows:
            ids.append(row["id"])
            vectors.append(row["embedding"])
        if len(rows) < page_size:
            break
        after = rows[-1]["id"]
    if not ids:
        return ids, np.zeros((0, 0), dtype=np.float32)
    dimensions = {len(vector) for vector in vectors}
    if len(dimensions) > 1:
        raise DataValidationError(
            f"{label} text embeddings have mixed dimensions {sorted(dimensions)}; "
            "re-run the encode stage with one model",
            field="textEmbedding",
        )
    return ids, np.asarray(vectors, dtype=np.float32)
