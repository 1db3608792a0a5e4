"""Write endpoints: POST /interactions, DELETE /users/{id}, POST /items; injection-shaped input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.encoders.text import item_text
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

from .conftest import ITEM_VECTORS, make_embeddings

COUNT = "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r"


def _constraints(graph: FalkorDBStore) -> None:
    """The unique-id constraints ingest creates (Neo4j relies on them under concurrency)."""
    for label in ("User", "Item", "Entity"):
        graph.ensure_unique_id(label)


def _recs(client: TestClient, user_id: str, **params: object) -> dict:
    response = client.get(f"/users/{user_id}/recommendations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_interactions_create_users_and_edges(client: TestClient, graph: FalkorDBStore) -> None:
    response = client.post(
        "/interactions",
        json={
            "interactions": [
                {"user_id": "newcomer", "item_id": "i6", "rating": 5, "ts": 1000},
                {"user_id": "u2", "item_id": "i7"},
            ]
        },
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "written": 2,
        "created": 2,
        "updated": 0,
        "duplicates": 0,
        "users_created": 1,
    }
    rows = graph.run(
        "MATCH (u:User)-[r:INTERACTED]->(i:Item) WHERE u.id IN ['newcomer', 'u2'] "
        "RETURN u.id AS u, i.id AS i, r.rating AS rating, r.ts AS ts, r.recorded AS recorded "
        "ORDER BY u, i"
    )
    assert [(r["u"], r["i"], r["rating"]) for r in rows] == [
        ("newcomer", "i6", 5.0),
        ("u2", "i1", 3.0),
        ("u2", "i3", 4.0),
        ("u2", "i4", 2.0),
        ("u2", "i7", None),
    ]
    assert rows[0]["ts"] == 1000 and rows[0]["recorded"] is not None
    assert rows[4]["ts"] > 1.6e9  # defaulted to now


def test_new_user_is_folded_in_at_once(client: TestClient) -> None:
    client.post("/interactions", json={"interactions": [{"user_id": "fresh", "item_id": "i1"}]})
    body = _recs(client, "fresh", k=3)
    assert body["user_vector"] == "folded_in"
    assert "i1" not in {item["item_id"] for item in body["items"]}


def test_known_user_vector_blends_interactions_newer_than_the_model(client: TestClient) -> None:
    before = _recs(client, "u1", k=3)
    assert before["user_vector"] == "learned"
    client.post(
        "/interactions",
        json={"interactions": [{"user_id": "u1", "item_id": "i4"}]},
    )
    after = _recs(client, "u1", k=3)
    assert after["user_vector"] == "blended"
    assert "i4" not in {item["item_id"] for item in after["items"]}  # now seen
    # i4 = (0.2, 0, 0, 1): blending pulls u1 towards the 4th axis, so i7 (0.95, 0, 0, 0.1)
    # gains on i3 (0.9, 0.1, 0, 0).
    by_id = {i["item_id"]: i["model_score"] for i in after["items"]}
    old = {i["item_id"]: i["model_score"] for i in before["items"]}
    assert by_id["i7"] - by_id["i3"] > old["i7"] - old["i3"]


def test_unknown_item_writes_nothing(client: TestClient, graph: FalkorDBStore) -> None:
    before = graph.run(COUNT)
    response = client.post(
        "/interactions",
        json={
            "interactions": [{"user_id": "x", "item_id": "i1"}, {"user_id": "x", "item_id": "no"}]
        },
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "items not found: 'no'"}
    assert graph.run(COUNT) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"interactions": []},
        {"interactions": [{"user_id": "", "item_id": "i1"}]},
        {"interactions": [{"user_id": "a\x00b", "item_id": "i1"}]},
    ],
)
def test_invalid_interactions_are_422(client: TestClient, body: dict) -> None:
    assert client.post("/interactions", json=body).status_code == 422


def test_no_interaction_lost_under_concurrent_posts(
    client: TestClient, graph: FalkorDBStore
) -> None:
    _constraints(graph)

    def post(thread: int) -> list[int]:
        codes = []
        for n in range(25):
            response = client.post(
                "/interactions",
                json={
                    "interactions": [
                        {"user_id": f"t{thread}", "item_id": f"i{n % 7 + 1}", "ts": n},
                        {"user_id": "shared", "item_id": "i1"},
                    ]
                    if n == 0
                    else [{"user_id": f"t{thread}-{n}", "item_id": "i3"}]
                },
            )
            codes.append(response.status_code)
        return codes

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [c for result in pool.map(post, range(8)) for c in result]
    assert codes == [201] * 200
    edges = graph.run(
        "MATCH (u:User)-[r:INTERACTED]->() WHERE u.id STARTS WITH 't' OR u.id = 'shared' "
        "RETURN count(r) AS edges, count(DISTINCT u) AS users"
    )
    # per thread: 1 own edge + 24 one-edge users; 'shared' gets one edge, merged 8 times.
    assert edges == [{"edges": 8 * 25 + 1, "users": 8 * 25 + 1}]
    assert graph.run("MATCH (u:User {id: 'shared'}) RETURN count(u) AS n") == [{"n": 1}]


def test_repeated_pairs_are_reported_as_duplicates_not_written(
    client: TestClient, graph: FalkorDBStore
) -> None:
    """1,000 copies of one pair: one relationship, and the answer says so."""
    rows = [{"user_id": "copycat", "item_id": "i2", "ts": n} for n in range(1000)]
    response = client.post("/interactions", json={"interactions": rows})
    assert response.status_code == 201
    assert response.json() == {
        "written": 1,
        "created": 1,
        "updated": 0,
        "duplicates": 999,
        "users_created": 1,
    }
    stored = graph.run("MATCH (:User {id: 'copycat'})-[r:INTERACTED]->() RETURN r.ts AS ts")
    assert stored == [{"ts": 999.0}]  # the last copy wins
    again = client.post("/interactions", json={"interactions": rows[:1]}).json()
    assert (again["created"], again["updated"], again["users_created"]) == (0, 1, 0)


def test_concurrent_retries_are_exactly_once_and_counted_once(
    client: TestClient, graph: FalkorDBStore
) -> None:
    """Eight clients retrying the same batch at once: one relationship per pair, created once
    in total, and one new user counted once (not eight times)."""
    _constraints(graph)
    batch = {
        "interactions": [
            {"user_id": "racer", "item_id": "i1", "rating": 4},
            {"user_id": "racer", "item_id": "i2", "rating": 3},
        ]
    }

    def post(_: int) -> dict:
        response = client.post("/interactions", json=batch)
        assert response.status_code == 201
        return response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))
    assert sum(a["created"] for a in answers) == 2
    assert sum(a["users_created"] for a in answers) == 1
    assert sum(a["updated"] for a in answers) == 2 * 8 - 2
    edges = graph.run("MATCH (:User {id: 'racer'})-[r:INTERACTED]->() RETURN count(r) AS n")
    assert edges == [{"n": 2}]


def test_delete_user_removes_user_and_interactions(
    client: TestClient, graph: FalkorDBStore
) -> None:
    graph.run(
        "MATCH (u:User {id: 'u2'}), (i:Item {id: 'i7'}) CREATE (u)-[:RECOMMENDED {rank: 1}]->(i)"
    )
    before = graph.run(COUNT)[0]
    response = client.delete("/users/u2")
    assert response.status_code == 204
    assert response.content == b""
    assert graph.run(COUNT) == [{"n": before["n"] - 1, "r": before["r"] - 4}]
    assert client.get("/users/u2/recommendations").status_code == 404
    assert client.delete("/users/u2").status_code == 404


def test_an_erased_user_recreated_with_the_same_id_starts_cold(client: TestClient) -> None:
    """After DELETE /users/u1 the trained vector of u1 is gone from the loaded model: a new
    interaction for u1 folds in from scratch instead of blending with the erased vector."""
    assert _recs(client, "u1")["user_vector"] == "learned"
    assert client.delete("/users/u1").status_code == 204
    client.post("/interactions", json={"interactions": [{"user_id": "u1", "item_id": "i3"}]})
    assert _recs(client, "u1")["user_vector"] == "folded_in"


def test_an_erasure_survives_reloading_the_model(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    """The erasure is recorded beside the saved model: a service loading it later (or
    restarted) does not bring the vector back."""
    from tailgraph.gnn.artefacts import save_embeddings

    save_embeddings(settings.artefacts_dir / "current", embeddings)
    with TestClient(create_app(settings, store=graph)) as first:
        assert _recs(first, "u2")["user_vector"] == "learned"
        assert first.delete("/users/u2").status_code == 204
    post = {"interactions": [{"user_id": "u2", "item_id": "i5"}]}
    with TestClient(create_app(settings, store=graph)) as restarted:
        assert restarted.post("/interactions", json=post).status_code == 201
        assert _recs(restarted, "u2")["user_vector"] == "folded_in"
        assert _recs(restarted, "u1")["user_vector"] == "learned"  # others untouched
    record = settings.artefacts_dir / "current" / "erased_users.json"
    assert record.stat().st_mode & 0o077 == 0


def test_an_erasure_compacts_the_store_log(
    client: TestClient, graph: FalkorDBStore, falkordb_server
) -> None:
    """The erased interactions do not stay in the append-only file in plaintext."""
    import time

    if not isinstance(graph, FalkorDBStore):
        pytest.skip("Neo4j manages its own transaction logs")
    marker = "erasable-user-7f3a"
    client.post("/interactions", json={"interactions": [{"user_id": marker, "item_id": "i1"}]})
    log_dir = falkordb_server.directory / "appendonlydir"

    def logged() -> bool:
        return any(marker.encode() in p.read_bytes() for p in log_dir.iterdir() if p.is_file())

    assert logged()  # the write is in the log's tail, in plaintext
    assert client.delete(f"/users/{marker}").status_code == 204
    deadline = time.monotonic() + 30
    while logged() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not logged()


def _transfer_by_hand(graph: FalkorDBStore, encoder: object) -> np.ndarray:
    """The vector a new item titled "Seven" linked to e_dir should borrow: text cosine of the
    titles, KG cosine 1 for i1 and i6 (like it they link only to e_dir), softmax(sim / 0.05)
    mix of every trained item with the length restored."""
    ids = sorted(ITEM_VECTORS)
    titles = [
        row["t"]
        for row in graph.run(
            "UNWIND $ids AS id MATCH (i:Item {id: id}) RETURN i.title AS t", {"ids": ids}
        )
    ]
    vectors = encoder.encode([item_text({"title": "Seven"}), *titles])  # type: ignore[attr-defined]
    by_text = np.clip(vectors[1:] @ vectors[0], 0.0, None)
    similarity = 0.8 * by_text + 0.2 * np.array([i in ("i1", "i6") for i in ids], dtype=float)
    weights = np.exp(similarity / 0.05) / np.exp(similarity / 0.05).sum()
    picked = np.array([ITEM_VECTORS[i] for i in ids])
    mean = weights @ picked
    return mean / np.linalg.norm(mean) * (weights @ np.linalg.norm(picked, axis=1))


NEW_ITEM = {
    "item_id": "i9",
    "title": "Seven",
    "links": [{"entity_id": "e_dir", "relation": "DIRECTED_BY"}],
}


def test_new_item_gets_an_inductive_vector_and_is_recommended_at_once(
    text_client: TestClient, graph: FalkorDBStore, encoder: object
) -> None:
    response = text_client.post("/items", json=NEW_ITEM)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["embedding"] == "text+kg" and body["links"] == 1
    assert body["text_neighbours"][0] == "i7"  # same title, same BERT vector
    assert (body["model"], body["version"]) == ("hand-made", "test-1")
    [stored] = graph.run(
        "MATCH (i:Item {id: 'i9'})-[r:DIRECTED_BY]->(e:Entity) "
        "RETURN i.title AS title, i.textEmbedding AS text, i.embedding AS vector, "
        "e.id AS entity, r.relation AS relation"
    )
    assert (stored["title"], stored["entity"]) == ("Seven", "e_dir")
    [count] = graph.run("MATCH (e:Entity {id: 'e_dir'}) RETURN e.itemCount AS n")
    assert count["n"] == 4  # i1, i6, i8 and now i9
    assert stored["relation"] == "film.film.directed_by"  # copied from the loaded KG edges
    assert (len(stored["text"]), len(stored["vector"])) == (384, 4)
    recs = text_client.get("/users/u1/recommendations", params={"k": 10}).json()
    new = next(item for item in recs["items"] if item["item_id"] == "i9")
    assert "knowledge" in new["sources"] and "tail" in new["sources"]  # via e_dir; popularity 0
    assert new["title"] == "Seven"
    # KG part = mean(i1, i6) scores 0.3 for u1; the text neighbours (led by i7) pull it up.
    expected = _transfer_by_hand(graph, encoder)
    assert np.allclose(stored["vector"], expected, atol=1e-4)
    assert new["model_score"] == pytest.approx(expected[0], abs=1e-4)  # u1 = [1, 0, 0, 0]
    similar = text_client.get("/items/i9/similar", params={"k": 1}).json()
    assert similar["items"][0]["item_id"] in {"i7", "i6"}


def test_new_item_vector_takes_the_models_transfer_scale(
    settings: Settings, text_graph: FalkorDBStore, encoder: object
) -> None:
    embeddings = make_embeddings()
    embeddings.extra["transfer_scale"] = 0.5  # as TailGNN's pipeline saves it
    app = create_app(settings, store=text_graph, embeddings=embeddings, text_encoder=encoder)
    with TestClient(app) as client:
        assert client.post("/items", json=NEW_ITEM).status_code == 201
    [stored] = text_graph.run("MATCH (i:Item {id: 'i9'}) RETURN i.embedding AS vector")
    assert np.allclose(stored["vector"], 0.5 * _transfer_by_hand(text_graph, encoder), atol=1e-4)


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"item_id": "i1", "title": "Dup"}, 409, "item 'i1' already exists"),
        (
            {
                "item_id": "n1",
                "title": "T",
                "links": [{"entity_id": "e_dir", "relation": "INTERACTED"}],
            },
            422,
            "relation 'INTERACTED' is not a KG relationship type",
        ),
        (
            {
                "item_id": "n1",
                "title": "T",
                "links": [{"entity_id": "nope", "relation": "HAS_GENRE"}],
            },
            404,
            "entity 'nope' not found",
        ),
    ],
)
def test_item_errors(
    text_client: TestClient, graph: FalkorDBStore, body: dict, status: int, detail: str
) -> None:
    before = graph.run(COUNT)
    response = text_client.post("/items", json=body)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert graph.run(COUNT) == before


INJECTIONS = [
    "x'}) MATCH (n) DETACH DELETE n //",
    'x"}) DETACH DELETE n //',
    "x\\'}) CREATE (:Evil) //",
    "`) CREATE (:Evil) //",
    "{{label}} $user_id",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_shaped_values_are_stored_literally(
    text_client: TestClient, graph: FalkorDBStore, value: str
) -> None:
    before = graph.run(COUNT)[0]
    response = text_client.post(
        "/interactions", json={"interactions": [{"user_id": value, "item_id": "i1"}]}
    )
    assert response.status_code == 201, response.text
    assert graph.run(
        "MATCH (u:User {id: $id})-[:INTERACTED]->(i:Item) RETURN i.id AS i", {"id": value}
    ) == [{"i": "i1"}]
    response = text_client.post(
        "/items",
        json={
            "item_id": value,
            "title": value,
            "text": value,
            "links": [{"entity_id": "e_genre", "relation": "HAS_GENRE"}],
        },
    )
    assert response.status_code == 201, response.text
    assert graph.run(
        "MATCH (i:Item {id: $id}) RETURN i.title AS t, i.text AS x", {"id": value}
    ) == [{"t": value, "x": value}]
    bad_links = [
        {"entity_id": value, "relation": "HAS_GENRE"},
        {"entity_id": "e_genre", "relation": value},
        {"entity_id": "e_genre", "relation": "HAS_GENRE]->() DETACH DELETE n //"},
    ]
    for link in bad_links:
        response = text_client.post(
            "/items", json={"item_id": value + "2", "title": "t", "links": [link]}
        )
        assert response.status_code in (404, 422), response.text
    assert text_client.delete(f"/users/{value}2").status_code == 404
    # one user, one item; one INTERACTED and one HAS_GENRE edge — nothing else changed.
    assert graph.run(COUNT) == [{"n": before["n"] + 2, "r": before["r"] + 2}]
    assert graph.run("MATCH (e:Evil) RETURN count(e) AS n") == [{"n": 0}]
    assert text_client.delete(f"/users/{value}").status_code == 204
    assert graph.run(COUNT) == [{"n": before["n"] + 1, "r": before["r"] + 1}]


# -- POST /items: atomic and idempotent; DELETE /items/{id} ------------------------------------


def test_a_retried_item_post_succeeds_and_changes_nothing(
    text_client: TestClient, graph: FalkorDBStore
) -> None:
    first = text_client.post("/items", json=NEW_ITEM)
    assert first.status_code == 201, first.text
    before = graph.run(COUNT)
    again = text_client.post("/items", json=NEW_ITEM)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert graph.run(COUNT) == before
    other = text_client.post("/items", json={**NEW_ITEM, "title": "Something else"})
    assert other.status_code == 409
    assert "different content" in other.json()["detail"]


def test_concurrent_posts_of_one_item_write_one_set_of_links(
    text_client: TestClient, graph: FalkorDBStore
) -> None:
    """Eight different bodies for one id at once: one wins, the rest are 409 and none of their
    links reach the item; eight identical bodies: one 201 and seven 200."""
    bodies = [
        {**NEW_ITEM, "item_id": "race", "title": f"Race {n}",
         "links": [{"entity_id": "e_dir" if n % 2 else "e_genre",
                    "relation": "DIRECTED_BY" if n % 2 else "HAS_GENRE"}]}
        for n in range(8)
    ]  # fmt: skip
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda b: text_client.post("/items", json=b), bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7
    winner = next(b for b, r in zip(bodies, responses, strict=True) if r.status_code == 201)
    links = graph.run("MATCH (:Item {id: 'race'})-[r]->(e:Entity) RETURN e.id AS e")
    assert links == [{"e": winner["links"][0]["entity_id"]}]

    same = {**NEW_ITEM, "item_id": "twin"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: text_client.post("/items", json=same), range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert graph.run("MATCH (:Item {id: 'twin'})-[r]->() RETURN count(r) AS n") == [{"n": 1}]


class _FailingLinks:
    """The real store, failing the way a dying server does when the KG links are written."""

    def __init__(self, store: FalkorDBStore) -> None:
        self._store = store
        self.dialect = store.dialect

    def run(self, query, parameters=None, *, read_only=False):
        if "MERGE (i)-[r:" in query:
            from tailgraph.errors import StoreUnavailableError

            raise StoreUnavailableError("FalkorDB is not reachable: Connection closed by server")
        return self._store.run(query, parameters, read_only=read_only)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def test_a_failed_item_post_leaves_nothing_behind(
    settings: Settings, text_graph: FalkorDBStore, embeddings: LearnedEmbeddings, encoder: object
) -> None:

    failing = _FailingLinks(text_graph)
    before = text_graph.run(COUNT)
    counts_before = text_graph.run("MATCH (e:Entity) RETURN e.id AS e, e.itemCount AS n ORDER BY e")
    app = create_app(settings, store=failing, embeddings=embeddings, text_encoder=encoder)
    with TestClient(app) as client:
        response = client.post("/items", json=NEW_ITEM)
        assert response.status_code == 503
        assert response.headers["retry-after"]
    assert text_graph.run(COUNT) == before
    assert text_graph.run("MATCH (i:Item {id: 'i9'}) RETURN i") == []
    assert (
        text_graph.run("MATCH (e:Entity) RETURN e.id AS e, e.itemCount AS n ORDER BY e")
        == counts_before
    )


def test_a_write_left_pending_is_finished_by_the_retry(
    text_client: TestClient, text_graph: FalkorDBStore
) -> None:
    """A store killed between the item node and its links leaves it marked pending; the retry
    of the same body writes the links and answers like a first success."""
    from tailgraph.api.new_items import payload_hash
    from tailgraph.api.schemas import NewItem

    text_graph.run(
        "CREATE (:Item {id: 'i9', title: 'Seven', payloadHash: $h, pendingWrite: 'dead'})",
        {"h": payload_hash(NewItem(**NEW_ITEM))},
    )
    response = text_client.post("/items", json=NEW_ITEM)
    assert response.status_code == 200, response.text
    assert response.json()["links"] == 1
    rows = text_graph.run(
        "MATCH (i:Item {id: 'i9'})-[:DIRECTED_BY]->(e) RETURN i.pendingWrite AS p, e.id AS e"
    )
    assert rows == [{"p": None, "e": "e_dir"}]


def test_delete_item_removes_it_everywhere(text_client: TestClient, graph: FalkorDBStore) -> None:
    assert text_client.post("/items", json=NEW_ITEM).status_code == 201
    assert text_client.get("/items/i9/similar").status_code == 200
    count = "MATCH (e:Entity {id: 'e_dir'}) RETURN e.itemCount AS n"
    assert graph.run(count) == [{"n": 4}]
    client_interaction = {"interactions": [{"user_id": "u1", "item_id": "i9"}]}
    assert text_client.post("/interactions", json=client_interaction).status_code == 201

    assert text_client.delete("/items/i9").status_code == 204
    assert graph.run("MATCH (i:Item {id: 'i9'}) RETURN i") == []
    assert graph.run("MATCH ()-[r]->() WHERE r.id = 'i9' RETURN r") == []
    assert graph.run(count) == [{"n": 3}]
    assert text_client.get("/items/i9/similar").status_code == 404
    recs = text_client.get("/users/u2/recommendations", params={"k": 20}).json()
    assert "i9" not in {item["item_id"] for item in recs["items"]}
    assert text_client.delete("/items/i9").status_code == 404
    # and it can be added again, from scratch
    assert text_client.post("/items", json=NEW_ITEM).status_code == 201
