"""The /explore router's JSON endpoints, page and static files, over a real embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.routes.explore import LIBRARY_FILE, find_library
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

# Two users sharing Toy Story; u1 has two recommendations explained through KG entities.
SAMPLE_GRAPH = """
CREATE (u1:User {id: 'u1', age: 25, embedding: [0.1, 0.2, 0.3], textHash: 'abc'}),
       (u2:User {id: 'u2'}), (u3:User {id: 'u3'}),
       (i1:Item {id: 'i1', title: 'Toy Story (1995)', year: 1995, genres: ['Animation']}),
       (i2:Item {id: 'i2', title: 'Cars (2006)'}), (i3:Item {id: 'i3', title: 'Alien (1979)'}),
       (i4:Item {id: 'i4', title: 'Up (2009)'}), (i5:Item {id: 'i5', title: 'Heat (1995)'}),
       (lasseter:Entity {id: 'e_lasseter', name: 'John Lasseter'}),
       (pixar:Entity {id: 'e_pixar', name: 'Pixar'}),
       (scifi:Entity {id: 'e_scifi', name: 'Science fiction'}),
       (u1)-[:INTERACTED {rating: 5, ts: 100}]->(i1), (u1)-[:INTERACTED {rating: 4, ts: 90}]->(i3),
       (u2)-[:INTERACTED {rating: 3, ts: 80}]->(i1), (u2)-[:INTERACTED {rating: 4, ts: 70}]->(i2),
       (u3)-[:INTERACTED {rating: 2, ts: 60}]->(i5),
       (i1)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(lasseter),
       (i2)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(lasseter),
       (i1)-[:PRODUCED_BY {relation: 'film.film.production_companies'}]->(pixar),
       (i4)-[:PRODUCED_BY {relation: 'film.film.production_companies'}]->(pixar),
       (pixar)-[:PRODUCED {relation: 'film.production_company.films'}]->(i2),
       (i3)-[:HAS_GENRE {relation: 'film.film.genre'}]->(scifi),
       (u1)-[:RECOMMENDED {score: 0.91, rank: 1, model: 'lightgcn'}]->(i2),
       (u1)-[:RECOMMENDED {score: 0.5, rank: 2, model: 'lightgcn'}]->(i4)
