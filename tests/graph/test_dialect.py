"""The dialect module: identifier validation, and what each engine's statements must contain.

Neo4j's output is also linted by Neo4j's own Cypher parser in ``tests/test_cypher_lint.py``;
each dialect's output is run here on its real store (embedded FalkorDB, the local Neo4j).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest

from tailgraph.graph.dialect import FALKORDB, NEO4J, Dialect, check_identifier
from tailgraph.graph.records import NODE_LABELS
from tailgraph.graph.store import GraphStore

INJECTIONS = [
    "Item) DETACH DELETE (n",
    "Item {id: 'x'}",
    "Item`",
    "`Item`",
    "Item:Admin",
    "Item;",
    "Item // comment",
    "Item\nMATCH (n) DETACH DELETE n",
    "a b",
    "1Item",
    "",
    "Ítem",
    "$label",
    "{{label}}",
]


@pytest.mark.parametrize("name", ["Item", "User", "DIRECTED_BY", "_private", "textEmbedding", "x1"])
def test_valid_identifiers_pass_unchanged(name: str) -> None:
    assert check_identifier(name) == name


@pytest.mark.parametrize("name", INJECTIONS)
def test_injection_attempts_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        check_identifier(name)


@pytest.mark.parametrize("name", [None, 3, b"Item", ["Item"]])
def test_non_strings_are_rejected(name: object) -> None:
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        check_identifier(name)  # type: ignore[arg-type]


def test_allowed_set_is_enforced() -> None:
    allowed = frozenset(NODE_LABELS)
    assert check_identifier("Entity", allowed=allowed) == "Entity"
    with pytest.raises(ValueError, match="is not one of the validated names"):
        check_identifier("Admin", allowed=allowed)
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        check_identifier("Item) RETURN 1 //", allowed=allowed | {"Item) RETURN 1 //"})


@pytest.mark.parametrize("dialect", [NEO4J, FALKORDB], ids=lambda d: d.name)
@pytest.mark.parametrize(
    "build",
    [
        lambda d, bad: d.unique_id_ddl(bad),
        lambda d, bad: d.vector_index_ddl(bad, "textEmbedding", 8),
        lambda d, bad: d.vector_index_ddl("Item", bad, 8),
        lambda d, bad: d.vector_query(bad, "textEmbedding", "$k", "$v"),
        lambda d, bad: d.vector_query("Item", bad, "$k", "$v"),
        lambda d, bad: d.vector_index_name(bad, "textEmbedding"),
    ],
    ids=["unique", "index-label", "index-prop", "query-label", "query-prop", "index-name"],
)
def test_every_statement_validates_its_identifiers(
    dialect: Dialect, build: Callable[[Dialect, str], object]
) -> None:
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        build(dialect, "Item) DETACH DELETE (n")


@pytest.mark.parametrize("dialect", [NEO4J, FALKORDB], ids=lambda d: d.name)
def test_dimensions_must_be_a_number(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        dialect.vector_index_ddl("Item", "textEmbedding", "384}) DETACH DELETE (n")  # type: ignore[arg-type]
    assert "384" in dialect.vector_index_ddl("Item", "textEmbedding", 384.0)  # type: ignore[arg-type]


def test_neo4j_unique_constraint_is_named_idempotent_and_per_label() -> None:
    statements = {label: NEO4J.unique_id_ddl(label) for label in NODE_LABELS}
    for label, [statement] in statements.items():
        assert statement.startswith("CREATE CONSTRAINT ")
        assert "IF NOT EXISTS" in statement
        assert f"(n:{label})" in statement
        assert "n.id IS UNIQUE" in statement
    names = {s[0].split()[2] for s in statements.values()}
    assert len(names) == len(NODE_LABELS)


def test_neo4j_vector_index_and_query_agree_on_the_index_name() -> None:
    name = NEO4J.vector_index_name("Item", "textEmbedding")
    assert name == "item_textembedding"
    ddl = NEO4J.vector_index_ddl("Item", "textEmbedding", 384)
    assert name in ddl and "IF NOT EXISTS" in ddl
    assert "`vector.dimensions`: 384" in ddl
    assert "'cosine'" in ddl
    query = NEO4J.vector_query("Item", "textEmbedding", "$k", "$vector")
    assert f"db.index.vector.queryNodes('{name}', $k, $vector)" in query
    assert "similarity" in query and "vecf32" not in query
    assert NEO4J.vector_value("row.embedding") == "row.embedding"


def test_falkordb_statements_use_its_own_functions() -> None:
    assert FALKORDB.vector_value("row.embedding") == "vecf32(row.embedding)"
    [statement] = FALKORDB.unique_id_ddl("Item")
    assert "CONSTRAINT" not in statement and "(n:Item)" in statement
    ddl = FALKORDB.vector_index_ddl("Item", "textEmbedding", 384)
    assert "dimension: 384" in ddl and "'cosine'" in ddl
    query = FALKORDB.vector_query("Item", "textEmbedding", "$k", "$vector")
    assert "db.idx.vector.queryNodes('Item', 'textEmbedding', $k, vecf32($vector))" in query


def test_base_dialect_has_no_engine_specific_statements() -> None:
    base = Dialect()
    assert base.vector_value("v") == "v"
    with pytest.raises(NotImplementedError):
        base.unique_id_ddl("Item")


def _vector_index_ready(store: GraphStore) -> bool:
    if store.dialect is NEO4J:
        rows = store.run("SHOW INDEXES YIELD type, state WHERE type = 'VECTOR' RETURN state")
        return bool(rows) and all(row["state"] == "ONLINE" for row in rows)
    status = store.run("CALL db.indexes() YIELD status RETURN status")
    return bool(status) and all(row["status"] == "OPERATIONAL" for row in status)


def test_vector_query_yields_cosine_similarity(store: GraphStore) -> None:
    """Each dialect end to end on its real store: vector values, index, query, normalisation."""
    dialect = store.dialect
    vectors = {"same": [1.0, 0.0, 0.0], "diagonal": [1.0, 1.0, 0.0], "opposite": [-1.0, 0.0, 0.0]}
    store.run(
        "UNWIND $rows AS row CREATE (n:Item {id: row.id}) "
        f"SET n.textEmbedding = {dialect.vector_value('row.vector')}",
        {"rows": [{"id": k, "vector": v} for k, v in vectors.items()]},
    )
    store.ensure_vector_index("Item", "textEmbedding", 3)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _vector_index_ready(store):
        time.sleep(0.05)
    query = dialect.vector_query("Item", "textEmbedding", "$k", "$vector")
    rows = store.run(
        query + " RETURN node.id AS id, similarity ORDER BY similarity DESC",
        {"k": 3, "vector": [2.0, 0.0, 0.0]},
    )
    assert [row["id"] for row in rows] == ["same", "diagonal", "opposite"]
    expected = [1.0, 1 / math.sqrt(2), -1.0]
    assert [row["similarity"] for row in rows] == pytest.approx(expected, abs=1e-5)


def test_vector_index_is_created_once_and_dropped(store: GraphStore) -> None:
    store.ensure_vector_index("Item", "embedding", 4)
    store.ensure_vector_index("Item", "embedding", 4)  # idempotent
    store.drop_vector_index("Item", "embedding")
    store.drop_vector_index("Item", "embedding")  # dropping a missing index is no error
    store.ensure_vector_index("Item", "embedding", 8)  # a new dimension after the drop
