"""FastRP node embeddings computed by Neo4j's Graph Data Science library (the ``gds_fastrp`` peer).

The standard GDS recommendation recipe: write the user–item interactions (and KG edges) into
Neo4j, project them into the GDS graph catalogue, run FastRP (Chen et al., CIKM 2019) with the
text vectors as ``featureProperties``, and stream the embeddings back. Scoring (dot products,
training items excluded) is ours: ``tailgraph.gnn.baselines.gds_fastrp``.

:class:`FastRPGraph` owns a namespace of its own in whatever database it is given — the labels
of :data:`LABELS` and the relationship types :data:`INTERACTED` / :data:`KG` — and refuses to
start when nodes with those labels already exist, so it never touches or mixes with the
TailGraph graph (``User``/``Item``/``Entity``); :meth:`FastRPGraph.clear` drops its projections
and deletes its nodes. :func:`scratch_fastrp` runs it on a throwaway local Neo4j with GDS in a
temporary directory (Community edition has one user database, so a server of its own is the
cleanest separation), stopped and deleted afterwards.

These queries need Neo4j with GDS, which the FalkorDB-run ``cypher/`` files cannot (every file
there runs on FalkorDB in tests/test_cypher_files.py), so they live here, tested in
tests/graph/test_gds.py on the real server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.dialect import check_identifier
from tailgraph.graph.neo4j_local import DEFAULT_GDS_LIB, DEFAULT_LAUNCHER, LocalNeo4j

# node type -> the label it gets in the peer's namespace
LABELS = {"User": "TgFastRPUser", "Item": "TgFastRPItem", "Entity": "TgFastRPEntity"}
INTERACTED = "TG_FASTRP_INTERACTED"  # user–item training interactions
KG = "TG_FASTRP_KG"  # item–entity and entity–entity KG edges (any relation)
TEXT = "text"  # node property holding the text vector
BATCH = 20_000  # rows per UNWIND
PROJECTIONS = {False: "tg-fastrp-ui", True: "tg-fastrp-kg"}  # with KG or not -> graph name

Edges = tuple[str, np.ndarray, str, np.ndarray]  # (source type, indices, target type, indices)


def gds_unavailable(launcher: Path = DEFAULT_LAUNCHER, gds_lib: Path = DEFAULT_GDS_LIB) -> str:
    """Why the local Neo4j with GDS cannot run here ("" when it can: built, Java present)."""
    if not launcher.is_file():
        return f"the local Neo4j launcher is not built ({launcher}): run `make neo4j-launcher`"
    if not any(Path(gds_lib).glob("*.jar")):
        return f"the Graph Data Science library is not built ({gds_lib}): run `make neo4j-gds`"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java 17+ for the local Neo4j (java on PATH or JAVA_HOME)"
    return ""


class FastRPGraph:
    """A user–item(–KG) graph in its own labels, projected and embedded by GDS FastRP.

    Args: ``driver`` a ``neo4j.Driver`` to a server with GDS (accepted, never created here);
    ``database`` the database to write into.
    """

    def __init__(self, driver: Any, database: str = "neo4j") -> None:
        for name in (*LABELS.values(), INTERACTED, KG):
            check_identifier(name)
        self.driver, self.database = driver, database
        self.counts: dict[str, int] = {}
        self.text_dim = 0
        self.has_kg = False

    def _run(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        records, _, _ = self.driver.execute_query(query, parameters, database_=self.database)
        return [record.data() for record in records]

    def gds_version(self) -> str:
        """GDS's version; StoreUnavailableError when the server has no GDS."""
        try:
            return str(self._run("RETURN gds.version() AS version")[0]["version"])
        except Exception as e:  # the driver's ClientError: unknown function
            raise StoreUnavailableError(f"this Neo4j has no Graph Data Science library: {e}") from e

    def load(
        self,
        nodes: Mapping[str, int],
        edges: Sequence[Edges],
        text: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Write ``nodes`` (type -> count; a node is its type and index), ``edges`` and, per
        type, ``text`` = (vectors (n, d), has_text (n,)) of the nodes that have text."""
        labels = " OR ".join(f"n:{label}" for label in LABELS.values())
        left = self._run(f"MATCH (n) WHERE {labels} RETURN count(n) AS n")[0]["n"]
        if left:
            raise ConfigurationError(
                f"the database already holds {left} nodes labelled {sorted(LABELS.values())} "
                "(another gds_fastrp run, or one that was killed): clear them first"
            )
        unknown = set(nodes) - LABELS.keys()
        if unknown:
            raise ConfigurationError(f"unknown node types {sorted(unknown)}; choose {list(LABELS)}")
        self.counts = {kind: int(n) for kind, n in nodes.items() if n}
        for kind, count in self.counts.items():
            label = LABELS[kind]
            index = f"tg_fastrp_{kind.lower()}"
            self._run(f"CREATE INDEX {index} IF NOT EXISTS FOR (n:{label}) ON (n.i)")
            vectors, present = (text or {}).get(kind, (None, None))
            for start in range(0, count, BATCH):
                stop = min(start + BATCH, count)
                if vectors is None:
                    self._run(f"UNWIND range($start, $stop - 1) AS i CREATE (:{label} {{i: i}})",
                              start=start, stop=stop)  # fmt: skip
                    continue
                rows = [
                    {"i": i, "text": vectors[i].astype(float).tolist() if present[i] else None}
                    for i in range(start, stop)
                ]
                self._run(f"UNWIND $rows AS r CREATE (n:{label} {{i: r.i}}) SET n.{TEXT} = r.text",
                          rows=rows)  # fmt: skip
            if vectors is not None and present.any():
                self.text_dim = int(vectors.shape[1])
        self._run("CALL db.awaitIndexes(300)")
        for source, src, target, dst in edges:
            if source not in self.counts or target not in self.counts:
                raise ConfigurationError(f"edges {source} -> {target} between unloaded node types")
            kind = INTERACTED if {source, target} == {"User", "Item"} else KG
            self.has_kg |= kind == KG and len(src) > 0
            pairs = np.stack([np.asarray(src), np.asarray(dst)], axis=1).astype(int).tolist()
            for start in range(0, len(pairs), BATCH):
                self._run(
                    f"UNWIND $pairs AS p MATCH (a:{LABELS[source]} {{i: p[0]}}) "
                    f"MATCH (b:{LABELS[target]} {{i: p[1]}}) CREATE (a)-[:{kind}]->(b)",
                    pairs=pairs[start : start + BATCH],
                )

    def _project(self, with_kg: bool) -> str:
        """The GDS in-memory graph (undirected; text as a node property when loaded)."""
        name = PROJECTIONS[with_kg]
        if self._run("CALL gds.graph.exists($name) YIELD exists", name=name)[0]["exists"]:
            return name
        labels = [LABELS[k] for k in self.counts if with_kg or k != "Entity"]
        relationships = {INTERACTED: {"orientation": "UNDIRECTED"}}
        if with_kg:
            relationships[KG] = {"orientation": "UNDIRECTED"}
        # Nodes without text (entities) read zeros. (Given per label instead, a default for a
        # label none of whose nodes has the property fails in GDS 2.13 with an NPE.)
        properties = {TEXT: {"defaultValue": [0.0] * self.text_dim}} if self.text_dim else {}
        self._run(
            "CALL gds.graph.project($name, $labels, $relationships, $config) YIELD graphName",
            name=name,
            labels=labels,
            relationships=relationships,
            config={"nodeProperties": properties},
        )
        return name

    def embed(
        self,
        *,
        embedding_dimension: int,
        iteration_weights: Sequence[float],
        normalization_strength: float,
        property_ratio: float,
        with_kg: bool,
        seed: int,
    ) -> dict[str, np.ndarray]:
        """FastRP embeddings {"User": (n_users, d), "Item": (n_items, d)} float32, by index."""
        if property_ratio and not self.text_dim:
            raise ConfigurationError("property_ratio > 0 needs text vectors (none were loaded)")
        graph = self._project(with_kg and self.has_kg)
        config: dict[str, Any] = {
            "embeddingDimension": int(embedding_dimension),
            "iterationWeights": [float(w) for w in iteration_weights],
            "normalizationStrength": float(normalization_strength),
            "randomSeed": int(seed),
            "concurrency": 1,  # deterministic for a seed, and polite on shared machines
        }
        if property_ratio:
            config |= {"featureProperties": [TEXT], "propertyRatio": float(property_ratio)}
        out = {k: np.zeros((self.counts.get(k, 0), embedding_dimension), np.float32)
               for k in ("User", "Item")}  # fmt: skip
        wanted = {LABELS[k]: k for k in out}
        rows = self._run(
            "CALL gds.fastRP.stream($graph, $config) YIELD nodeId, embedding "
            "WITH gds.util.asNode(nodeId) AS n, embedding "
            "WHERE n:TgFastRPUser OR n:TgFastRPItem "
            "RETURN labels(n) AS labels, n.i AS i, embedding",
            graph=graph,
            config=config,
        )
        for row in rows:
            kind = wanted[next(label for label in row["labels"] if label in wanted)]
            out[kind][row["i"]] = row["embedding"]
        return out

    def clear(self) -> None:
        """Drop the projections and delete every node and edge of the namespace."""
        for name in PROJECTIONS.values():
            self._run("CALL gds.graph.drop($name, false) YIELD graphName", name=name)
        for label in LABELS.values():
            while self._run(
                f"MATCH (n:{label}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n",
                batch=BATCH,
            )[0]["n"]:
                pass


@contextmanager
def scratch_fastrp(heap_mb: int = 2048, pagecache_mb: int = 256) -> Iterator[FastRPGraph]:
    """A :class:`FastRPGraph` on a throwaway local Neo4j with GDS (stopped and deleted after)."""
    import neo4j

    reason = gds_unavailable()
    if reason:
        raise ConfigurationError(reason)
    directory = Path(tempfile.mkdtemp(prefix="tg-gds-"))
    server = LocalNeo4j(
        directory, heap_mb=heap_mb, pagecache_mb=pagecache_mb, owner_pid=os.getpid(), gds=True
    )
    try:
        status = server.start()
        with neo4j.GraphDatabase.driver(
            status.uri, auth=(server.user, server.password), notifications_min_severity="OFF"
        ) as driver:
            graph = FastRPGraph(driver)
            graph.gds_version()
            try:
                yield graph
            finally:
                graph.clear()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
