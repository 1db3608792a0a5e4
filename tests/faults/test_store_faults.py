"""Faults on real processes: the store killed with SIGKILL during service load and during
ingest. Each case runs its own embedded FalkorDB (never the session's shared one)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.errors import StoreUnavailableError
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.ingest import counts, ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.settings import Settings


@pytest.fixture
def server() -> Iterator[EmbeddedFalkorDB]:
    directory = Path(tempfile.mkdtemp(prefix="tgf"))
    db = EmbeddedFalkorDB(directory, password="faults")
    db.start()
    yield db
    db.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _store(server: EmbeddedFalkorDB, graph: str = "tailgraph") -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path),
        password=server.password,
        socket_timeout=10,
        socket_connect_timeout=1,
    )
    return FalkorDBStore(client, graph_name=graph)


def _kill(server: EmbeddedFalkorDB) -> None:
    os.kill(server.pid(), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.01)


def _random_model(dataset) -> LearnedEmbeddings:
    rng = np.random.default_rng(0)
    users = [u["id"] for u in dataset.users]
    items = [i["id"] for i in dataset.items]
    return LearnedEmbeddings(
        model_name="random",
        version="faults-1",
        user_ids=users,
        item_ids=items,
        user=rng.normal(size=(len(users), 8)).astype(np.float32),
        item=rng.normal(size=(len(items), 8)).astype(np.float32),
        item_popularity=np.ones(len(items), dtype=np.int64),
    )


def test_store_killed_under_load_is_503_then_recovers_without_restarting_the_api(
    server: EmbeddedFalkorDB, tmp_path: Path
) -> None:
    dataset = generate(SyntheticConfig(n_users=60, n_items=40, n_interactions=600, seed=3))
    store = _store(server)
    ingest(store, dataset, progress=False)
    settings = Settings(_env_file=None, data_dir=tmp_path, artefacts_dir=tmp_path / "a")
    statuses: Counter[int] = Counter()
    with TestClient(create_app(settings, store=store, embeddings=_random_model(dataset))) as api:
        users = [u["id"] for u in dataset.users]
        assert api.get(f"/users/{users[0]}/recommendations").status_code == 200
        _kill(server)
        for user in users[:20]:
            response = api.get(f"/users/{user}/recommendations")
            statuses[response.status_code] += 1
            if response.status_code == 503:
                assert response.headers["retry-after"]
                assert response.headers["x-model-version"] == "faults-1"
        assert set(statuses) == {503}, statuses
        threading.Timer(0.5, server.start).start()
        deadline = time.monotonic() + 30
        while True:
            response = api.get(f"/users/{users[1]}/recommendations")
            assert response.status_code in (200, 503), response.text
            if response.status_code == 200:
                break
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.1)
    store.close()


def test_ingest_cut_by_a_store_kill_converges_when_run_again(server: EmbeddedFalkorDB) -> None:
    """A kill -9 of the store mid-ingest leaves a part-written graph; after a restart, the
    same ingest run again gives exactly a clean run's counts."""
    dataset = generate(SyntheticConfig.for_users(1500, seed=4))
    clean_store = _store(server, "clean")
    clean = ingest(clean_store, dataset, progress=False, batch_size=500)
    clean_store.close()

    store = _store(server, "cut")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ingest(store, dataset, progress=False, batch_size=500)
        except BaseException as e:  # the store died under it
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # kill once some interactions are in
        probe = _store(server, "cut")
        try:
            written = counts(probe)[1].get("INTERACTED", 0)
        except StoreUnavailableError:
            written = 0
        finally:
            probe.close()
        if written > 0:
            break
        time.sleep(0.02)
    _kill(server)
    thread.join(timeout=60)
    assert errors and isinstance(errors[0], StoreUnavailableError)

    server.start()
    store = _store(server, "cut")
    part_nodes, part_rels = counts(store)
    assert (part_nodes, part_rels) != (clean.nodes, clean.relationships)
    again = ingest(store, dataset, progress=False, batch_size=500)
    assert (again.nodes, again.relationships) == (clean.nodes, clean.relationships)
    store.close()
