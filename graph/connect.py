"""Factories that build a store from settings (never at import time)."""

from __future__ import annotations

from tailgraph.errors import StoreUnavailableError
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.neo4j_local import LocalNeo4j
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.settings import Settings


def embedded_server(settings: Settings) -> EmbeddedFalkorDB:
    password = settings.falkordb_password.get_secret_value() if settings.falkordb_password else None
    return EmbeddedFalkorDB(settings.falkordb_path, password=password, port=settings.falkordb_port)


def local_neo4j(settings: Settings) -> LocalNeo4j:
    """The project's own Neo4j (neo4j-launcher), used when no TAILGRAPH_NEO4J_URI is set."""
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
    return LocalNeo4j(
        settings.neo4j_path,
        password=password,
        port=settings.neo4j_port,
        launcher=settings.neo4j_launcher,
        heap_mb=settings.neo4j_heap_mb,
        pagecache_mb=settings.neo4j_pagecache_mb,
        gds=settings.neo4j_gds,
    )


def _open_neo4j(settings: Settings, *, start: bool) -> Neo4jStore:
    """A server at TAILGRAPH_NEO4J_URI, else the local Neo4j (started unless ``start=False``)."""
    import neo4j

    if settings.neo4j_uri:
        uri, user = settings.neo4j_uri, settings.neo4j_user
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    else:
        local = local_neo4j(settings)
        status = local.start() if start else local.status()
        if status.uri is None:
            raise StoreUnavailableError(
                f"the local Neo4j in {local.directory} is not running "
                "(`tailgraph db start --store neo4j`)"
            )
        uri, user, password = status.uri, local.user, local.password
    # Notifications (unknown labels on an empty graph, ...) are advice, not errors: keep logs quiet.
    driver = neo4j.GraphDatabase.driver(
        uri,
        auth=(user, password),
        notifications_min_severity="OFF",
        max_transaction_retry_time=settings.neo4j_retry_seconds,
    )
    return Neo4jStore(driver, database=settings.neo4j_database)


def open_store(settings: Settings, *, start: bool = True) -> FalkorDBStore | Neo4jStore:
    """Connect to the configured store; for FalkorDB start the embedded server if needed."""
    if settings.store == "neo4j":
        return _open_neo4j(settings, start=start)

    import falkordb

    server = embedded_server(settings)
    if start:
        server.start()
    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path),
        password=server.password,
        socket_timeout=60,
        socket_connect_timeout=2,
    )
    return FalkorDBStore(client, graph_name=settings.graph_name)
