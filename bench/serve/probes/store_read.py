"""Probe: what one default request's store read costs, in-process on a serve-bench store.

Compares the combined history-and-nearest statement as it returned a row per item (the form
before bench/serve/README.md's "collected lists" change, kept verbatim here) with the form
``api/vector_source.py`` sends now (one row of collected lists per part), in alternating
rounds after a warm-up, and checks that both parse to the same history and nearest items. On
Neo4j it also times the row conversion of the old per-row form both ways (the driver's
``record.items()`` through ``_plain`` as before, and the scalar fast path ``Neo4jStore.run``
uses now) and reads the server's own times from the result summary.

    TAILGRAPH_...=<prepare.env_for(dir)> .venv/bin/python bench/serve/probes/store_read.py \\
        --users /tmp/tgs-neo/users.json --out bench/results/probes/serve-store-read-neo4j.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

ROWS_HISTORY = (
    "MATCH (u:User {id: $user_id}) OPTIONAL MATCH (u)-[r:INTERACTED]->(i:Item) "
    "RETURN 0 AS part, i.id AS item_id, r.rating AS rating, r.ts AS ts, r.recorded AS recorded "
    "UNION ALL "
    "MATCH (u:User {id: $user_id}) OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item) "
    "WITH count(DISTINCT i) AS seen "
    "WITH $k + CASE WHEN seen < $extra THEN seen ELSE $extra END AS k "
)
ROWS_NEAREST = (
    " WITH node, similarity ORDER BY similarity DESC"
    " RETURN 1 AS part, node.id AS item_id, similarity AS rating, null AS ts, null AS recorded"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    from tailgraph.api import vector_source
    from tailgraph.api.candidates import history_from_entries
    from tailgraph.api.deps import ServiceState
    from tailgraph.settings import get_settings

    state = ServiceState(get_settings())
    store, scorer = state.store(), state.scorer()
    users = json.loads(args.users.read_text())[: args.requests]
    if not state.vectors.ready(store, scorer.dimension):
        sys.exit("the vector index is not ready")
    search = store.dialect.vector_query(vector_source.LABEL, vector_source.PROPERTY, "k", "$vector")
    rows_query = ROWS_HISTORY + search + ROWS_NEAREST
    parameters = [
        {
            "user_id": user_id,
            "k": 50,
            "extra": 50,
            "vector": [float(x) for x in scorer.learned_user_vector(user_id)],
        }
        for user_id in users
    ]

    def by_rows(p: dict, run=store.run) -> tuple:
        rows = run(rows_query, p, read_only=True)
        history = [
            (r["item_id"], r["rating"], r["ts"], r["recorded"]) for r in rows if r["part"] == 0
        ]
        nearest = [(str(r["item_id"]), float(r["rating"])) for r in rows if r["part"] == 1]
        return history_from_entries(p["user_id"], history), sorted(nearest, key=_nearest_first)

    def by_lists(p: dict) -> tuple:
        history, nearest = state.vectors.history_and_nearest(
            store, p["user_id"], scorer.learned_user_vector(p["user_id"]), p["k"], p["extra"]
        )
        return history, nearest

    def mean_ms(one) -> float:
        started = time.perf_counter()
        for p in parameters:
            one(p)
        return round((time.perf_counter() - started) / len(parameters) * 1000, 3)

    variants = {"rows": by_rows, "collected lists": by_lists}
    if store.dialect.name == "neo4j":
        variants["rows, conversion as before"] = lambda p: by_rows(p, _old_neo4j_run(store))
    for _ in range(3):  # warm up (a JVM store needs it)
        for one in variants.values():
            mean_ms(one)
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, one in variants.items():
            rounds[name].append(mean_ms(one))
    same = all(
        by_rows(p)[0].items == by_lists(p)[0].items
        and [i for i, _ in by_rows(p)[1]] == [i for i, _ in by_lists(p)[1]]
        for p in parameters
    )
    record = {
        "probe": "bench/serve/probes/store_read.py",
        "command": shlex.join([".venv/bin/python", *sys.argv]),
        "store": store.dialect.name,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "users": len(parameters),
        "ms_per_read_by_round": rounds,
        "median_ms": {name: statistics.median(v) for name, v in rounds.items()},
        "same_parsed_result": same,
    }
    if store.dialect.name == "neo4j":
        record["server_ms_median"] = _server_times(store, rows_query, parameters)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: record[k] for k in ("median_ms", "same_parsed_result")}))


def _nearest_first(found: tuple[str, float]) -> tuple[float, str]:
    return -found[1], found[0]


def _old_neo4j_run(store):
    """``Neo4jStore.run`` as it converted rows before the scalar fast path (verbatim)."""
    from neo4j import RoutingControl

    def plain(value):
        from neo4j.graph import Node, Path, Relationship

        if isinstance(value, Node | Relationship | Path):
            raise AssertionError("no graph values in this statement")
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    def run(query, parameters=None, *, read_only=False):
        records, _summary, _keys = store._driver.execute_query(
            query,
            dict(parameters or {}),
            database_=store.database,
            routing_=RoutingControl.READ if read_only else RoutingControl.WRITE,
        )
        return [{k: plain(v) for k, v in record.items()} for record in records]

    return run


def _server_times(store, query: str, parameters: list[dict]) -> dict[str, float]:
    """The server's own times for the per-row statement (result summary), against the client's."""
    from neo4j import RoutingControl

    available, consumed, wall = [], [], []
    for p in parameters:
        started = time.perf_counter()
        _records, summary, _keys = store._driver.execute_query(
            query, p, database_=store.database, routing_=RoutingControl.READ
        )
        wall.append((time.perf_counter() - started) * 1000)
        available.append(summary.result_available_after)
        consumed.append(summary.result_consumed_after)
    return {
        "result_available_after": statistics.median(available),
        "result_consumed_after": statistics.median(consumed),
        "client_wall": round(statistics.median(wall), 3),
    }


if __name__ == "__main__":
    main()
