"""The encode stage on a small real FalkorDB graph with the real all-MiniLM-L6-v2 model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tailgraph import cypher
from tailgraph.encoders.bert import TextEncoder
from tailgraph.encoders.cache import EmbeddingCache, text_hash
from tailgraph.encoders.stage import LABELS, encode_store, read_text_embeddings, vector_text
from tailgraph.encoders.text import node_text
from tailgraph.graph.falkordb_store import FalkorDBStore

GRAPH = """
CREATE (:Item {id: 'i1', title: 'Toy Story', year: 1995, genres: ['Animation', 'Comedy']}),
       (:Item {id: 'i2', title: 'Heat', year: 1995, text: 'A detective hunts a crew of thieves.'}),
       (:Item {id: 'i3', title: 'Apollo 13', year: 1995, genres: ['Drama']}),
       (:User {id: 'u1', age: 24, gender: 'M', occupation: 'technician'}),
       (:User {id: 'u2', age: 24, gender: 'M', occupation: 'technician'}),
       (:User {id: 'u3'}),
       (:Entity {id: 'e1', name: 'Tom Hanks'}),
       (:Entity {id: 'e2'})
"""


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(device="cpu")


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as embedding_cache:
        yield embedding_cache


def _encode(store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache):
    return encode_store(
        store, encoder, cache, batch_size=2, write_batch_size=2, read_page_size=2, progress=False
    )


def test_first_run_writes_unit_vectors_and_hashes(
    store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache
) -> None:
    store.run(GRAPH)
    report = _encode(store, encoder, cache)

    counts = report.summary()["labels"]
    assert counts["Item"] == {
        "seen": 3, "encoded": 3, "cached": 0, "unchanged": 0, "without_text": 0, "written": 3
    }  # fmt: skip
    assert counts["User"] == {
        "seen": 3, "encoded": 2, "cached": 0, "unchanged": 0, "without_text": 1, "written": 2
    }  # fmt: skip
    assert counts["Entity"]["encoded"] == 1 and counts["Entity"]["without_text"] == 1
    # u1 and u2 share a text, which the model sees once.
    assert report.texts_encoded == 5
    assert report.texts_per_second > 0 and report.seconds > 0

    ids, matrix = read_text_embeddings(store, "Item", page_size=2)
    assert ids == ["i1", "i2", "i3"]
    assert matrix.shape == (3, 384) and matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)

    rows = store.run("MATCH (n:Item) RETURN n.id AS id, properties(n) AS p ORDER BY id")
    texts = [node_text("Item", row["p"]) for row in rows]
    assert [row["p"]["textHash"] for row in rows] == [text_hash(encoder.model_id, t) for t in texts]
    # What was stored is what the model computes for these texts. Not bit for bit: the stage
    # batches them with the other labels' texts, and other padding moves float32 by ~1e-7.
    np.testing.assert_allclose(matrix, encoder.encode(texts), rtol=0, atol=2e-6)

    user_ids, _ = read_text_embeddings(store, "User")
    entity_ids, _ = read_text_embeddings(store, "Entity")
    assert user_ids == ["u1", "u2"] and entity_ids == ["e1"]


def test_second_run_skips_everything_and_a_changed_title_is_re_encoded(
    store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache
) -> None:
    store.run(GRAPH)
    _encode(store, encoder, cache)
    _, before = read_text_embeddings(store, "Item")

    again = _encode(store, encoder, cache)
    assert again.texts_encoded == 0
    assert {label: c.written for label, c in again.labels.items()} == dict.fromkeys(LABELS, 0)
    assert again.labels["Item"].unchanged == 3 and again.labels["User"].unchanged == 2

    store.run("MATCH (n:Item {id: 'i3'}) SET n.title = 'Gravity', n.year = 2013")
    changed = _encode(store, encoder, cache)
    assert changed.labels["Item"].encoded == 1 and changed.labels["Item"].unchanged == 2
    assert changed.texts_encoded == 1
    _, after = read_text_embeddings(store, "Item")
    np.testing.assert_array_equal(after[:2], before[:2])
    assert float(after[2] @ before[2]) < 0.99
    np.testing.assert_allclose(after[2], encoder.encode(["Gravity (2013). Genres: Drama."])[0])


def test_cleared_store_is_refilled_from_the_cache(
    store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache
) -> None:
    store.run(GRAPH)
    _encode(store, encoder, cache)
    _, first = read_text_embeddings(store, "Item")

    store.clear()
    store.run(GRAPH)
    refill = _encode(store, encoder, cache)
    assert refill.texts_encoded == 0
    assert refill.labels["Item"].cached == 3 and refill.labels["User"].cached == 2
    assert refill.labels["Entity"].cached == 1
    _, second = read_text_embeddings(store, "Item")
    np.testing.assert_array_equal(second, first)


def test_progress_bars_and_larger_batches(
    store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache
) -> None:
    store.run(GRAPH)
    report = encode_store(store, encoder, cache, labels=("Entity",), progress=True)
    assert report.labels["Entity"].seen == 2 and report.labels["Entity"].encoded == 1
    assert set(report.labels) == {"Entity"}


def test_write_query_keeps_tiny_and_negative_values_exact(store: FalkorDBStore) -> None:
    store.run("CREATE (:Entity {id: 'e1', name: 'x'})")
    vector = np.array([1e-7, -3.25e-5, 0.123456789, -1.0, 0.0, 5e-39], dtype=np.float32)
    query = cypher.render("write_text_embeddings", store.dialect, allowed=LABELS, label="Entity")
    rows = store.run(query, {"rows": [{"id": "e1", "embedding": vector_text(vector), "hash": "h"}]})
    assert rows == [{"written": 1}]
    _, matrix = read_text_embeddings(store, "Entity")
    vector[-1] = 0.0  # subnormals are flushed to zero
    np.testing.assert_array_equal(matrix[0], vector)


def test_empty_label_and_unknown_label(
    store: FalkorDBStore, encoder: TextEncoder, cache: EmbeddingCache
) -> None:
    ids, matrix = read_text_embeddings(store, "Item")
    assert ids == [] and matrix.shape == (0, 0)
    with pytest.raises(ValueError, match="cannot encode label 'Genre'"):
        encode_store(store, encoder, cache, labels=("Genre",), progress=False)