"""

INJECTIONS = [
    "u1' OR '1'='1",
    'u1"}) MATCH (n) DETACH DELETE n //',
    "u1'}) MATCH (n) DETACH DELETE n RETURN 1 //",
    "x\\' RETURN 1 //",
    "$id",
]


@pytest.fixture
def client(settings: Settings, store: FalkorDBStore) -> Iterator[TestClient]:
    """The service over the sample graph (no trained model: /explore needs none)."""
    store.run(SAMPLE_GRAPH)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def _node_count(store: FalkorDBStore) -> int:
    return store.run("MATCH (n) RETURN count(n) AS n")[0]["n"]


def _edges(graph: dict) -> set[tuple[str, str, str]]:
    return {(e["source"], e["type"], e["target"]) for e in graph["edges"]}


def test_user_graph_has_items_entities_recommendations_and_paths(client: TestClient) -> None:
    response = client.get("/explore/graph", params={"kind": "user", "id": "u1"})
    assert response.status_code == 200
    graph = response.json()
    roles = {n["id"]: n["role"] for n in graph["nodes"]}
    assert graph["center"] == "user:u1"
    assert roles == {
        "user:u1": "center",
        "item:i1": "interacted",
        "item:i3": "interacted",
        "item:i2": "recommended",
        "item:i4": "recommended",
        "entity:e_lasseter": "entity",
        "entity:e_pixar": "entity",
        "entity:e_scifi": "entity",
    }
    center = next(n for n in graph["nodes"] if n["id"] == "user:u1")
    assert center["props"] == {"id": "u1"}  # no embedding, no hash, no personal attributes
    edges = _edges(graph)
    assert {
        ("user:u1", "INTERACTED", "item:i1"),
        ("user:u1", "INTERACTED", "item:i3"),
        ("user:u1", "RECOMMENDED", "item:i2"),
        ("user:u1", "RECOMMENDED", "item:i4"),
        ("item:i1", "DIRECTED_BY", "entity:e_lasseter"),
        ("item:i3", "HAS_GENRE", "entity:e_scifi"),
        ("item:i2", "DIRECTED_BY", "entity:e_lasseter"),
        ("entity:e_pixar", "PRODUCED", "item:i2"),
        ("item:i4", "PRODUCED_BY", "entity:e_pixar"),
    } <= edges
    assert not any("u2" in e[0] or "i5" in e[2] for e in edges)
    props = {(e["type"], e["target"]): e["props"] for e in graph["edges"]}
    assert props["RECOMMENDED", "item:i2"] == {"score": 0.91, "rank": 1, "model": "lightgcn"}
    assert props["INTERACTED", "item:i1"] == {"rating": 5, "ts": 100}
    paths = {
        (f"item:{p['item_id']}", f"entity:{p['entity_id']}", f"item:{p['seed_item_id']}")
        for p in graph["paths"]
    }
    assert paths == {
        ("item:i2", "entity:e_lasseter", "item:i1"),
        ("item:i2", "entity:e_pixar", "item:i1"),
        ("item:i4", "entity:e_pixar", "item:i1"),
    }
    on_path = {(e["source"], e["target"]) for e in graph["edges"] if e["path"]}
    assert ("entity:e_pixar", "item:i2") in on_path
    assert ("item:i3", "entity:e_scifi") not in on_path


def test_item_graph_without_a_model_draws_users_and_entities_only(client: TestClient) -> None:
    graph = client.get("/explore/graph", params={"kind": "item", "id": "i1"}).json()
    roles = {n["id"]: n["role"] for n in graph["nodes"]}
    assert roles == {
        "item:i1": "center",
        "user:u1": "user",
        "user:u2": "user",
        "entity:e_lasseter": "entity",
        "entity:e_pixar": "entity",
    }
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    assert labels["item:i1"] == "Toy Story (1995)" and labels["entity:e_pixar"] == "Pixar"
    assert ("user:u1", "INTERACTED", "item:i1") in _edges(graph)


def test_item_graphs_similar_items_are_the_similar_items_endpoints(
    settings: Settings, store: FalkorDBStore
) -> None:
    """One definition of "similar": the model's nearest items, as GET /items/{id}/similar."""
    store.run(SAMPLE_GRAPH)
    ids = ["i1", "i2", "i3", "i4", "i5"]
    vectors = np.array(
        [[1.0, 0.0], [0.2, 1.0], [0.9, 0.3], [0.95, 0.1], [-1.0, 0.1]], dtype=np.float32
    )
    model = LearnedEmbeddings("hand-made", "v1", ["u1", "u2", "u3"], ids,
                              np.eye(3, 2, dtype=np.float32), vectors,
                              np.array([2, 1, 1, 0, 1]))  # fmt: skip
    with TestClient(create_app(settings, store=store, embeddings=model)) as client:
        endpoint = client.get("/items/i1/similar", params={"k": 3}).json()["items"]
        graph = client.get("/explore/graph", params={"kind": "item", "id": "i1", "limit": 3})
    graph = graph.json()
    similar = [n for n in graph["nodes"] if n["role"] == "similar"]
    assert [f"item:{i['item_id']}" for i in endpoint] == ["item:i4", "item:i3", "item:i2"]
    assert {n["id"] for n in similar} == {f"item:{i['item_id']}" for i in endpoint}
    by_id = {n["id"]: n for n in similar}
    for item in endpoint:
        node = by_id[f"item:{item['item_id']}"]
        assert node["props"]["similarity"] == pytest.approx(item["similarity"], abs=1e-4)
        assert node["label"] == item["title"]
    edges = _edges(graph)
    assert ("item:i1", "SIMILAR", "item:i4") in edges
    # why they are alike, where the KG says so: i4 and i2 share Pixar with Toy Story
    assert {("item:i4", "PRODUCED_BY", "entity:e_pixar"),
            ("entity:e_pixar", "PRODUCED", "item:i2")} <= edges  # fmt: skip
    assert "item:i5" not in by_id  # shares nothing and points away: never drawn as similar


def test_limit_bounds_each_kind_of_neighbour(client: TestClient) -> None:
    graph = client.get("/explore/graph", params={"kind": "item", "id": "i1", "limit": 1}).json()
    roles = sorted(n["id"] for n in graph["nodes"] if n["role"] in {"user", "similar"})
    assert roles == ["user:u1"]  # the best rater (no model: no similar items)
    user = client.get("/explore/graph", params={"kind": "user", "id": "u1", "limit": 1}).json()
    assert [e["target"] for e in user["edges"] if e["type"] == "RECOMMENDED"] == ["item:i2"]
    drawn = {n["id"] for n in user["nodes"] if n["role"] == "interacted"}
    assert drawn == {"item:i1"} and {f"item:{p['seed_item_id']}" for p in user["paths"]} == drawn
    too_many = client.get("/explore/graph", params={"kind": "user", "id": "u1", "limit": 10_000})
    assert too_many.status_code == 422


