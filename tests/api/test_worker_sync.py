"""Item writes and erasures through one worker reach the service's other workers and a worker
started after them (a restart), with the real encoder, on both stores.

"Workers" are separate apps over one store and one data directory, as ``tailgraph serve
--workers N`` runs them: ``writer`` takes the write, ``other`` was started before it, and the
restart is an app started after it. Each must serve what the writer serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.catalogue_sync import ChangeLog
from tailgraph.api.scoring import Scorer
from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

from .conftest import index_item_vectors, make_embeddings

NEW_ITEM = {
    "item_id": "i9",
    "title": "Seven",
    "links": [{"entity_id": "e_dir", "relation": "DIRECTED_BY"}],
}
REPLACED = {
    "item_id": "i9",
    "title": "Five again",
    "links": [{"entity_id": "e_genre", "relation": "HAS_GENRE"}],
}
USERS = ("u1", "u2", "u3", "u4")


def _other_model() -> LearnedEmbeddings:
    """An A/B candidate: another version whose vectors differ from the default model's."""
    model = make_embeddings()
    model.version = "test-b"
    model.item = model.item[:, ::-1].copy()
    model.user = model.user[:, ::-1].copy()
    return model


@contextmanager
def _workers(
    settings: Settings, store: FalkorDBStore, encoder: object, n: int, *, ab: bool = False
) -> Iterator[list[TestClient]]:
    """``n`` workers of one service, each with its own copy of the models (as each process
    loads its own), started now."""
    with ExitStack() as stack:
        clients = []
        for _ in range(n):
            models = {"a": make_embeddings(), "b": _other_model()} if ab else None
            embeddings = None if ab else make_embeddings()
            app = create_app(
                settings, store=store, embeddings=embeddings, models=models, text_encoder=encoder
            )
            clients.append(stack.enter_context(TestClient(app)))
        yield clients


def _served(client: TestClient, model: str | None = None) -> dict:
    """Everything a worker answers about the catalogue: every user's recommendations and the
    similar items of the new item and of a trained one."""
    params = {"k": 10} if model is None else {"k": 10, "model": model}
    answers: dict = {}
    for user_id in USERS:
        response = client.get(f"/users/{user_id}/recommendations", params=params)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        answers[user_id] = [(i["item_id"], i["title"], i["model_score"]) for i in items]
    for item_id in ("i9", "i3"):
        response = client.get(f"/items/{item_id}/similar", params=params)
        answers[item_id] = (response.status_code, response.json())
    return answers


def _ids(answers: dict, user_id: str) -> set[str]:
    return {item_id for item_id, _, _ in answers[user_id]}


def _scorer(client: TestClient, name: str | None = None) -> Scorer:
    return client.app.state.service.scorer(name)  # as a request gets it


def _vector(client: TestClient, name: str | None = None) -> np.ndarray:
    """The new item's vector in a worker's model (no rows when the model lacks it)."""
    return _scorer(client, name).item_vectors(["i9"])


def _store_calls(client: TestClient, store: FalkorDBStore) -> int:
    """Store round trips of one default recommendation request."""
    calls: list[str] = []
    run = store.run

    def counted(query, parameters=None, *, read_only=False):
        calls.append(query)
        return run(query, parameters, read_only=read_only)

    store.run = counted  # type: ignore[method-assign]
    try:
        assert client.get("/users/u1/recommendations").status_code == 200
    finally:
        del store.run  # back to the class's method
    return len(calls)


def test_a_new_item_reaches_the_other_workers_and_a_restart(
    settings: Settings, text_graph: FalkorDBStore, encoder: object
) -> None:
    index_item_vectors(text_graph, 4)  # the default request's one-statement path is served
    with _workers(settings, text_graph, encoder, 2) as (writer, other):
        before = _served(other)
        assert "i9" not in _ids(before, "u1") and before["i9"][0] == 404
        unchanged = _store_calls(other, text_graph)
        response = writer.post("/items", json=NEW_ITEM)
        assert response.status_code == 201, response.text
        expected = _served(writer)
        assert "i9" in _ids(expected, "u1") and expected["i9"][0] == 200
        assert _served(other) == expected
        # caught up, a request costs the store what it cost before the write
        assert _store_calls(other, text_graph) == unchanged
        [stored] = text_graph.run("MATCH (i:Item {id: 'i9'}) RETURN i.embeddingVersion AS v")
        assert stored == {"v": "test-1"}  # the model that computed the stored vector
    with _workers(settings, text_graph, encoder, 1) as (restarted,):
        assert _served(restarted) == expected


