"""The embedded FalkorDB server: lifecycle, reuse and persistence across restarts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.ingest import counts, ingest
from tailgraph.graph.records import Dataset, Interaction


@pytest.fixture
def server() -> Iterator[EmbeddedFalkorDB]:
    """A server of its own in a short directory (unix socket paths are length-limited)."""
    directory = Path(tempfile.mkdtemp(prefix="tg"))
    db = EmbeddedFalkorDB(directory, password="lifecycle-test")
    yield db
    db.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _store(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(unix_socket_path=str(server.socket_path), password=server.password)
    return FalkorDBStore(client, graph_name="persisted")


def test_start_reuse_status_and_stop(server: EmbeddedFalkorDB) -> None:
    assert server.status().running is False and server.status().pid is None
    started = server.start()
    assert started.running is True and started.pid is not None
    assert started.socket == server.socket_path and server.socket_path.exists()
    # Starting again, or from a second object on the same directory, reuses the live server.
    assert server.start().pid == started.pid
    twin = EmbeddedFalkorDB(server.directory, password=server.password)
    assert twin.start().pid == started.pid
    assert twin.status().running is True

    assert server.stop() is True
    assert server.status().running is False and server.status().pid is None
    assert server.stop() is False


def test_data_survives_a_restart(server: EmbeddedFalkorDB) -> None:
    server.start()
    dataset = Dataset(
        name="restart",
        users=[{"id": "u1", "age": 41}],
        items=[{"id": "i1", "title": "Alien"}],
        interactions=[Interaction("u1", "i1", 5.0, 1.0)],
    )
    store = _store(server)
    ingest(store, dataset, progress=False)
    store.close()
    server.stop()
    assert server.status().running is False

    server.start()
    store = _store(server)
    try:
        assert counts(store) == ({"User": 1, "Item": 1}, {"INTERACTED": 1})
        assert store.run("MATCH (i:Item {id: 'i1'}) RETURN i.title AS t") == [{"t": "Alien"}]
        unique = {c["label"] for c in store.list_constraints() if c.get("type") == "UNIQUE"}
        assert {"User", "Item"} <= unique
    finally:
        store.close()


def test_overlong_directory_is_rejected(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    with pytest.raises(ConfigurationError, match="too long for a unix socket"):
        EmbeddedFalkorDB(deep, password="x").start()
