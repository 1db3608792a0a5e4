"""Export from each real store (FalkorDB, Neo4j) round-trips ids, text, interactions, KG edges."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.graph.export import export_snapshot, relation_patterns


@pytest.fixture
def small_graph(store):
    store.run("UNWIND ['u2', 'u1', 'u3'] AS id CREATE (:User {id: id})")
    store.run(
        "UNWIND $rows AS row CREATE (i:Item {id: row.id}) "
        f"SET i.textEmbedding = {store.dialect.vector_value('row.v')}",
        {"rows": [{"id": "i1", "v": [1.0, 0.0, 0.5]}, {"id": "i3", "v": [0.0, 2.0, 0.0]}]},
    )
    store.run("CREATE (:Item {id: 'i2'})")
    store.run("UNWIND ['e1', 'e2'] AS id CREATE (:Entity {id: id})")
    store.run(
        "UNWIND $rows AS row MATCH (u:User {id: row.u}), (i:Item {id: row.i}) "
        "CREATE (u)-[:INTERACTED {rating: row.r, ts: row.ts}]->(i)",
        {
            "rows": [
                {"u": "u1", "i": "i1", "r": 5.0, "ts": 10},
                {"u": "u1", "i": "i2", "r": 3.0, "ts": 11},
                {"u": "u3", "i": "i3", "r": 4.0, "ts": 12},
            ]
        },
    )
    store.run("MATCH (i:Item {id: 'i1'}), (e:Entity {id: 'e2'}) CREATE (i)-[:DIRECTED_BY]->(e)")
    store.run("MATCH (i:Item {id: 'i3'}), (e:Entity {id: 'e1'}) CREATE (i)-[:DIRECTED_BY]->(e)")
    store.run("MATCH (a:Entity {id: 'e1'}), (b:Entity {id: 'e2'}) CREATE (a)-[:RELATED_TO]->(b)")
    store.run("MATCH (u:User {id: 'u2'}), (i:Item {id: 'i3'}) CREATE (u)-[:RECOMMENDED]->(i)")
    return store


def test_snapshot_round_trip(small_graph) -> None:
    snap = export_snapshot(small_graph, page_size=2, id_batch=1)  # force several pages
    assert snap.user_ids == ["u1", "u2", "u3"]
    assert snap.item_ids == ["i1", "i2", "i3"]
    assert snap.entity_ids == ["e1", "e2"]
    assert snap.text_dim == 3
    assert snap.has_text["Item"].tolist() == [True, False, True]
    np.testing.assert_allclose(snap.text["Item"][2], [0.0, 2.0, 0.0])
    assert not snap.text["Item"][1].any() and not snap.has_text["User"].any()
    inter = snap.interactions
    assert list(zip(inter.user.tolist(), inter.item.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (2, 2),
    ]
    assert inter.rating.tolist() == [5.0, 3.0, 4.0] and inter.ts.tolist() == [10, 11, 12]
    assert set(snap.kg_edges) == {
        ("Item", "DIRECTED_BY", "Entity"),
        ("Entity", "RELATED_TO", "Entity"),
    }
    src, dst = snap.kg_edges["Item", "DIRECTED_BY", "Entity"]
    assert src.tolist() == [0, 2] and dst.tolist() == [1, 0]
    assert snap.summary()["kg_edges"] == 3


def test_relation_patterns_skip_interactions_and_recommendations(small_graph) -> None:
    types = {rel for _, rel, _ in relation_patterns(small_graph)}
    assert types == {"DIRECTED_BY", "RELATED_TO"}
