"""The Neo4j store against the official driver's real API surface.

No Neo4j server can run on these machines, so this module holds the one mock the test suite
permits: a driver made with ``create_autospec(neo4j.Driver, instance=True)``, i.e. a
``MagicMock(spec=neo4j.Driver)`` whose methods also check their positional arguments against
the real signatures. ``execute_query`` takes ``**kwargs`` (any other keyword becomes a query
parameter), so the tests compare its keywords exactly: a misspelt ``database=`` fails here.
Results, graph values and exceptions are the driver's own classes; ``tests/test_neo4j_e2e.py``
covers a live server.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import create_autospec

import neo4j
import pytest
from neo4j import EagerResult, Record, RoutingControl
from neo4j.exceptions import (
    ConstraintError,
    CypherSyntaxError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.graph import Graph, Node, Path

from tailgraph.errors import QueryError, StoreUnavailableError
from tailgraph.graph.dialect import NEO4J
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.graph.store import GraphStore


def make_driver(rows: list[dict[str, Any]] | None = None) -> Any:
    driver = create_autospec(neo4j.Driver, instance=True)
    rows = rows or []
    keys = list(rows[0]) if rows else []
    records = [Record(row.items()) for row in rows]
    driver.execute_query.return_value = EagerResult(records, None, keys)
    return driver


def sent(driver: Any, call: int = -1) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(query, parameters, keyword arguments) of one ``execute_query`` call."""
    args, kwargs = driver.execute_query.call_args_list[call]
    return args[0], args[1], kwargs


def test_is_a_graph_store() -> None:
    store = Neo4jStore(make_driver(), database="movies")
    assert isinstance(store, GraphStore)
    assert store.dialect is NEO4J


def test_run_sends_database_routing_and_parameters() -> None:
    driver = make_driver([{"id": "i1", "n": 3}, {"id": "i2", "n": 1}])
    store = Neo4jStore(driver, database="movies")

    rows = store.run("MATCH (i:Item {id: $id}) RETURN i.id AS id, 3 AS n", {"id": "i1"})

    assert rows == [{"id": "i1", "n": 3}, {"id": "i2", "n": 1}]
    assert all(type(row) is dict for row in rows)
    query, parameters, kwargs = sent(driver)
    assert query.startswith("MATCH (i:Item")
    assert parameters == {"id": "i1"}
    assert kwargs == {"database_": "movies", "routing_": RoutingControl.WRITE}


def test_read_only_queries_are_routed_to_readers() -> None:
    driver = make_driver()
    store = Neo4jStore(driver)

    assert store.run("MATCH (n) RETURN n", read_only=True) == []

    _query, parameters, kwargs = sent(driver)
    assert parameters == {}
    assert kwargs["routing_"] is RoutingControl.READ
    assert kwargs["database_"] == "neo4j"


def test_graph_values_become_plain_dicts() -> None:
    graph = Graph()
    user = Node(graph, "4:x:1", 1, ["User"], {"id": "u1"})
    item = Node(graph, "4:x:2", 2, ["Item"], {"id": "i1", "title": "One"})
    interacted = graph.relationship_type("INTERACTED")(graph, "5:x:1", 1, {"rating": 4.0})
    interacted._start_node, interacted._end_node = user, item  # what the driver's hydrator does
    path = Path(user, interacted)
    driver = make_driver(
        [{"u": user, "r": interacted, "p": path, "items": [item], "m": {"i": item}}]
    )

    [row] = Neo4jStore(driver).run("MATCH p = (u)-[r]->(i) RETURN u, r, p, [i] AS items")

    assert row["u"] == {"_labels": ["User"], "id": "u1"}
    assert row["r"] == {"_type": "INTERACTED", "rating": 4.0}
    assert row["p"] == {
        "nodes": [
            {"_labels": ["User"], "id": "u1"},
            {"_labels": ["Item"], "id": "i1", "title": "One"},
        ],
        "relationships": [{"_type": "INTERACTED", "rating": 4.0}],
    }
    assert row["items"] == [{"_labels": ["Item"], "id": "i1", "title": "One"}]
    assert row["m"] == {"i": {"_labels": ["Item"], "id": "i1", "title": "One"}}


@pytest.mark.parametrize(
    "error", [ServiceUnavailable("Unable to retrieve routing information"), SessionExpired("gone")]
)
def test_unreachable_server_is_store_unavailable(error: Exception) -> None:
    driver = make_driver()
    driver.execute_query.side_effect = error

    with pytest.raises(StoreUnavailableError, match="Neo4j is not reachable") as caught:
        Neo4jStore(driver).run("RETURN 1")
    assert caught.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        CypherSyntaxError("Invalid input 'RETRUN'"),
        ConstraintError("Node(1) already exists with label `Item` and property `id` = 'i1'"),
    ],
)
def test_rejected_query_is_query_error(error: Exception) -> None:
    driver = make_driver()
    driver.execute_query.side_effect = error

    with pytest.raises(QueryError, match="Neo4j rejected the query") as caught:
        Neo4jStore(driver).run("RETRUN 1")
    assert caught.value.__cause__ is error
    assert not isinstance(caught.value, StoreUnavailableError)


def test_ensure_unique_id_issues_the_constraint_ddl() -> None:
    driver = make_driver()
    Neo4jStore(driver).ensure_unique_id("Item")

    queries = [call.args[0] for call in driver.execute_query.call_args_list]
    assert queries == NEO4J.unique_id_ddl("Item")
    assert "CREATE CONSTRAINT" in queries[0] and "IF NOT EXISTS" in queries[0]
    assert "(n:Item)" in queries[0] and "n.id IS UNIQUE" in queries[0]
    assert sent(driver)[2]["routing_"] is RoutingControl.WRITE


def test_ensure_unique_id_rejects_injection_before_sending_anything() -> None:
    driver = make_driver()
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        Neo4jStore(driver).ensure_unique_id("Item) DETACH DELETE (n")
    driver.execute_query.assert_not_called()


def test_vector_index_create_and_drop() -> None:
    driver = make_driver()
    store = Neo4jStore(driver)

    store.ensure_vector_index("Item", "textEmbedding", 384)
    store.drop_vector_index("Item", "textEmbedding")

    create, drop = (call.args[0] for call in driver.execute_query.call_args_list)
    assert create == NEO4J.vector_index_ddl("Item", "textEmbedding", 384)
    assert drop.startswith("DROP INDEX ") and "item_textembedding" in drop
    assert drop.endswith("IF EXISTS")


def test_ping_reports_connectivity() -> None:
    driver = make_driver()
    assert Neo4jStore(driver).ping() is True
    driver.verify_connectivity.side_effect = ServiceUnavailable("no route")
    assert Neo4jStore(driver).ping() is False


def test_clear_and_close_reach_the_driver() -> None:
    driver = make_driver()
    store = Neo4jStore(driver)
    store.clear()
    assert "DETACH DELETE" in sent(driver)[0]
    store.close()
    driver.close.assert_called_once_with()
