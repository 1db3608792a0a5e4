"""The local Neo4j with Graph Data Science (``--gds``): GDS answers and FastRP runs, for real.

A server of its own in a temporary directory, started the way the ``gds_fastrp`` peer and
``tailgraph db start --store neo4j --gds`` start it. Skipped with the reason when the launcher
or the GDS jars are not built (``make neo4j-gds``), except under CI, where that fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.gds import LABELS, FastRPGraph, gds_unavailable
from tailgraph.graph.neo4j_local import LocalNeo4j

pytestmark = pytest.mark.neo4j


@pytest.fixture
def driver(gds_server: LocalNeo4j):
    import neo4j

    with neo4j.GraphDatabase.driver(
        gds_server.uri, auth=(gds_server.user, gds_server.password)
    ) as driver:
        yield driver


def test_missing_gds_jars_name_the_build_step(tmp_path: Path) -> None:
    launcher = tmp_path / "neo4j-launcher.jar"
    launcher.write_bytes(b"")
    server = LocalNeo4j(tmp_path / "db", launcher=launcher, gds=True)
    with pytest.raises(ConfigurationError, match="make neo4j-gds"):
        server.start()
    assert "make neo4j-gds" in gds_unavailable(launcher, tmp_path / "no-gds-lib")


def test_gds_answers_and_the_status_says_so(gds_server: LocalNeo4j, driver) -> None:
    status = gds_server.status()
    assert status.running and status.gds
    assert FastRPGraph(driver).gds_version().startswith("2.")
    procedures = {
        row["name"]
        for row in driver.execute_query(
            "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'gds.' RETURN name"
        ).records
    }
    assert {"gds.graph.project", "gds.fastRP.stream", "gds.fastRP.mutate", "gds.knn.stream"} <= (
        procedures
    )


def test_fastrp_and_knn_separate_two_communities(driver) -> None:
    """Two 6-cliques joined by one edge: FastRP places each node nearer its own clique, and
    gds.knn on the embeddings finds neighbours inside the clique."""
    driver.execute_query("MATCH (n:Toy) DETACH DELETE n")
    driver.execute_query("UNWIND range(0, 11) AS i CREATE (:Toy {i: i})")
    driver.execute_query(
        "MATCH (a:Toy), (b:Toy) WHERE a.i < b.i AND (a.i < 6) = (b.i < 6) CREATE (a)-[:T]->(b)"
    )
    driver.execute_query("MATCH (a:Toy {i: 5}), (b:Toy {i: 6}) CREATE (a)-[:T]->(b)")
    try:
        driver.execute_query(
            "CALL gds.graph.project('toy', 'Toy', {T: {orientation: 'UNDIRECTED'}})"
        )
        rows = driver.execute_query(
            "CALL gds.fastRP.stream('toy', {embeddingDimension: 64, randomSeed: 7}) "
            "YIELD nodeId, embedding RETURN gds.util.asNode(nodeId).i AS i, embedding"
        ).records
        vectors = np.zeros((12, 64))
        for row in rows:
            vectors[row["i"]] = row["embedding"]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        similarity = vectors @ vectors.T
        side = np.arange(12) < 6
        same = similarity[side[:, None] == side[None, :]].mean()
        other = similarity[side[:, None] != side[None, :]].mean()
        assert same > other + 0.3, (same, other)
        driver.execute_query(
            "CALL gds.fastRP.mutate('toy', {embeddingDimension: 64, randomSeed: 7, "
            "mutateProperty: 'e'})"
        )
        pairs = driver.execute_query(
            "CALL gds.knn.stream('toy', {nodeProperties: ['e'], topK: 2, randomSeed: 7, "
            "concurrency: 1}) YIELD node1, node2 "
            "RETURN gds.util.asNode(node1).i AS a, gds.util.asNode(node2).i AS b"
        ).records
        assert len(pairs) == 24
        assert all((p["a"] < 6) == (p["b"] < 6) for p in pairs)
    finally:
        driver.execute_query("CALL gds.graph.drop('toy', false)")
        driver.execute_query("MATCH (n:Toy) DETACH DELETE n")


def test_fastrp_graph_loads_embeds_and_cleans_up(driver) -> None:
    """The peer's graph: its own labels, embeddings by node index, nothing left after clear()."""
    driver.execute_query("CREATE (:User {id: 'kept'})")  # the TailGraph graph's label
    graph = FastRPGraph(driver)
    users, items = np.array([0, 0, 1, 1, 2, 3]), np.array([0, 1, 0, 1, 2, 3])
    text = np.eye(4, 8, dtype=np.float32)
    try:
        graph.load(
            {"User": 4, "Item": 4, "Entity": 1},
            [("User", users, "Item", items), ("Item", np.array([2, 3]), "Entity", np.zeros(2))],
            {"Item": (text, np.array([True, True, True, False]))},
        )
        with pytest.raises(ConfigurationError, match="already holds"):
            FastRPGraph(driver).load({"User": 1}, [])
        for with_kg, ratio in ((False, 0.0), (True, 0.5)):
            vectors = graph.embed(
                embedding_dimension=32,
                iteration_weights=[0.0, 1.0, 1.0],
                normalization_strength=0.0,
                property_ratio=ratio,
                with_kg=with_kg,
                seed=3,
            )
            assert vectors["User"].shape == (4, 32) and vectors["Item"].shape == (4, 32)
            scores = vectors["User"] @ vectors["Item"].T
            # user 0 shares both items with user 1, so item-side 3-hop paths favour items 0/1
            assert scores[0, :2].min() > scores[0, 2:].max(), scores[0]
    finally:
        graph.clear()
    left = driver.execute_query(
        "MATCH (n) RETURN [l IN labels(n) | l] AS labels, count(*) AS n"
    ).records
    assert [(r["labels"], r["n"]) for r in left] == [(["User"], 1)]
    assert not set(LABELS.values()) & {label for r in left for label in r["labels"]}
    listed = driver.execute_query("CALL gds.graph.list() YIELD graphName RETURN graphName")
    assert listed.records == []
    driver.execute_query("MATCH (n:User {id: 'kept'}) DELETE n")


def test_a_server_without_gds_is_named(neo4j_server: LocalNeo4j) -> None:
    import neo4j

    with neo4j.GraphDatabase.driver(
        neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)
    ) as plain:
        with pytest.raises(StoreUnavailableError, match="no Graph Data Science"):
            FastRPGraph(plain).gds_version()
    assert not neo4j_server.status().gds
    with pytest.raises(ConfigurationError, match="without the Graph Data Science"):
        LocalNeo4j(neo4j_server.directory, gds=True).start()


def test_the_gds_option_is_for_the_local_neo4j_only(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from tailgraph.cli import app

    monkeypatch.setenv("TAILGRAPH_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["db", "start", "--store", "falkordb", "--gds"])
    assert result.exit_code != 0
    assert "--gds is for the local Neo4j" in result.output
