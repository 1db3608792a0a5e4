"""Explanations a person can read: one path per seed × entity, specific entities first, hubs
last (or gone), seeds by their contribution, unnamed entities captioned."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api import candidates
from tailgraph.api.app import create_app
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.explanations import hub_threshold, relation_words
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.store import run_query
from tailgraph.settings import Settings

N_FILLER = 60  # items on the language hub, so that it links more than hub_threshold items
# u1 has seen s1, s2, s3. The target t shares with them: a director (with s1, by two relations
# in both directions), an unnamed writer (with s2), a genre (with s1 and s3) and the language
# hub (with all three).
GRAPH = f"""
CREATE (u:User {{id: 'u1'}}),
       (s1:Item {{id: 's1', title: 'Seed One'}}), (s2:Item {{id: 's2', title: 'Seed Two'}}),
       (s3:Item {{id: 's3', title: 'Seed Three'}}), (t:Item {{id: 't', title: 'Target'}}),
       (w1:Item {{id: 'w1', title: 'Famous Work'}}), (w2:Item {{id: 'w2', title: 'Obscure Work'}}),
       (d:Entity {{id: 'e_dir', name: 'Dee Rector'}}), (w:Entity {{id: 'e_writer'}}),
       (g:Entity {{id: 'e_genre', name: 'Drama'}}), (lang:Entity {{id: 'e_en', name: 'English'}}),
       (u)-[:INTERACTED {{ts: 1}}]->(s1), (u)-[:INTERACTED {{ts: 2}}]->(s2),
       (u)-[:INTERACTED {{ts: 3}}]->(s3),
       (s1)-[:DIRECTED_BY {{relation: 'film.film.directed_by'}}]->(d),
       (d)-[:FILMS_DIRECTED {{relation: 'film.director.film'}}]->(s1),
       (t)-[:DIRECTED_BY {{relation: 'film.film.directed_by'}}]->(d),
       (d)-[:FILMS_DIRECTED {{relation: 'film.director.film'}}]->(t),
       (s2)-[:WRITTEN_BY {{relation: 'film.film.written_by'}}]->(w),
       (t)-[:WRITTEN_BY {{relation: 'film.film.written_by'}}]->(w),
       (w1)-[:WRITTEN_BY {{relation: 'film.film.written_by'}}]->(w),
       (w2)-[:WRITTEN_BY {{relation: 'film.film.written_by'}}]->(w),
       (s1)-[:GENRE {{relation: 'film.film.genre'}}]->(g),
       (s3)-[:GENRE {{relation: 'film.film.genre'}}]->(g),
       (t)-[:GENRE {{relation: 'film.film.genre'}}]->(g),
       (s1)-[:LANGUAGE]->(lang), (s2)-[:LANGUAGE]->(lang), (s3)-[:LANGUAGE]->(lang),
       (t)-[:LANGUAGE]->(lang)
