"""A small movie graph in a real store and hand-chosen embeddings that match it.

    users   u1: i1 (ts 100), i2 (ts 200)     u2: i1, i3, i4     u3: i2, i5
            u4: i1 (new since training)      u5: no interactions (new since training)
    KG      i1, i6, i8 -DIRECTED_BY-> e_dir        i2, i5 -HAS_GENRE-> e_genre
    items   i7 is isolated; i8 was added after training (not in the embeddings)

For u1: collaborative = {i3, i4 (via u2), i5 (via u3)}; knowledge = {i6, i5, i8};
i6 is reachable only through the KG; i7 only through the catalogue fallback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph import cypher
from tailgraph.api.app import create_app
from tailgraph.api.vector_source import VectorSource
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.store import run_query
from tailgraph.settings import Settings

GRAPH = """
CREATE (u1:User {id: 'u1'}), (u2:User {id: 'u2'}), (u3:User {id: 'u3'}),
       (u4:User {id: 'u4'}), (u5:User {id: 'u5'}),
       (i1:Item {id: 'i1', title: 'One'}), (i2:Item {id: 'i2', title: 'Two'}),
       (i3:Item {id: 'i3', title: 'Three'}), (i4:Item {id: 'i4', title: 'Four'}),
       (i5:Item {id: 'i5', title: 'Five'}), (i6:Item {id: 'i6', title: 'Six'}),
       (i7:Item {id: 'i7', title: 'Seven'}), (i8:Item {id: 'i8', title: 'Eight'}),
       (ed:Entity {id: 'e_dir', name: 'A Director'}), (eg:Entity {id: 'e_genre', name: 'Drama'}),
       (u1)-[:INTERACTED {rating: 5.0, ts: 100}]->(i1),
       (u1)-[:INTERACTED {rating: 4.0, ts: 200}]->(i2),
       (u2)-[:INTERACTED {rating: 3.0, ts: 50}]->(i1),
       (u2)-[:INTERACTED {rating: 4.0, ts: 60}]->(i3),
       (u2)-[:INTERACTED {rating: 2.0, ts: 70}]->(i4),
       (u3)-[:INTERACTED {rating: 5.0, ts: 80}]->(i2),
       (u3)-[:INTERACTED {rating: 5.0, ts: 90}]->(i5),
       (u4)-[:INTERACTED {rating: 4.0, ts: 300}]->(i1),
       (i1)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(ed),
       (i6)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(ed),
       (i8)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(ed),
       (i2)-[:HAS_GENRE {relation: 'film.film.genre'}]->(eg),
       (i5)-[:HAS_GENRE {relation: 'film.film.genre'}]->(eg)
"""

# Scores for u1 = [1, 0, 0, 0]: i7 .95 > i3 .9 > i5 .7 > i6 .5 > i4 .2 (i1, i2 are seen).
ITEM_VECTORS = {
    "i1": [0.1, 1.0, 0.0, 0.0],
    "i2": [0.3, 0.0, 1.0, 0.0],
    "i3": [0.9, 0.1, 0.0, 0.0],
    "i4": [0.2, 0.0, 0.0, 1.0],
    "i5": [0.7, 0.0, 0.2, 0.0],
    "i6": [0.5, 0.5, 0.0, 0.0],
    "i7": [0.95, 0.0, 0.0, 0.1],
}
USER_VECTORS = {
    "u1": [1.0, 0.0, 0.0, 0.0],
    "u2": [0.0, 1.0, 0.0, 0.0],
    "u3": [0.0, 0.0, 1.0, 0.0],
}
# Training popularity: i3 is the blockbuster, i6 and i7 are tail items.
POPULARITY = {"i1": 50, "i2": 30, "i3": 100, "i4": 1, "i5": 2, "i6": 0, "i7": 0}


def make_embeddings() -> LearnedEmbeddings:
    item_ids = list(ITEM_VECTORS)
    user_ids = list(USER_VECTORS)
    return LearnedEmbeddings(
        model_name="hand-made",
        version="test-1",
        user_ids=user_ids,
        item_ids=item_ids,
        user=np.array([USER_VECTORS[u] for u in user_ids], dtype=np.float32),
        item=np.array([ITEM_VECTORS[i] for i in item_ids], dtype=np.float32),
        item_popularity=np.array([POPULARITY[i] for i in item_ids], dtype=np.int64),
    )


@pytest.fixture
def graph(store: FalkorDBStore) -> FalkorDBStore:
    """The store with the movie graph above written into it (entity counts as ingest leaves)."""
    store.run(GRAPH)
    run_query(store, "entity_item_counts")
    return store


def index_item_vectors(store: FalkorDBStore, dimension: int) -> VectorSource:
    """Write ``ITEM_VECTORS`` as the items' learned ``embedding`` and wait until the vector
    index answers (the one-statement path needs it)."""
    store.run(
        cypher.render("write_embeddings", store.dialect, label="Item"),
        {"rows": [{"id": i, "vector": v} for i, v in ITEM_VECTORS.items()], "version": "test-1"},
    )
    vectors = VectorSource()
    deadline = time.monotonic() + 30
    while not vectors.ready(store, dimension):
        assert time.monotonic() < deadline, "the vector index never became operational"
        time.sleep(0.2)
    return vectors


@pytest.fixture
def embeddings() -> LearnedEmbeddings:
    return make_embeddings()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that read no environment and point at an empty artefacts directory."""
    return Settings(
        _env_file=None, store="falkordb", artefacts_dir=tmp_path / "artefacts", data_dir=tmp_path
    )


@pytest.fixture
def client(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=graph, embeddings=embeddings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def encoder() -> object:
    """The real BERT encoder (all-MiniLM-L6-v2 from the installed package), loaded once."""
    from tailgraph.encoders.bert import TextEncoder

    return TextEncoder(device="cpu", max_length=32)


@pytest.fixture
def text_graph(graph: FalkorDBStore, encoder: object) -> FalkorDBStore:
    """The movie graph with every item's title encoded into ``textEmbedding``."""
    from tailgraph import cypher

    rows = graph.run("MATCH (i:Item) RETURN i.id AS id, i.title AS title ORDER BY id")
    vectors = encoder.encode([row["title"] for row in rows])  # type: ignore[attr-defined]
    graph.run(
        "UNWIND $rows AS row MATCH (i:Item {id: row.id}) "
        f"SET i.textEmbedding = {graph.dialect.vector_value('row.vector')}",
        {
            "rows": [
                {"id": r["id"], "vector": v.tolist()} for r, v in zip(rows, vectors, strict=True)
            ]
        },
    )
    assert cypher.load("read_text_embeddings")
    return graph


@pytest.fixture
def text_client(
    settings: Settings, text_graph: FalkorDBStore, embeddings: LearnedEmbeddings, encoder: object
) -> Iterator[TestClient]:
    """A client whose app has the real encoder and item text embeddings."""
    app = create_app(settings, store=text_graph, embeddings=embeddings, text_encoder=encoder)
    with TestClient(app) as test_client:
        yield test_client
