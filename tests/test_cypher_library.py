"""The data engineers' Cypher library (``cypher/lib_*.cypher``) run on a real store.

The graph below is small enough to compute every expected row by hand:

    u1 -INTERACTED-> i1 (5.0), i2 (4.0), i3 (3.0)
    u2 -INTERACTED-> i1 (4.0), i2 (2.0), i4 (5.0)
    u3 -INTERACTED-> i1 (3.0), i5 (4.0)
    u4 -INTERACTED-> i6 (1.0)                     i7: no interactions
    i1 -DIRECTED_BY-> e1 <-DIRECTED_BY- i4
    i1, i2, i4, i5 -HAS_GENRE-> e2
    i2 -STARRING-> e3 -STARRED_IN-> i4            (KG edges in both directions)
    e1 -WORKED_WITH-> e3                          (entity-entity: never counted as an item link)
    RECOMMENDED: u1->i4 (rank 1, lightgcn), u1->i5 (rank 2, lightgcn), u3->i4 (rank 1, kgat),
                 u4->i5 (rank 1, lightgcn), u4->i2 (rank 2, lightgcn)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tailgraph import cypher
from tailgraph.graph.store import GraphStore, run_query

LIBRARY = [name for name in cypher.available() if name.startswith("lib_")]
BROWSE = Path(__file__).resolve().parents[1] / "docs" / "browse.md"
DOC_QUERIES = re.findall(
    r"^```cypher\n(.*?)^```", BROWSE.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL
)

GRAPH = """
CREATE (u1:User {id: 'u1'}), (u2:User {id: 'u2'}), (u3:User {id: 'u3'}), (u4:User {id: 'u4'}),
       (i1:Item {id: 'i1', title: 'One'}), (i2:Item {id: 'i2', title: 'Two'}),
       (i3:Item {id: 'i3', title: 'Three'}), (i4:Item {id: 'i4', title: 'Four'}),
       (i5:Item {id: 'i5', title: 'Five'}), (i6:Item {id: 'i6', title: 'Six'}),
       (i7:Item {id: 'i7', title: 'Seven'}),
       (e1:Entity {id: 'e1', name: 'Director A'}), (e2:Entity {id: 'e2', name: 'Drama'}),
       (e3:Entity {id: 'e3', name: 'Actor C'}),
       (u1)-[:INTERACTED {rating: 5.0, ts: 1}]->(i1), (u1)-[:INTERACTED {rating: 4.0, ts: 2}]->(i2),
       (u1)-[:INTERACTED {rating: 3.0, ts: 3}]->(i3),
       (u2)-[:INTERACTED {rating: 4.0, ts: 1}]->(i1), (u2)-[:INTERACTED {rating: 2.0, ts: 2}]->(i2),
       (u2)-[:INTERACTED {rating: 5.0, ts: 3}]->(i4),
       (u3)-[:INTERACTED {rating: 3.0, ts: 1}]->(i1), (u3)-[:INTERACTED {rating: 4.0, ts: 2}]->(i5),
       (u4)-[:INTERACTED {rating: 1.0, ts: 1}]->(i6),
       (i1)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(e1),
       (i4)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(e1),
       (i1)-[:HAS_GENRE {relation: 'film.film.genre'}]->(e2),
       (i2)-[:HAS_GENRE {relation: 'film.film.genre'}]->(e2),
       (i4)-[:HAS_GENRE {relation: 'film.film.genre'}]->(e2),
       (i5)-[:HAS_GENRE {relation: 'film.film.genre'}]->(e2),
       (i2)-[:STARRING {relation: 'film.film.starring'}]->(e3),
       (e3)-[:STARRED_IN {relation: 'film.actor.film'}]->(i4),
       (e1)-[:WORKED_WITH {relation: 'people.person.worked_with'}]->(e3),
       (u1)-[:RECOMMENDED {score: 0.9, rank: 1, model: 'lightgcn'}]->(i4),
       (u1)-[:RECOMMENDED {score: 0.8, rank: 2, model: 'lightgcn'}]->(i5),
       (u3)-[:RECOMMENDED {score: 0.7, rank: 1, model: 'kgat'}]->(i4),
       (u4)-[:RECOMMENDED {score: 0.6, rank: 1, model: 'lightgcn'}]->(i5),
       (u4)-[:RECOMMENDED {score: 0.5, rank: 2, model: 'lightgcn'}]->(i2)
