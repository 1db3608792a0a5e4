"""Factories that build a store from settings (never at import time)."""

from __future__ import annotations

from tailgraph.errors import ConfigurationError
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.settings import Settings


def embedded_server(settings: Settings) -> EmbeddedFalkorDB:
    password = settings.falkordb_password.get_secret_value() if settings.falkordb_password else None
    return EmbeddedFalkorDB(settings.falkordb_path, password=password, port=settings.falkordb_port)


def open_store(settings: Settings, *, start: bool = True) -> FalkorDBStore | Neo4jStore:
    """Connect to the configured store; for FalkorDB start the embedded server if needed."""
    if settings.store == "neo4j":
        if not settings.neo4j_uri:
            raise ConfigurationError("TAILGRAPH_STORE=neo4j needs TAILGRAPH_NEO4J_URI")
        import neo4j

        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        driver = neo4j.GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, password)
        )
        return Neo4jStore(driver, database=settings.neo4j_database)

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
