"""The ``vector`` candidate source: nearest items to the user vector in the store's vector index.

Item nodes carry ``embedding`` (learned vectors, written back by training; new items get an
inductive one). The index is created on first use with the serving model's dimension. FalkorDB
builds it in the background, so it is queried only once ``CALL db.indexes()`` says
OPERATIONAL (Neo4j: ``SHOW INDEXES`` says ONLINE); until then, or if the query fails (another
model's dimension, say), the source is skipped and the rest of the request goes on.

:meth:`VectorSource.history_and_nearest` reads a user's history and the nearest items to a
vector known beforehand (a learned user vector) in one statement, so a default request costs
one round trip.

The CALL clause differs between engines, so it comes from the store's dialect and the statement
is composed here rather than kept in a ``.cypher`` file (Neo4j's linter rejects FalkorDB's form).
The index holds whichever model wrote back last; it only *proposes* candidates: every
candidate is then scored with the model chosen for the request.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from tailgraph.api.candidates import UserHistory, history_from_entries
from tailgraph.errors import QueryError
from tailgraph.graph.store import GraphStore

logger = logging.getLogger(__name__)

LABEL, PROPERTY = "Item", "embedding"
RECHECK_SECONDS = 2.0  # how often an index that is not ready yet is looked at again

_FALKORDB_STATUS = "CALL db.indexes() YIELD label, types, status RETURN label, types, status"
_NEO4J_STATUS = "SHOW INDEXES YIELD name, state WHERE name = $name RETURN state"
# One statement, two independent parts (UNION ALL, so neither part's rows are copied into the
# other's): part 0 the user's interactions, part 1 the vector search with
# k = $k + min(distinct items, $extra), the k a separate nearest() call would use. Each part is
# one row of collected lists, not a row per item: the Neo4j driver decodes a record at a time
# in Python, so two rows parse in less than half the time of a row per item
# (bench/serve/README.md); nulls stay in place inside each small list. No part-0 row: no such
# user.
_HISTORY = (
    "MATCH (u:User {id: $user_id}) OPTIONAL MATCH (u)-[r:INTERACTED]->(i:Item) "
    "RETURN 0 AS part, collect([i.id, r.rating, r.ts, r.recorded]) AS found "
    "UNION ALL "
    "MATCH (u:User {id: $user_id}) OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item) "
    "WITH count(DISTINCT i) AS seen "
    "WITH $k + CASE WHEN seen < $extra THEN seen ELSE $extra END AS k "
)
_NEAREST = " RETURN 1 AS part, collect([node.id, similarity]) AS found"


class VectorSource:
    """Readiness of the ``Item.embedding`` index, cached per store, and the query itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ensured: set[int] = set()  # dimensions an index was requested for
        self._ready = False
        self._checked = -float("inf")

    def ready(self, store: GraphStore, dimension: int) -> bool:
        """True once the index answers queries; creates it on first call (never raises)."""
        if self._ready:
            return True
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return False
        with self._lock:
            self._checked = now
            try:
                if dimension not in self._ensured:
                    self._ensured.add(dimension)
                    store.ensure_vector_index(LABEL, PROPERTY, dimension)
                self._ready = self._status_ready(store)
            except QueryError as e:
                logger.warning("vector index on %s.%s unavailable: %s", LABEL, PROPERTY, e)
                self._ready = False
            return self._ready

    @staticmethod
    def _status_ready(store: GraphStore) -> bool:
        if store.dialect.name == "neo4j":
            name = store.dialect.vector_index_name(LABEL, PROPERTY)
            rows = store.run(_NEO4J_STATUS, {"name": name}, read_only=True)
            return bool(rows) and all(row["state"] == "ONLINE" for row in rows)
        rows = store.run(_FALKORDB_STATUS, read_only=True)
        mine = [
            row
            for row in rows
            if row["label"] == LABEL and "VECTOR" in (row.get("types") or {}).get(PROPERTY, [])
        ]
        return bool(mine) and all(row["status"] == "OPERATIONAL" for row in mine)

    def nearest(self, store: GraphStore, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (item id, cosine similarity), nearest first; [] if not ready or failing."""
        if k <= 0 or not self.ready(store, int(vector.shape[0])):
            return []
        query = (
            store.dialect.vector_query(LABEL, PROPERTY, "$k", "$vector")
            + " RETURN node.id AS item_id, similarity ORDER BY similarity DESC"
        )
        try:
            rows = store.run(
                query, {"k": int(k), "vector": [float(x) for x in vector]}, read_only=True
            )
        except QueryError as e:
            logger.warning("vector candidates skipped: %s", e)
            return []
        return [(str(row["item_id"]), float(row["similarity"])) for row in rows]

    def history_and_nearest(
        self, store: GraphStore, user_id: str, vector: np.ndarray, k: int, extra: int
    ) -> tuple[UserHistory, list[tuple[str, float]]] | None:
        """The user's history and the ``k + min(len(history), extra)`` items nearest to
        ``vector``, in one statement; None when the index is not ready, the query fails or
        returns nothing (no such user: the caller reads the history alone and says so)."""
        if k <= 0 or not self.ready(store, int(vector.shape[0])):
            return None
        query = _HISTORY + store.dialect.vector_query(LABEL, PROPERTY, "k", "$vector") + _NEAREST
        parameters = {
            "user_id": user_id,
            "k": int(k),
            "extra": int(extra),
            "vector": [float(x) for x in vector],
        }
        try:
            rows = store.run(query, parameters, read_only=True)
        except QueryError as e:
            logger.warning("history and vector candidates in one query failed: %s", e)
            return None
        parts = {row["part"]: row["found"] for row in rows}
        if 0 not in parts:
            return None
        nearest = [(str(item_id), float(similarity)) for item_id, similarity in parts.get(1, ())]
        nearest.sort(key=lambda found: (-found[1], found[0]))  # nearest first, as nearest()
        return history_from_entries(user_id, parts[0]), nearest