"""


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    store.run(GRAPH)
    run_query(store, "entity_item_counts")  # as ingest does
    return store


def run(store: GraphStore, name: str, **parameters: Any) -> list[dict[str, Any]]:
    return store.run(cypher.load(name), parameters)


def test_library_is_present() -> None:
    assert {
        "lib_user_neighbourhood",
        "lib_why_recommended",
        "lib_tail_items_surfaced",
        "lib_coverage_holes",
        "lib_entity_hubs",
        "lib_similar_users",
    } <= set(LIBRARY)


@pytest.mark.parametrize("name", LIBRARY)
def test_every_library_file_documents_itself(name: str) -> None:
    head = cypher.header(name)
    lines = head.splitlines()
    assert lines and lines[0].startswith("Purpose:"), f"{name}: header must open with Purpose:"
    assert any(line.startswith("Parameters:") for line in lines), f"{name}: no Parameters line"
    assert any(line.startswith("Returns:") for line in lines), f"{name}: no Returns line"
    # Every $parameter in the body is documented in the header.
    body = "\n".join(
        line for line in cypher.load(name).splitlines() if not line.lstrip().startswith("//")
    )
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", body))
    documented = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", head))
    assert used <= documented, f"{name}: undocumented parameters {sorted(used - documented)}"
    assert not cypher.placeholders(name), f"{name}: library queries take no identifiers"


def test_user_neighbourhood(graph: GraphStore) -> None:
    rows = run(graph, "lib_user_neighbourhood", user_id="u1", limit=10)
    assert rows == [
        {
            "item_id": "i1",
            "title": "One",
            "rating": 5.0,
            "entities": [
                {"relation": "DIRECTED_BY", "id": "e1", "name": "Director A"},
                {"relation": "HAS_GENRE", "id": "e2", "name": "Drama"},
            ],
            "co_users": ["u2", "u3"],
        },
        {
            "item_id": "i2",
            "title": "Two",
            "rating": 4.0,
            "entities": [
                {"relation": "HAS_GENRE", "id": "e2", "name": "Drama"},
                {"relation": "STARRING", "id": "e3", "name": "Actor C"},
            ],
            "co_users": ["u2"],
        },
        {"item_id": "i3", "title": "Three", "rating": 3.0, "entities": [], "co_users": []},
    ]


def test_user_neighbourhood_is_bounded_by_limit(graph: GraphStore) -> None:
    rows = run(graph, "lib_user_neighbourhood", user_id="u1", limit=1)
    assert rows == [
        {
            "item_id": "i1",
            "title": "One",
            "rating": 5.0,
            "entities": [{"relation": "DIRECTED_BY", "id": "e1", "name": "Director A"}],
            "co_users": ["u2"],
        }
    ]
    assert run(graph, "lib_user_neighbourhood", user_id="nobody", limit=5) == []


def test_why_recommended(graph: GraphStore) -> None:
    rows = run(graph, "lib_why_recommended", user_id="u1", item_id="i4", limit=10, max_raters=200,
               max_entity_items=1000)  # fmt: skip
    entity_rows = [
        (r["via_item"], r["via_title"], r["via_id"], r["via_name"], r["relations"],
         r["entity_items"])
        for r in rows
        if r["kind"] == "entity"
    ]  # fmt: skip
    # the director and the actor link 2 items each, the genre 4: the specific ones first
    assert entity_rows == [
        ("i1", "One", "e1", "Director A", ["DIRECTED_BY", "DIRECTED_BY"], 2),
        ("i2", "Two", "e3", "Actor C", ["STARRING", "STARRED_IN"], 2),
        ("i1", "One", "e2", "Drama", ["HAS_GENRE", "HAS_GENRE"], 4),
        ("i2", "Two", "e2", "Drama", ["HAS_GENRE", "HAS_GENRE"], 4),
    ]
    user_rows = [r for r in rows if r["kind"] == "user"]
    assert user_rows == [
        {
            "kind": "user",
            "via_item": "i1",
            "via_title": "One",
            "via_id": "u2",
            "via_name": None,
            "relations": ["INTERACTED", "INTERACTED"],
            "support": 2,
            "entity_items": None,
        }
    ]
    assert [r["kind"] for r in rows] == ["entity"] * 4 + ["user"]
    # entities linking more than max_entity_items items (the genre, 4) are not paths
    rows = run(graph, "lib_why_recommended", user_id="u1", item_id="i4", limit=10, max_raters=200,
               max_entity_items=3)  # fmt: skip
    assert [r["via_id"] for r in rows if r["kind"] == "entity"] == ["e1", "e3"]


def test_why_recommended_is_bounded_per_kind(graph: GraphStore) -> None:
    rows = run(graph, "lib_why_recommended", user_id="u1", item_id="i4", limit=1, max_raters=9,
               max_entity_items=1000)  # fmt: skip
    assert [(r["kind"], r["via_item"], r["via_id"]) for r in rows] == [
        ("entity", "i1", "e1"),
        ("user", "i1", "u2"),
    ]
    # u4 shares nothing with i6's neighbourhood: no explanation at all.
    assert run(graph, "lib_why_recommended", user_id="u4", item_id="i1", limit=5,
               max_raters=9, max_entity_items=1000) == []  # fmt: skip
    # the 'user' kind reads only the item's first max_raters raters (i5's: u3 only)
    rows = run(graph, "lib_why_recommended", user_id="u2", item_id="i5", limit=5, max_raters=1,
               max_entity_items=1000)  # fmt: skip
    assert [r["via_id"] for r in rows if r["kind"] == "user"] == ["u3"]
    rows = run(graph, "lib_why_recommended", user_id="u2", item_id="i5", limit=5, max_raters=0,
               max_entity_items=1000)  # fmt: skip
    assert [r["via_id"] for r in rows if r["kind"] == "user"] == []


def test_tail_items_surfaced_all_models(graph: GraphStore) -> None:
    rows = run(graph, "lib_tail_items_surfaced", max_interactions=2, model=None, limit=10)
    assert rows == [
        {"item_id": "i4", "title": "Four", "interactions": 1, "recommended_to": 2, "best_rank": 1},
        {"item_id": "i5", "title": "Five", "interactions": 1, "recommended_to": 2, "best_rank": 1},
    ]
    wider = run(graph, "lib_tail_items_surfaced", max_interactions=3, model=None, limit=10)
    assert [(r["item_id"], r["recommended_to"], r["interactions"]) for r in wider] == [
        ("i4", 2, 1),
        ("i5", 2, 1),
        ("i2", 1, 2),
    ]


def test_tail_items_surfaced_per_model(graph: GraphStore) -> None:
    rows = run(graph, "lib_tail_items_surfaced", max_interactions=3, model="lightgcn", limit=10)
    got = [(r["item_id"], r["recommended_to"], r["interactions"], r["best_rank"]) for r in rows]
    assert got == [
        ("i5", 2, 1, 1),
        ("i4", 1, 1, 1),
        ("i2", 1, 2, 2),
    ]
    kgat = run(graph, "lib_tail_items_surfaced", max_interactions=3, model="kgat", limit=10)
    assert [(r["item_id"], r["recommended_to"]) for r in kgat] == [("i4", 1)]
    limited = run(graph, "lib_tail_items_surfaced", max_interactions=3, model=None, limit=1)
    assert [r["item_id"] for r in limited] == ["i4"]


def test_coverage_holes(graph: GraphStore) -> None:
    rows = run(graph, "lib_coverage_holes", limit=10)
    assert rows == [
        {"item_id": "i1", "title": "One", "interactions": 3},
        {"item_id": "i3", "title": "Three", "interactions": 1},
        {"item_id": "i6", "title": "Six", "interactions": 1},
        {"item_id": "i7", "title": "Seven", "interactions": 0},
    ]
    assert [r["item_id"] for r in run(graph, "lib_coverage_holes", limit=2)] == ["i1", "i3"]


def test_entity_hubs(graph: GraphStore) -> None:
    rows = run(graph, "lib_entity_hubs", limit=10)
    assert rows == [
        {"entity_id": "e2", "name": "Drama", "relation": "HAS_GENRE", "items": 4},
        {"entity_id": "e1", "name": "Director A", "relation": "DIRECTED_BY", "items": 2},
        {"entity_id": "e3", "name": "Actor C", "relation": "STARRED_IN", "items": 1},
        {"entity_id": "e3", "name": "Actor C", "relation": "STARRING", "items": 1},
    ]
    assert [r["entity_id"] for r in run(graph, "lib_entity_hubs", limit=2)] == ["e2", "e1"]


def test_similar_users(graph: GraphStore) -> None:
    rows = run(graph, "lib_similar_users", user_id="u1", limit=10)
    assert rows == [
        {"user_id": "u2", "shared": 2, "union_size": 4, "jaccard": pytest.approx(0.5)},
        {"user_id": "u3", "shared": 1, "union_size": 4, "jaccard": pytest.approx(0.25)},
    ]
    ties = run(graph, "lib_similar_users", user_id="u3", limit=10)
    assert [(r["user_id"], r["shared"], r["union_size"]) for r in ties] == [
        ("u1", 1, 4),
        ("u2", 1, 4),
    ]
    assert run(graph, "lib_similar_users", user_id="u4", limit=10) == []
    assert len(run(graph, "lib_similar_users", user_id="u1", limit=1)) == 1


@pytest.mark.parametrize("query", DOC_QUERIES, ids=[f"browse-{n}" for n in range(len(DOC_QUERIES))])
def test_documented_browser_queries_run(graph: GraphStore, query: str) -> None:
    """docs/browse.md's graph views run on the portable subset and find something."""
    parameters = {
        "user_id": "u1",
        "item_id": "i4",
        "entity_id": "e2",
        "limit": 10,
        "max_interactions": 3,
        "model": None,
    }
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", query))
    assert used <= set(parameters), (
        f"browse.md uses undocumented parameters {used - set(parameters)}"
    )
    assert graph.run(query, {k: v for k, v in parameters.items() if k in used})