WITH lang UNWIND range(1, {N_FILLER}) AS n
CREATE (:Item {{id: 'f' + toString(n)}})-[:LANGUAGE]->(lang)
"""
ITEMS = ["s1", "s2", "s3", "t", "w1", "w2"]
ITEM_VECTORS = np.array(
    [[1.0, 0.0], [0.2, 0.0], [0.6, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32
)
POPULARITY = np.array([3, 3, 3, 0, 50, 1])


@pytest.fixture
def client(settings: Settings, store: FalkorDBStore):
    store.run(GRAPH)
    run_query(store, "entity_item_counts")  # as ingest does
    model = LearnedEmbeddings("hand-made", "v1", ["u1"], ITEMS, np.ones((1, 2), np.float32),
                              ITEM_VECTORS, POPULARITY)  # fmt: skip
    with TestClient(create_app(settings, store=store, embeddings=model)) as test_client:
        yield test_client


def test_paths_are_unique_specific_first_and_hubs_gone(client: TestClient) -> None:
    paths = client.get("/users/u1/recommendations/t/explanation").json()["kg_paths"]
    pairs = [(p["seed_item_id"], p["entity_id"]) for p in paths]
    assert len(pairs) == len(set(pairs))  # the director's two relations × directions: once
    # director links 2 items, genre 3, writer 4: the most specific first
    assert pairs == [("s1", "e_dir"), ("s1", "e_genre"), ("s3", "e_genre"), ("s2", "e_writer")]
    assert all(not p["hub"] for p in paths)  # English links 64 items: dropped
    # genre shared by s1 and s3: the seed with the larger share of the score first
    assert paths[1]["seed_contribution"] > paths[2]["seed_contribution"]
    degrees = [p["entity_items"] for p in paths]
    assert degrees == sorted(degrees)


def test_an_unnamed_entity_is_captioned_by_its_best_known_items(client: TestClient) -> None:
    paths = client.get("/users/u1/recommendations/t/explanation").json()["kg_paths"]
    writer = next(p for p in paths if p["entity_id"] == "e_writer")
    assert writer["entity_name"] is None
    assert writer["entity_caption"] == "the “written by” of Famous Work and Obscure Work"
    director = next(p for p in paths if p["entity_id"] == "e_dir")
    assert director["entity_caption"] == "Dee Rector"


def test_hubs_are_kept_when_nothing_else_links(client: TestClient, store: FalkorDBStore) -> None:
    store.run("MATCH (:Item {id: 't'})-[r]-(e:Entity) WHERE e.id <> 'e_en' DELETE r")
    paths = client.get("/users/u1/recommendations/t/explanation").json()["kg_paths"]
    assert {p["entity_id"] for p in paths} == {"e_en"} and all(p["hub"] for p in paths)
    assert [p["seed_item_id"] for p in paths] == ["s1", "s3", "s2"]  # by contribution


def test_hub_threshold_and_relation_words() -> None:
    assert hub_threshold(1682) == 50 and hub_threshold(10_000) == 200
    assert relation_words("film.film.directed_by", "DIRECTED_BY") == "directed by"
    assert relation_words(None, "DIRECTED_BY") == "directed by"


def test_hubs_are_read_least_general_first_until_enough_paths(store: FalkorDBStore) -> None:
    store.run(GRAPH)
    # a second, larger hub (a country) shared by all three seeds and the target
    store.run(
        f"CREATE (c:Entity {{id: 'e_us', name: 'USA'}}) WITH c "
        f"MATCH (i:Item) WHERE i.id IN ['s1', 's2', 's3', 't'] OR i.id STARTS WITH 'f' "
        f"CREATE (i)-[:COUNTRY]->(c) WITH c UNWIND range(1, {N_FILLER}) AS n "
        f"CREATE (:Item {{id: 'g' + toString(n)}})-[:COUNTRY]->(c)"
    )
    store.run("MATCH (:Item {id: 't'})-[r]-(e:Entity) WHERE NOT e.id IN ['e_en', 'e_us'] DELETE r")
    run_query(store, "entity_item_counts")
    seen, hub = {"s1", "s2", "s3"}, hub_threshold(len(ITEMS))
    both = candidates.kg_paths(store, seen, "t", ExpansionLimits(max_paths=6), hub)
    assert [(r["entity_id"], r["seed_id"]) for r in both] == [
        ("e_en", "s1"), ("e_en", "s2"), ("e_en", "s3"), ("e_us", "s1"), ("e_us", "s2"),
        ("e_us", "s3"),
    ]  # fmt: skip
    # three paths are enough: the larger hub is never read
    enough = candidates.kg_paths(store, seen, "t", ExpansionLimits(max_paths=3), hub)
    assert {r["entity_id"] for r in enough} == {"e_en"}
    assert candidates.kg_paths(store, set(), "t", ExpansionLimits(), hub) == []


def test_co_users_count_raters_who_share_another_item(store: FalkorDBStore) -> None:
    store.run(GRAPH)
    store.run(
        "MATCH (t:Item {id: 't'}), (s1:Item {id: 's1'}), (s2:Item {id: 's2'}) "
        "CREATE (a:User {id: 'a'})-[:INTERACTED]->(t), (a)-[:INTERACTED]->(s1), "
        "(a)-[:INTERACTED]->(s2), (b:User {id: 'b'})-[:INTERACTED]->(t), "
        "(c:User {id: 'c'})-[:INTERACTED]->(s1)"
    )
    # a shares s1 and s2 with u1 (counted once), b only the target, c never rated it
    assert candidates.co_users(store, "u1", "t", ExpansionLimits()) == (1, 2)
    assert candidates.co_users(store, "u1", "t", ExpansionLimits(max_raters=1)) == (1, 1)
    assert candidates.co_users(store, "u1", "s3", ExpansionLimits()) == (0, 0)
    assert candidates.co_users(store, "u1", "nope", ExpansionLimits()) == (0, 0)
