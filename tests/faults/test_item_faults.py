"""A real ``kill -9`` of the store process in the middle of ``POST /items`` (after the item node
is written, before its KG links are): once the store is back the item is absent or complete,
never half-written, and the same API process serves again, the retry included. Each case
runs its own embedded FalkorDB."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.store import run_query
from tailgraph.settings import Settings

TYPES = ["DIRECTED_BY", "HAS_GENRE", "STARRING", "LANGUAGE"]


@pytest.fixture
def server() -> Iterator[EmbeddedFalkorDB]:
    directory = Path(tempfile.mkdtemp(prefix="tgi"))
    db = EmbeddedFalkorDB(directory, password="faults")
    db.start()
    yield db
    db.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def encoder() -> object:
    """The real BERT encoder, loaded once for the module."""
    from tailgraph.encoders.bert import TextEncoder

    return TextEncoder(device="cpu", max_length=32)


def _store(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path),
        password=server.password,
        socket_timeout=10,
        socket_connect_timeout=1,
    )
    return FalkorDBStore(client, graph_name="tailgraph")


def _kill_and_restart_later(server: EmbeddedFalkorDB, delay: float = 1.0) -> threading.Thread:
    """SIGKILL the server now; start it again ``delay`` seconds later (as a supervisor would)."""
    os.kill(server.pid(), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.01)

    def restart() -> None:
        time.sleep(delay)
        server.start(timeout=60)

    thread = threading.Thread(target=restart)
    thread.start()
    return thread


class _KillBeforeLinks:
    """The real store; the first time the item's KG links are about to be written, the store
    process is killed with SIGKILL (and restarted a second later), then the query is sent."""

    def __init__(self, store: FalkorDBStore, server: EmbeddedFalkorDB) -> None:
        self._store, self._server = store, server
        self.dialect = store.dialect
        self.restart: threading.Thread | None = None

    def run(self, query, parameters=None, *, read_only=False):
        if self.restart is None and "MERGE (i)-[r:" in query:
            time.sleep(1.2)  # past the append-only file's once-a-second fsync: the node is on disk
            self.restart = _kill_and_restart_later(self._server)
        return self._store.run(query, parameters, read_only=read_only)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def _graph(store: FalkorDBStore, encoder: object) -> None:
    store.run(
        "UNWIND range(0, 29) AS n CREATE (:Item {id: 'i' + toString(n), title: 'Film ' + "
        "toString(n)})"
    )
    store.run("UNWIND range(0, 7) AS n CREATE (:Entity {id: 'e' + toString(n)})")
    for n, rel_type in enumerate(TYPES):  # items i0..i29 linked to e0..e7 by four types
        store.run(
            f"MATCH (i:Item), (e:Entity) WHERE toInteger(substring(i.id, 1)) % 4 = {n} "
            f"AND toInteger(substring(e.id, 1)) % 4 = {n} "
            f"CREATE (i)-[:{rel_type} {{relation: 'film.{rel_type.lower()}'}}]->(e)"
        )
    run_query(store, "entity_item_counts")
    rows = store.run("MATCH (i:Item) RETURN i.id AS id, i.title AS t ORDER BY id")
    vectors = encoder.encode([r["t"] for r in rows])  # type: ignore[attr-defined]
    store.run(
        "UNWIND $rows AS row MATCH (i:Item {id: row.id}) SET i.textEmbedding = vecf32(row.v)",
        {"rows": [{"id": r["id"], "v": v.tolist()} for r, v in zip(rows, vectors, strict=True)]},
    )


def _model() -> LearnedEmbeddings:
    rng = np.random.default_rng(0)
    items = [f"i{n}" for n in range(30)]
    return LearnedEmbeddings(
        model_name="random",
        version="faults-1",
        user_ids=["u0"],
        item_ids=items,
        user=rng.normal(size=(1, 8)).astype(np.float32),
        item=rng.normal(size=(30, 8)).astype(np.float32),
        item_popularity=np.ones(30, dtype=np.int64),
    )


BODY = {
    "item_id": "fresh",
    "title": "Film twelve and a half",
    "links": [{"entity_id": f"e{n}", "relation": TYPES[n % 4]} for n in range(8)],
}
STATE = (
    "MATCH (i:Item {id: 'fresh'}) OPTIONAL MATCH (i)-[r]-(:Entity) "
    "RETURN i.pendingWrite AS pending, count(r) AS links"
)
ENTITY_COUNTS = "MATCH (e:Entity) RETURN e.id AS e, e.itemCount AS n ORDER BY e"


def test_store_killed_during_post_items_leaves_nothing_half_written(
    server: EmbeddedFalkorDB, tmp_path: Path, encoder: object
) -> None:
    store = _store(server)
    _graph(store, encoder)
    counts_before = store.run(ENTITY_COUNTS)
    killing = _KillBeforeLinks(store, server)
    settings = Settings(_env_file=None, data_dir=tmp_path, artefacts_dir=tmp_path / "a")
    app = create_app(settings, store=killing, embeddings=_model(), text_encoder=encoder)
    with TestClient(app) as client:
        response = client.post("/items", json=BODY)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert killing.restart is not None
        killing.restart.join()
        # the store is back (same API process): the half-written node goes at once
        deadline = time.monotonic() + 15
        while store.run(STATE) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.run(STATE) == []
        assert store.run(ENTITY_COUNTS) == counts_before
        assert client.get("/items/fresh/similar").status_code == 404

        retry = client.post("/items", json=BODY)
        assert retry.status_code == 201, retry.text
        assert retry.json()["links"] == 8
        assert store.run(STATE) == [{"pending": None, "links": 8}]
        assert client.get("/items/fresh/similar").status_code == 200
        assert client.get("/items/i0/similar").status_code == 200
    store.close()


def test_posts_during_random_store_kills_end_absent_or_complete(
    server: EmbeddedFalkorDB, tmp_path: Path, encoder: object
) -> None:
    """Posts in a loop while the store is killed at a moment no one chose: every item is then
    absent (and a retry creates it) or complete, with its eight links."""
    store = _store(server)
    _graph(store, encoder)
    settings = Settings(_env_file=None, data_dir=tmp_path, artefacts_dir=tmp_path / "a")
    app = create_app(settings, store=store, embeddings=_model(), text_encoder=encoder)
    statuses: list[int] = []
    restart: list[threading.Thread] = []
    with TestClient(app) as client:
        killer = threading.Timer(
            0.8, lambda: restart.append(_kill_and_restart_later(server, delay=0.5))
        )
        killer.start()
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 4.0 or not restart:
            body = {**BODY, "item_id": f"p{n}", "title": f"Posted film {n}"}
            statuses.append(client.post("/items", json=body).status_code)
            n += 1
        killer.join()
        restart[0].join()
        assert 503 in statuses and 201 in statuses, statuses
        time.sleep(1.5)  # background undos run once the store answers again
        rows = store.run(
            "MATCH (i:Item) WHERE i.id STARTS WITH 'p' OPTIONAL MATCH (i)-[r]-(:Entity) "
            "RETURN i.id AS id, i.pendingWrite AS pending, count(r) AS links"
        )
        assert all(r["pending"] is None and r["links"] == 8 for r in rows), rows
        for k in range(n):  # every post retried: absent ones are created, complete ones 200
            body = {**BODY, "item_id": f"p{k}", "title": f"Posted film {k}"}
            assert client.post("/items", json=body).status_code in (200, 201)
    store.close()