def test_a_replaced_item_reaches_the_other_workers_and_a_restart(
    settings: Settings, text_graph: FalkorDBStore, encoder: object
) -> None:
    with _workers(settings, text_graph, encoder, 2) as (writer, other):
        assert writer.put("/items/i9", json=NEW_ITEM).status_code == 201
        first = _served(writer)
        assert _served(other) == first
        response = writer.put("/items/i9", json=REPLACED)
        assert response.status_code == 200, response.text
        expected = _served(writer)
        assert expected != first
        assert _served(other) == expected
        [stored] = text_graph.run("MATCH (i:Item {id: 'i9'}) RETURN i.embedding AS v")
        assert np.allclose(_vector(other), [stored["v"]], atol=1e-6)
    with _workers(settings, text_graph, encoder, 1) as (restarted,):
        assert _served(restarted) == expected


@pytest.mark.parametrize("item_id", ["i7", "i9"], ids=["trained", "added"])
def test_a_deleted_item_leaves_the_other_workers_and_a_restart(
    settings: Settings, text_graph: FalkorDBStore, encoder: object, item_id: str
) -> None:
    with _workers(settings, text_graph, encoder, 1) as (first,):
        assert first.post("/items", json=NEW_ITEM).status_code == 201
    with _workers(settings, text_graph, encoder, 2) as (writer, other):
        assert item_id in _ids(_served(other), "u1")  # i7 is u1's best, i9 scores high too
        assert writer.delete(f"/items/{item_id}").status_code == 204
        expected = _served(writer)
        assert item_id not in _ids(expected, "u1")
        assert _served(other) == expected
        assert not _scorer(other).has_item(item_id)
    with _workers(settings, text_graph, encoder, 1) as (restarted,):
        assert _served(restarted) == expected
        assert not _scorer(restarted).has_item(item_id)


def test_an_erased_user_starts_cold_on_every_worker(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    """The models are loaded from a directory, as in service, so the erasure record beside
    each model also reaches a restart."""
    save_embeddings(settings.artefacts_dir / "current", embeddings)
    again = {"interactions": [{"user_id": "u1", "item_id": "i3"}]}

    def vector_kind(client: TestClient) -> str:
        response = client.get("/users/u1/recommendations")
        assert response.status_code == 200, response.text
        return response.json()["user_vector"]

    with ExitStack() as stack:
        writer, other = (
            stack.enter_context(TestClient(create_app(settings, store=graph))) for _ in range(2)
        )
        assert vector_kind(other) == "learned"
        assert writer.delete("/users/u1").status_code == 204
        assert other.post("/interactions", json=again).status_code == 201  # re-created here
        assert vector_kind(other) == "folded_in"
        assert vector_kind(writer) == "folded_in"
        assert other.get("/users/u2/recommendations").json()["user_vector"] == "learned"
    with TestClient(create_app(settings, store=graph)) as restarted:
        assert vector_kind(restarted) == "folded_in"


def test_ab_models_get_their_own_vectors_on_every_worker(
    settings: Settings, text_graph: FalkorDBStore, encoder: object
) -> None:
    """Model ``a`` serves the write, so its vector is the stored one; ``b`` gets its own
    vector in memory. Another worker takes ``b``'s from the change log; a restart computes
    it again from the stored text vector and links (the same here: nothing changed since),
    never ``a``'s stored vector."""
    with _workers(settings, text_graph, encoder, 2, ab=True) as (writer, other):
        response = writer.post("/items", params={"model": "a"}, json=NEW_ITEM)
        assert response.status_code == 201, response.text
        vectors = {name: _vector(writer, name) for name in ("a", "b")}
        assert vectors["a"].shape == vectors["b"].shape == (1, 4)
        assert not np.allclose(vectors["a"], vectors["b"])
        expected = {name: _served(writer, name) for name in ("a", "b")}
        assert "i9" in _ids(expected["b"], "u1")
        for name in ("a", "b"):
            assert _served(other, name) == expected[name]
            assert np.array_equal(_vector(other, name), vectors[name])
    with _workers(settings, text_graph, encoder, 1, ab=True) as (restarted,):
        for name in ("a", "b"):
            assert np.allclose(_vector(restarted, name), vectors[name], atol=1e-5)
        assert _served(restarted, "a") == expected["a"]
        assert _ids(_served(restarted, "b"), "u1") == _ids(expected["b"], "u1")


def test_the_change_log_hands_out_whole_records_only(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "serve" / "counters.changes")
    assert log.read(0) == ([], 0) and log.end() == 0
    start, end = log.append({"op": "delete", "item_id": "i1"})
    assert (start, log.end()) == (0, end)
    [header, record], offset = log.read(0)
    assert header["op"] == "log" and (record, offset) == ({"op": "delete", "item_id": "i1"}, end)
    with open(log.path, "ab") as file:  # another worker's record, half written
        file.write(b'{"op": "delete", "item_')
    assert log.read(end) == ([], end)
    with open(log.path, "ab") as file:
        file.write(b'id": "i2"}\n')
    assert log.read(end) == ([{"op": "delete", "item_id": "i2"}], log.end())
    log.path.unlink()  # removed while a worker was past its start: the new log is read whole
    log.append({"op": "erase", "user_id": "u1", "at": 1.0})
    records, _ = log.read(end)
    assert records[1:] == [{"op": "erase", "user_id": "u1", "at": 1.0}]
