"""The Neo4j store on the real local Neo4j: routing, graph values, errors, schema calls.

Every failure here is the server's own: a syntax error, a constraint violation, a closed port.
"""

from __future__ import annotations

import threading

import neo4j
import pytest

from tailgraph.errors import QueryError, StoreUnavailableError
from tailgraph.graph.dialect import NEO4J
from tailgraph.graph.neo4j_local import LocalNeo4j
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.graph.store import GraphStore


def test_is_a_graph_store(neo4j_store: Neo4jStore) -> None:
    assert isinstance(neo4j_store, GraphStore)
    assert neo4j_store.dialect is NEO4J
    assert neo4j_store.ping()


def test_rows_are_plain_dicts_with_parameters(neo4j_store: Neo4jStore) -> None:
    neo4j_store.run("UNWIND $ids AS id CREATE (:Item {id: id})", {"ids": ["i2", "i1"]})
    rows = neo4j_store.run(
        "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, 3 AS n ORDER BY id",
        {"ids": ["i1", "i2", "i9"]},
        read_only=True,
    )
    assert rows == [{"id": "i1", "n": 3}, {"id": "i2", "n": 3}]
    assert all(type(row) is dict for row in rows)


def test_read_only_queries_cannot_write(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(QueryError, match="Neo4j rejected the query"):
        neo4j_store.run("CREATE (:Item {id: 'x'})", read_only=True)
    assert neo4j_store.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_graph_values_become_plain_dicts(neo4j_store: Neo4jStore) -> None:
    neo4j_store.run(
        "CREATE (:User {id: 'u1'})-[:INTERACTED {rating: 4.0}]->(:Item {id: 'i1', title: 'One'})"
    )
    [row] = neo4j_store.run(
        "MATCH p = (u:User)-[r]->(i:Item) RETURN u, r, p, [i] AS items, {i: i} AS m"
    )
    item = {"_labels": ["Item"], "id": "i1", "title": "One"}
    assert row["u"] == {"_labels": ["User"], "id": "u1"}
    assert row["r"] == {"_type": "INTERACTED", "rating": 4.0}
    assert row["p"] == {
        "nodes": [{"_labels": ["User"], "id": "u1"}, item],
        "relationships": [{"_type": "INTERACTED", "rating": 4.0}],
    }
    assert row["items"] == [item]
    assert row["m"] == {"i": item}


def test_syntax_errors_are_query_errors(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(QueryError, match="Neo4j rejected the query") as caught:
        neo4j_store.run("RETRUN 1")
    assert isinstance(caught.value.__cause__, neo4j.exceptions.CypherSyntaxError)
    assert not isinstance(caught.value, StoreUnavailableError)


def test_unique_id_constraint_is_idempotent_and_enforced(neo4j_store: Neo4jStore) -> None:
    neo4j_store.ensure_unique_id("Item")
    neo4j_store.ensure_unique_id("Item")
    assert {"label": "Item", "properties": ["id"], "type": "UNIQUE"} in (
        neo4j_store.list_constraints()
    )
    neo4j_store.run("CREATE (:Item {id: 'i1'})")
    with pytest.raises(QueryError, match="already exists") as caught:
        neo4j_store.run("CREATE (:Item {id: 'i1'})")
    assert isinstance(caught.value.__cause__, neo4j.exceptions.ConstraintError)


def test_identifiers_are_checked_before_anything_is_sent(neo4j_store: Neo4jStore) -> None:
    neo4j_store.run("CREATE (:Item {id: 'keep'})")
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        neo4j_store.ensure_unique_id("Item) DETACH DELETE (n")
    assert neo4j_store.run("MATCH (n) RETURN count(n) AS n") == [{"n": 1}]


def test_vector_index_lifecycle(neo4j_store: Neo4jStore) -> None:
    neo4j_store.ensure_vector_index("Item", "textEmbedding", 4)
    neo4j_store.ensure_vector_index("Item", "textEmbedding", 4)
    indexes = neo4j_store.run("SHOW INDEXES YIELD name, type WHERE type = 'VECTOR' RETURN name")
    assert indexes == [{"name": NEO4J.vector_index_name("Item", "textEmbedding")}]
    neo4j_store.drop_vector_index("Item", "textEmbedding")
    neo4j_store.drop_vector_index("Item", "textEmbedding")
    assert neo4j_store.run("SHOW INDEXES YIELD type WHERE type = 'VECTOR' RETURN type") == []


def test_schema_created_by_clients_racing_is_created_once_without_error(
    neo4j_store: Neo4jStore,
) -> None:
    """Workers of one service start together and each ensures the same index and constraint;
    Neo4j tells all but one that an equivalent rule exists, which must not be an error."""
    failures: list[BaseException] = []

    def ensure(start: threading.Barrier) -> None:
        start.wait()
        try:
            neo4j_store.ensure_vector_index("Item", "textEmbedding", 4)
            neo4j_store.ensure_unique_id("Item")
        except BaseException as e:  # reported below
            failures.append(e)

    for _ in range(5):
        neo4j_store.drop_vector_index("Item", "textEmbedding")
        start = threading.Barrier(4)
        threads = [threading.Thread(target=ensure, args=(start,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
    indexes = neo4j_store.run("SHOW INDEXES YIELD name, type WHERE type = 'VECTOR' RETURN name")
    assert indexes == [{"name": NEO4J.vector_index_name("Item", "textEmbedding")}]
    neo4j_store.drop_vector_index("Item", "textEmbedding")


def test_clear_deletes_everything(neo4j_store: Neo4jStore) -> None:
    neo4j_store.run("CREATE (:User {id: 'u'})-[:INTERACTED]->(:Item {id: 'i'})")
    neo4j_store.clear()
    assert neo4j_store.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_closed_port_is_store_unavailable(neo4j_server: LocalNeo4j) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = neo4j.GraphDatabase.driver(
        f"bolt://127.0.0.1:{port}", auth=("neo4j", "x"), max_transaction_retry_time=0
    )
    store = Neo4jStore(driver)
    try:
        assert store.ping() is False
        with pytest.raises(StoreUnavailableError, match="Neo4j is not reachable"):
            store.run("RETURN 1")
    finally:
        store.close()


def test_wrong_password_is_rejected(neo4j_server: LocalNeo4j) -> None:
    driver = neo4j.GraphDatabase.driver(neo4j_server.uri, auth=("neo4j", "neo4j"))
    store = Neo4jStore(driver)
    try:
        assert store.ping() is False
        with pytest.raises(StoreUnavailableError, match="rejected the user or password"):
            store.run("RETURN 1")
    finally:
        store.close()