def test_unknown_id_and_kind_are_client_errors(client: TestClient) -> None:
    missing = client.get("/explore/graph", params={"kind": "user", "id": "nobody"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no user with id 'nobody'"}
    assert client.get("/explore/graph", params={"kind": "item", "id": "u1"}).status_code == 404
    assert client.get("/explore/graph", params={"kind": "entity", "id": "x"}).status_code == 422
    assert client.get("/explore/graph", params={"kind": "user", "id": "u\x001"}).status_code == 422
    assert client.get("/explore/search", params={"q": "\x00"}).status_code == 422


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_shaped_ids_are_plain_values(
    client: TestClient, store: FalkorDBStore, bad: str
) -> None:
    before = _node_count(store)
    response = client.get("/explore/graph", params={"kind": "user", "id": bad})
    assert response.status_code == 404
    assert client.get("/explore/search", params={"q": bad}).json()["hits"] == []
    assert _node_count(store) == before == 11


def test_personal_attributes_only_when_configured(settings: Settings, store: FalkorDBStore) -> None:
    store.run(SAMPLE_GRAPH)
    shown = settings.model_copy(update={"explore_user_attributes": ["age"]})
    with TestClient(create_app(shown, store=store)) as client:
        graph = client.get("/explore/graph", params={"kind": "user", "id": "u1"}).json()
    center = next(n for n in graph["nodes"] if n["id"] == "user:u1")
    assert center["props"] == {"id": "u1", "age": 25}


def test_search_matches_ids_and_titles_case_insensitively(client: TestClient) -> None:
    hits = client.get("/explore/search", params={"q": "TOY"}).json()["hits"]
    assert hits == [{"kind": "item", "id": "i1", "label": "Toy Story (1995)", "interactions": 2}]
    years = client.get("/explore/search", params={"q": "1995"}).json()["hits"]
    assert {h["id"] for h in years} == {"i5", "i1"}
    assert years[0]["interactions"] >= years[1]["interactions"]  # ties: more interacted first
    users = client.get("/explore/search", params={"q": "U1"}).json()["hits"]
    assert users[0] == {"kind": "user", "id": "u1", "label": "user u1", "interactions": None}
    assert client.get("/explore/search", params={"q": ""}).status_code == 422


RANKED = """
CREATE (a:Item {id: 'm1', title: 'Lone Star', year: 1996}),
       (b:Item {id: 'm2', title: 'Starship Troopers', year: 1997}),
       (c:Item {id: 'm3', title: 'Star Wars', year: 1977}),
       (d:Item {id: 'm4', title: 'Godfather, The', year: 1972}),
       (e:Item {id: 'm5', title: 'Dark Star', year: 1974}),
       (f:Item {id: 'm6', title: 'Mustard', year: 2001})
WITH a, b, c, d
UNWIND range(1, 5) AS n
CREATE (u:User {id: 'fan' + toString(n)})-[:INTERACTED]->(c)
WITH u, n, b, d WHERE n <= 2
CREATE (u)-[:INTERACTED]->(b), (u)-[:INTERACTED]->(d)
"""


def test_search_ranks_prefix_then_word_then_substring_by_popularity(
    client: TestClient, store: FalkorDBStore
) -> None:
    store.run(RANKED)

    def labels(q: str, **params: int) -> list[str]:
        response = client.get("/explore/search", params={"q": q, **params})
        return [h["label"] for h in response.json()["hits"] if h["kind"] == "item"]

    # prefix (popular Star Wars before Starship Troopers), then word starts, then "mustard"
    assert labels("star") == [
        "Star Wars (1977)",
        "Starship Troopers (1997)",
        "Dark Star (1974)",
        "Lone Star (1996)",
        "Mustard (2001)",
    ]
    assert labels("Star Wars (1977)") == ["Star Wars (1977)"]
    assert labels("the godfather") == labels("godfather") == ["The Godfather (1972)"]
    assert labels("star", limit=2) == ["Star Wars (1977)", "Starship Troopers (1997)"]


def test_display_title_moves_the_article_and_adds_the_year() -> None:
    from tailgraph.api.titles import display_title

    assert display_title("Godfather, The", 1972) == "The Godfather (1972)"
    assert display_title("Toy Story (1995)", 1995) == "Toy Story (1995)"
    assert display_title("Butcher Boy, The", None) == "The Butcher Boy"
    assert display_title(None, 1990) is None


def test_search_is_bounded(client: TestClient, store: FalkorDBStore) -> None:
    store.run("UNWIND range(1, 30) AS n CREATE (:Item {id: 'bulk' + toString(n)})")
    hits = client.get("/explore/search", params={"q": "bulk"}).json()["hits"]
    assert len(hits) == 10


def test_page_links_its_assets_and_forbids_outside_scripts(client: TestClient) -> None:
    page = client.get("/explore")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="/explore/static/cytoscape.min.js"' in page.text
    assert 'data-base="/explore"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name, kind in [("explore.js", "javascript"), ("explore.css", "text/css")]:
        response = client.get(f"/explore/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "/explore/static/..%2Fexplore.py",
        "/explore/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/explore/static/..%5Cexplore.py",
        "/explore/static/explore.html",
        "/explore/static/.%2Fexplore.js",
        "/explore/static/static%2Fexplore.js",
    ],
)
def test_static_route_serves_only_whitelisted_names(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text and "[project]" not in response.text


def test_library_from_env_folder_or_clear_404(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAILGRAPH_EXPLORE_ASSETS", str(tmp_path))
    missing = client.get(f"/explore/static/{LIBRARY_FILE}")
    assert missing.status_code == 404
    assert "run `make assets`" in missing.json()["detail"]
    page = client.get("/explore")
    assert page.status_code == 200 and 'id="notice"' in page.text and "make assets" in page.text
    (tmp_path / LIBRARY_FILE).write_text("window.cytoscape = function () {};")
    served = client.get(f"/explore/static/{LIBRARY_FILE}")
    assert served.status_code == 200 and served.text.startswith("window.cytoscape")
    assert 'id="notice"' not in client.get("/explore").text


def test_find_library_looks_in_node_modules_layout(tmp_path: Path) -> None:
    assert find_library({"TAILGRAPH_EXPLORE_ASSETS": str(tmp_path)}) is None
    dist = tmp_path / "node_modules" / "cytoscape" / "dist"
    dist.mkdir(parents=True)
    (dist / LIBRARY_FILE).write_text("//")
    assert find_library({"TAILGRAPH_EXPLORE_ASSETS": str(tmp_path)}) == dist / LIBRARY_FILE
    default = find_library({})
    assert default is None or default.parts[-5:] == (
        "explore-assets",
        "node_modules",
        "cytoscape",
        "dist",
        LIBRARY_FILE,
    )


def test_unreachable_store_is_503_with_retry_after(settings: Settings) -> None:
    # No URI and no launcher built at that path: the local Neo4j cannot be started.
    absent = settings.data_dir / "no-launcher.jar"
    broken = settings.model_copy(
        update={"store": "neo4j", "neo4j_uri": None, "neo4j_launcher": absent}
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/explore/search", params={"q": "x"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "cannot open the graph store" in response.json()["detail"]
        assert client.get("/explore").status_code == 200  # the page needs no store


def test_shared_entities_win_and_inverse_relations_count_once(
    client: TestClient, store: FalkorDBStore
) -> None:
    store.run(
        "MATCH (i1:Item {id: 'i1'}), (i3:Item {id: 'i3'}), (pixar:Entity {id: 'e_pixar'}),"
        " (lasseter:Entity {id: 'e_lasseter'})"
        " CREATE (i3)-[:PRODUCED_BY]->(pixar), (lasseter)-[:DIRECTED]->(i1),"
        " (lasseter)-[:DIRECTED]->(:Item {id: 'i2b'})"
        " WITH i1 UNWIND range(0, 3) AS n CREATE (i1)-[:TAGGED]->(:Entity {id: 'e_' + toString(n)})"
    )
    graph = client.get("/explore/graph", params={"kind": "user", "id": "u1"}).json()
    around_i1 = [e for e in graph["edges"] if "item:i1" in (e["source"], e["target"])]
    kg = {(e["source"], e["type"], e["target"]): e["path"] for e in around_i1}
    kg.pop(("user:u1", "INTERACTED", "item:i1"))
    # ENTITIES_PER_ITEM drawn: pixar first (2 drawn items share it), then by id; lasseter
    # joins through the path; one edge to it despite DIRECTED + DIRECTED_BY, and on every
    # engine the stored item -> entity direction (DIRECTED_BY), for the drawn and the path edge.
    assert kg == {
        ("item:i1", "PRODUCED_BY", "entity:e_pixar"): True,
        ("item:i1", "TAGGED", "entity:e_0"): False,
        ("item:i1", "TAGGED", "entity:e_1"): False,
        ("item:i1", "TAGGED", "entity:e_2"): False,
        ("item:i1", "DIRECTED_BY", "entity:e_lasseter"): True,
    }
    pairs = [(f"item:{p['item_id']}", f"entity:{p['entity_id']}") for p in graph["paths"]]
    assert sorted(pairs) == sorted(set(pairs))
    for_cars = [(p["entity_id"], p["seed_item_id"], p["item_relation"], p["seed_relation"])
                for p in graph["paths"] if p["item_id"] == "i2"]  # fmt: skip
    # pixar first (2 drawn items share it), via i1: the first drawn item (i3 shares it too)
    assert for_cars == [
        ("e_pixar", "i1", "PRODUCED", "PRODUCED_BY"),
        ("e_lasseter", "i1", "DIRECTED_BY", "DIRECTED_BY"),
    ]
