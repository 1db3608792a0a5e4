"""PUT /items/{id}: create or replace an item added through the API, atomically; and the new
item's KG similarity read from bounded, aggregated queries equals the full computation."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.new_items import kg_similarities
from tailgraph.errors import StoreUnavailableError
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.transfer import entity_weights
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

COUNT = "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r"
ITEM = {
    "item_id": "i9",
    "title": "Seven",
    "text": "a detective story",
    "links": [{"entity_id": "e_dir", "relation": "DIRECTED_BY"}],
}
REPLACED = {
    "item_id": "i9",
    "title": "Five again",
    "links": [{"entity_id": "e_genre", "relation": "HAS_GENRE"}],
}
STATE = (
    "MATCH (i:Item {id: 'i9'}) OPTIONAL MATCH (i)-[r]-(e:Entity) "
    "RETURN i.title AS title, i.text AS text, i.pendingWrite AS pending, "
    "collect(type(r) + ' ' + e.id) AS links"
)
ENTITY_COUNTS = "MATCH (e:Entity) RETURN e.id AS e, e.itemCount AS n ORDER BY e"


def test_put_creates_then_a_retry_changes_nothing(
    text_client: TestClient, graph: FalkorDBStore
) -> None:
    first = text_client.put("/items/i9", json=ITEM)
    assert first.status_code == 201, first.text
    assert first.json()["links"] == 1
    before = graph.run(COUNT)
    again = text_client.put("/items/i9", json=ITEM)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert graph.run(COUNT) == before
    # POST and PUT of the same body are one and the same write
    assert text_client.post("/items", json=ITEM).status_code == 200


def test_put_replaces_title_text_links_and_vector(
    text_client: TestClient, graph: FalkorDBStore
) -> None:
    vectors = "MATCH (i:Item {id: 'i9'}) RETURN i.embedding AS v, i.textEmbedding AS t"
    assert text_client.put("/items/i9", json=ITEM).status_code == 201
    [old] = graph.run(vectors)
    response = text_client.put("/items/i9", json=REPLACED)
    assert response.status_code == 200, response.text
    assert response.json()["links"] == 1
    assert graph.run(STATE) == [
        {"title": "Five again", "text": None, "pending": None, "links": ["HAS_GENRE e_genre"]}
    ]
    counts = {row["e"]: row["n"] for row in graph.run(ENTITY_COUNTS)}
    assert counts == {"e_dir": 3, "e_genre": 3}  # i9 left e_dir and joined e_genre
    [new] = graph.run(vectors)
    assert not np.allclose(old["v"], new["v"]) and not np.allclose(old["t"], new["t"])
    # the loaded model serves the new vector at once: u1 = [1, 0, 0, 0] scores its first part
    recs = text_client.get("/users/u1/recommendations", params={"k": 20}).json()
    served = next(item for item in recs["items"] if item["item_id"] == "i9")
    assert abs(served["model_score"] - new["v"][0]) < 1e-4
    assert text_client.get("/items/i9/similar").status_code == 200
    # the replaced body is now the item's: a POST of it is a retry, the old one a conflict
    assert text_client.post("/items", json=REPLACED).status_code == 200
    assert text_client.post("/items", json=ITEM).status_code == 409


def test_put_errors_write_nothing(text_client: TestClient, graph: FalkorDBStore) -> None:
    before = graph.run(COUNT)
    mismatch = text_client.put("/items/other", json=ITEM)
    assert mismatch.status_code == 422
    assert "differs from 'other' in the path" in mismatch.json()["detail"]
    ingested = text_client.put("/items/i1", json={**ITEM, "item_id": "i1"})
    assert ingested.status_code == 409
    assert "loaded by ingest" in ingested.json()["detail"]
    unknown = text_client.put(
        "/items/i9", json={**ITEM, "links": [{"entity_id": "nope", "relation": "HAS_GENRE"}]}
    )
    assert unknown.status_code == 404
    assert graph.run(COUNT) == before
    assert graph.run("MATCH (i:Item {id: 'i1'}) RETURN i.title AS t") == [{"t": "One"}]


class _FailingNewLinks:
    """The real store, failing like a dying server when the replacing links are written."""

    def __init__(self, store: FalkorDBStore) -> None:
        self._store = store
        self.dialect = store.dialect
        self.armed = False

    def run(self, query, parameters=None, *, read_only=False):
        if self.armed and "MERGE (i)-[r:HAS_GENRE]" in query:
            raise StoreUnavailableError("FalkorDB is not reachable: Connection closed by server")
        return self._store.run(query, parameters, read_only=read_only)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def test_a_failed_replace_puts_the_previous_version_back(
    settings: Settings, text_graph: FalkorDBStore, embeddings: LearnedEmbeddings, encoder: object
) -> None:
    failing = _FailingNewLinks(text_graph)
    app = create_app(settings, store=failing, embeddings=embeddings, text_encoder=encoder)
    vector = "MATCH (i:Item {id: 'i9'}) RETURN i.embedding AS v, i.payloadHash AS h"
    with TestClient(app) as client:
        assert client.put("/items/i9", json=ITEM).status_code == 201
        before = (text_graph.run(COUNT), text_graph.run(STATE), text_graph.run(ENTITY_COUNTS))
        [old] = text_graph.run(vector)
        failing.armed = True
        response = client.put("/items/i9", json=REPLACED)
        assert response.status_code == 503
        after = (text_graph.run(COUNT), text_graph.run(STATE), text_graph.run(ENTITY_COUNTS))
        assert after == before
        [restored] = text_graph.run(vector)
        assert restored["h"] == old["h"] and np.allclose(restored["v"], old["v"])
        assert client.post("/items", json=ITEM).status_code == 200  # still the old item
        failing.armed = False
        assert client.put("/items/i9", json=REPLACED).status_code == 200
    assert text_graph.run(STATE)[0]["links"] == ["HAS_GENRE e_genre"]


def test_kg_similarity_from_aggregated_rows_equals_the_full_computation(
    graph: FalkorDBStore,
) -> None:
    """Cosine of 1/log(1+itemCount)-weighted entity sets, computed here from every link."""
    graph.run(
        "MATCH (i:Item {id: 'i1'}), (e:Entity {id: 'e_genre'}) "
        "CREATE (i)-[:HAS_GENRE]->(e), (e)-[:GENRE_OF]->(i)"  # both directions: one entity
    )
    graph.run(
        "MATCH (e:Entity) OPTIONAL MATCH (e)--(i:Item) "
        "WITH e, count(DISTINCT i) AS n SET e.itemCount = n"
    )
    own = ["e_dir", "e_genre"]
    candidates = ["i1", "i2", "i5", "i6", "i7", "i8"]
    got = kg_similarities(graph, "new", own, candidates)
    links = graph.run(
        "MATCH (i:Item)--(e:Entity) RETURN DISTINCT i.id AS i, e.id AS e, e.itemCount AS n"
    )
    degree = {row["e"]: row["n"] for row in links}
    weight = {e: float(entity_weights(np.array([d]))[0]) for e, d in degree.items()}
    expected = []
    for candidate in candidates:
        theirs = {row["e"] for row in links if row["i"] == candidate}
        norm = np.sqrt(sum(weight[e] ** 2 for e in own)) * np.sqrt(
            sum(weight[e] ** 2 for e in theirs)
        )
        shared = sum(weight[e] ** 2 for e in set(own) & theirs)
        expected.append(shared / norm if norm else 0.0)
    assert np.allclose(got, expected, atol=1e-6)
    assert got[candidates.index("i7")] == 0.0  # no links
    assert 0 < got[candidates.index("i6")] < got[candidates.index("i1")] < 1.0001
