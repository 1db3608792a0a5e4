"""End to end on a real Neo4j 5: ingest, the Cypher library, the vector dialect, training.

By default it runs on the project's local Neo4j (neo4j-launcher, started once per test session);
with ``TAILGRAPH_NEO4J_URI`` set it runs on that server instead (docker compose, Aura), e.g.::

    docker compose up -d neo4j
    TAILGRAPH_NEO4J_URI=neo4j://localhost:7687 TAILGRAPH_NEO4J_PASSWORD=... \
        .venv/bin/pytest -m neo4j tests/test_neo4j_e2e.py

It writes a tiny dataset and deletes everything afterwards, so it refuses (skips) a given server
whose database is not empty. Every library query must give Neo4j the same rows as embedded
FalkorDB, and a model trained from either store must score the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tailgraph import cypher
from tailgraph.graph.dialect import NEO4J
from tailgraph.graph.records import Dataset, Interaction, Triple
from tailgraph.graph.store import GraphStore

pytestmark = pytest.mark.neo4j

RECOMMENDED = [
    ("u1", "i4", 0.9, 1, "lightgcn"),
    ("u1", "i5", 0.8, 2, "lightgcn"),
    ("u3", "i4", 0.7, 1, "kgat"),
    ("u4", "i5", 0.6, 1, "lightgcn"),
    ("u4", "i2", 0.5, 2, "lightgcn"),
]

PARAMETERS: dict[str, dict[str, Any]] = {
    "lib_user_neighbourhood": {"user_id": "u1", "limit": 10},
    "lib_why_recommended": {
        "user_id": "u1",
        "item_id": "i4",
        "limit": 10,
        "max_raters": 200,
        "max_entity_items": 1000,
    },
    "lib_tail_items_surfaced": {"max_interactions": 3, "model": None, "limit": 10},
    "lib_coverage_holes": {"limit": 10},
    "lib_entity_hubs": {"limit": 10},
    "lib_similar_users": {"user_id": "u1", "limit": 10},
}


def tiny_dataset() -> Dataset:
    """The graph of tests/test_cypher_library.py, as a loader would produce it."""
    ratings = {
        "u1": {"i1": 5.0, "i2": 4.0, "i3": 3.0},
        "u2": {"i1": 4.0, "i2": 2.0, "i4": 5.0},
        "u3": {"i1": 3.0, "i5": 4.0},
        "u4": {"i6": 1.0},
    }
    titles = ["One", "Two", "Three", "Four", "Five", "Six", "Seven"]
    return Dataset(
        name="e2e",
        users=[{"id": user} for user in ratings],
        items=[{"id": f"i{n}", "title": title} for n, title in enumerate(titles, start=1)],
        entities=[
            {"id": "e1", "name": "Director A"},
            {"id": "e2", "name": "Drama"},
            {"id": "e3", "name": "Actor C"},
        ],
        interactions=[
            Interaction(user, item, rating, float(ts))
            for user, items in ratings.items()
            for ts, (item, rating) in enumerate(items.items())
        ],
        triples=[
            Triple("i1", "film.film.directed_by", "e1", "Item", "Entity"),
            Triple("i4", "film.film.directed_by", "e1", "Item", "Entity"),
            *(
                Triple(i, "film.film.genre", "e2", "Item", "Entity")
                for i in ("i1", "i2", "i4", "i5")
            ),
            Triple("i2", "film.film.starring", "e3", "Item", "Entity"),
            Triple("e3", "film.actor.film", "i4", "Entity", "Item"),
            Triple("e1", "people.person.worked_with", "e3", "Entity", "Entity"),
        ],
    )


def load(store: GraphStore) -> None:
    from tailgraph.graph.ingest import ingest  # written alongside; imported when used

    ingest(store, tiny_dataset(), progress=False)
    store.run(
        "UNWIND $rows AS row MATCH (u:User {id: row.user}), (i:Item {id: row.item}) "
        "MERGE (u)-[r:RECOMMENDED {model: row.model}]->(i) "
        "SET r.score = row.score, r.rank = row.rank",
        {
            "rows": [
                {"user": u, "item": i, "score": s, "rank": k, "model": m}
                for u, i, s, k, m in RECOMMENDED
            ]
        },
    )


@pytest.fixture(scope="module")
def e2e_store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """The tiny dataset on the server at TAILGRAPH_NEO4J_URI, else on the local Neo4j."""
    from tailgraph.graph.connect import open_store
    from tailgraph.settings import Settings

    if os.environ.get("TAILGRAPH_NEO4J_URI"):
        store = open_store(Settings(store="neo4j"))
        if not store.ping():
            uri = os.environ["TAILGRAPH_NEO4J_URI"]
            pytest.fail(f"TAILGRAPH_NEO4J_URI is set but Neo4j does not answer at {uri}")
        if store.run("MATCH (n) RETURN count(n) AS n")[0]["n"]:
            store.close()
            pytest.skip("the Neo4j database is not empty; this test deletes what it wrote")
    else:
        from tests.conftest import neo4j_store_for, reset_neo4j

        store = neo4j_store_for(request.getfixturevalue("neo4j_server"))
        reset_neo4j(store)
    try:
        load(store)
        yield store
    finally:
        store.clear()
        store.close()


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else value
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def test_ingest_wrote_the_dataset(e2e_store: GraphStore) -> None:
    nodes = {
        r["label"]: r["n"]
        for r in e2e_store.run("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")
    }
    assert nodes == {"User": 4, "Item": 7, "Entity": 3}
    constraints = e2e_store.run("SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type")
    unique = {
        c["labelsOrTypes"][0]
        for c in constraints
        if "UNIQUENESS" in c["type"]
        and "RELATIONSHIP" not in c["type"]
        and c["properties"] == ["id"]
    }
    assert unique == {"User", "Item", "Entity"}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_library_gives_neo4j_and_falkordb_the_same_rows(
    e2e_store: GraphStore, falkordb_store: GraphStore, name: str
) -> None:
    load(falkordb_store)
    parameters = PARAMETERS[name]
    on_neo4j = e2e_store.run(cypher.load(name), parameters)
    on_falkordb = falkordb_store.run(cypher.load(name), parameters)
    assert on_neo4j, f"{name} returned nothing on Neo4j"
    assert rounded(on_neo4j) == rounded(on_falkordb)


def test_every_library_query_has_e2e_parameters() -> None:
    assert {n for n in cypher.available() if n.startswith("lib_")} <= set(PARAMETERS)


def test_similar_users_on_neo4j(e2e_store: GraphStore) -> None:
    rows = e2e_store.run(cypher.load("lib_similar_users"), {"user_id": "u1", "limit": 10})
    assert [(r["user_id"], r["shared"], r["union_size"]) for r in rows] == [
        ("u2", 2, 4),
        ("u3", 1, 4),
    ]
    assert [r["jaccard"] for r in rows] == pytest.approx([0.5, 0.25])


def test_neo4j_vector_index_yields_cosine_similarity(e2e_store: GraphStore) -> None:
    vectors = {"i1": [1.0, 0.0, 0.0], "i2": [1.0, 1.0, 0.0], "i3": [-1.0, 0.0, 0.0]}
    e2e_store.run(
        "UNWIND $rows AS row MATCH (n:Item {id: row.id}) "
        f"SET n.probeVector = {NEO4J.vector_value('row.vector')}",
        {"rows": [{"id": k, "vector": v} for k, v in vectors.items()]},
    )
    e2e_store.ensure_vector_index("Item", "probeVector", 3)
    try:
        e2e_store.run("CALL db.awaitIndexes(60)")
        query = NEO4J.vector_query("Item", "probeVector", "$k", "$vector")
        rows = e2e_store.run(
            query + " RETURN node.id AS id, similarity ORDER BY similarity DESC",
            {"k": 3, "vector": [2.0, 0.0, 0.0]},
        )
    finally:
        e2e_store.drop_vector_index("Item", "probeVector")
        e2e_store.run("MATCH (n:Item) REMOVE n.probeVector")
    assert [r["id"] for r in rows] == ["i1", "i2", "i3"]
    assert [r["similarity"] for r in rows] == pytest.approx([1.0, 1 / math.sqrt(2), -1.0], abs=1e-5)


def test_a_model_trained_from_either_store_scores_the_same(
    falkordb_store: GraphStore, neo4j_store: GraphStore, tmp_path
) -> None:
    """Same data and seed, one training run per store: the exported snapshots are identical,
    so the test metrics are too (the demo's FalkorDB and Neo4j numbers agree for this reason)."""
    from tailgraph import stages
    from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
    from tailgraph.settings import Settings

    dataset = generate(
        SyntheticConfig(
            n_users=60, n_items=40, n_interactions=600, n_entities=20, n_triples=80, seed=3
        )
    )
    metrics = {}
    for name, store in (("falkordb", falkordb_store), ("neo4j", neo4j_store)):
        stages.ingest(store, dataset)
        settings = Settings(_env_file=None, artefacts_dir=tmp_path / name, data_dir=tmp_path)
        outcome = stages.train(settings, store, model="tailgnn", epochs=3, seed=1)
        metrics[name] = outcome.metrics
    assert metrics["neo4j"].keys() == metrics["falkordb"].keys()
    assert metrics["neo4j"] == pytest.approx(metrics["falkordb"], abs=5e-5)
