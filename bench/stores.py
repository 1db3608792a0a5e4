"""FalkorDB and Neo4j side by side on the same data: ingest, export, serving queries, vectors.

Each store gets a private server (embedded FalkorDB, the local Neo4j from neo4j-launcher) in a
temporary directory, the same dataset ingested through ``graph.ingest``, the same export, and
the same serving queries from ``cypher/`` with the parameters the API uses, for the same sampled
users. Random unit vectors go into ``Item.embedding`` for the vector index; its recall@k is
measured against exact cosine search in numpy::

    .venv/bin/python bench/stores.py --dataset ml-100k --users 200 \\
        --record bench/results/stores-ml100k.json
    .venv/bin/python bench/stores.py --synthetic-interactions 1000000 --users 200 \\
        --record bench/results/stores-synthetic.json

``--synthetic-interactions`` is the serving benchmark's synthetic graph (bench/serve/prepare.py:
Zipf 1.5 popularity, so one hub item holds about a tenth of all interactions).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph import stages
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.export import export_snapshot
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.ingest import ingest
from tailgraph.graph.neo4j_local import LocalNeo4j
from tailgraph.graph.neo4j_store import Neo4jStore
from tailgraph.graph.store import GraphStore, run_query
from tailgraph.graph.writeback import write_embeddings
from tailgraph.settings import Settings

DIM = 64  # vector width for the index benchmark
K = 50  # vector query size (the API's default vector candidates are of this order)
# The API's bounds for candidate expansion and explanations (api/candidates.py defaults).
EXPANSION = {
    "max_co_users": 50,
    "max_items_per_co_user": 20,
    "max_entities_per_seed": 10,
    "max_items_per_entity": 20,
    "max_candidates": 200,
    "exclude_seen": True,
    "exclude": [],
}
SEEDS = 10  # most recent items used as expansion seeds


def hub_synthetic(n_interactions: int, seed: int):
    """bench/serve/prepare.py's synthetic graph, scaled: 0.15 users and 0.02 items per
    interaction, 5,000 entities, 60,000 triples, Zipf 1.5 item popularity (a hub item)."""
    from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate

    return generate(
        SyntheticConfig(
            n_users=max(100, n_interactions * 3 // 20),
            n_items=max(50, n_interactions // 50),
            n_interactions=n_interactions,
            n_entities=5_000,
            n_triples=60_000,
            zipf_exponent=1.5,
            seed=seed,
        )
    )


def start_falkordb(directory: Path) -> tuple[FalkorDBStore, Any]:
    import falkordb

    server = EmbeddedFalkorDB(directory / "falkordb", password="bench-password")
    server.start()
    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path), password=server.password, socket_timeout=600
    )
    return FalkorDBStore(client, graph_name="bench"), server


def start_neo4j(directory: Path, heap_mb: int, pagecache_mb: int) -> tuple[Neo4jStore, Any]:
    import neo4j

    server = LocalNeo4j(directory / "neo4j", heap_mb=heap_mb, pagecache_mb=pagecache_mb)
    server.start()
    driver = neo4j.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password), notifications_min_severity="OFF"
    )
    return Neo4jStore(driver), server


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "n": len(seconds),
    }


def timed(store: GraphStore, name: str, parameters: dict[str, Any]) -> tuple[float, list]:
    started = time.perf_counter()
    rows = run_query(store, name, parameters, read_only=True)
    return time.perf_counter() - started, rows


def wait_for_vector_index(store: GraphStore, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if store.dialect.name == "neo4j":
            rows = store.run("SHOW INDEXES YIELD type, state WHERE type = 'VECTOR' RETURN state")
            ready = bool(rows) and all(r["state"] == "ONLINE" for r in rows)
        else:
            rows = store.run("CALL db.indexes() YIELD label, status RETURN label, status")
            ready = any(r["label"] == "Item" for r in rows) and all(
                r["status"] == "OPERATIONAL" for r in rows
            )
        if ready:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise TimeoutError("vector index not ready")


def bench_store(store: GraphStore, dataset, users: list[str], seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = (
        len(dataset.users)
        + len(dataset.items)
        + len(dataset.entities)
        + len(dataset.interactions)
        + len(dataset.triples)
    )
    started = time.perf_counter()
    report = ingest(store, dataset, progress=False)
    seconds = time.perf_counter() - started
    out["ingest"] = {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1),
        "nodes": report.nodes,
    }
    started = time.perf_counter()
    snapshot = export_snapshot(store)
    out["export_seconds"] = round(time.perf_counter() - started, 3)
    out["export_interactions"] = int(len(snapshot.interactions.user))

    rng = np.random.default_rng(seed)
    item_ids = list(snapshot.item_ids)
    vectors = rng.standard_normal((len(item_ids), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    write_embeddings(store, "Item", item_ids, vectors, version=None)
    out["write_embeddings_seconds"] = round(time.perf_counter() - started, 3)
    store.ensure_vector_index("Item", "embedding", DIM)
    out["vector_index_build_seconds"] = round(wait_for_vector_index(store), 3)

    latency: dict[str, list[float]] = {
        "user_history": [],
        "candidates_collaborative": [],
        "candidates_knowledge": [],
        "vector_query": [],
        "user_item_paths": [],
    }
    recalls = []
    vector_query = (
        store.dialect.vector_query("Item", "embedding", "$k", "$vector")
        + " RETURN node.id AS item_id, similarity ORDER BY similarity DESC"
    )
    for user_id in users:
        seconds, history = timed(store, "user_history", {"user_id": user_id})
        latency["user_history"].append(seconds)
        seen = [r["item_id"] for r in history if r["item_id"] is not None]
        recent = [r["item_id"] for r in sorted(history, key=lambda r: -(r["ts"] or 0))][:SEEDS]
        base = {"user_id": user_id, "seeds": recent, **EXPANSION}
        seconds, collaborative = timed(store, "candidates_collaborative", base)
        latency["candidates_collaborative"].append(seconds)
        seconds, _ = timed(store, "candidates_knowledge", base)
        latency["candidates_knowledge"].append(seconds)
        target = collaborative[0]["item_id"] if collaborative else item_ids[0]
        seconds, _ = timed(
            store,
            "user_item_paths",
            {
                "item_id": target,
                "seen": seen,
                "min_entity_items": 0,
                "max_entity_items": 1000,
                "max_rows": 200,
            },
        )
        latency["user_item_paths"].append(seconds)

        query_vector = rng.standard_normal(DIM).astype(np.float32)
        query_vector /= np.linalg.norm(query_vector)
        started = time.perf_counter()
        found = store.run(
            vector_query, {"k": K, "vector": [float(x) for x in query_vector]}, read_only=True
        )
        latency["vector_query"].append(time.perf_counter() - started)
        exact = {item_ids[i] for i in np.argsort(-(vectors @ query_vector))[:K]}
        recalls.append(len(exact & {str(r["item_id"]) for r in found}) / K)
    out["queries"] = {name: percentiles(values) for name, values in latency.items()}
    out["vector_recall_at_k"] = {"k": K, "dim": DIM, "mean": round(float(np.mean(recalls)), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--synthetic-users", type=int, default=None)
    parser.add_argument(
        "--synthetic-interactions", type=int, default=None, help="the hub-item synthetic graph"
    )
    parser.add_argument("--users", type=int, default=200, help="sampled users for query timing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stores", default="falkordb,neo4j")
    parser.add_argument("--neo4j-heap-mb", type=int, default=2048)
    parser.add_argument("--neo4j-pagecache-mb", type=int, default=1024)
    parser.add_argument("--record", type=Path, default=None)
    args = parser.parse_args()

    if args.synthetic_interactions:
        dataset = hub_synthetic(args.synthetic_interactions, args.seed)
        name = f"synthetic-{args.synthetic_interactions}-hub"
    else:
        dataset = stages.load_dataset(
            Settings(),
            dataset=None if args.synthetic_users else args.dataset,
            synthetic_users=args.synthetic_users,
            seed=args.seed,
        )
        name = f"synthetic-{args.synthetic_users}" if args.synthetic_users else args.dataset
    counts = collections.Counter(i.item for i in dataset.interactions)
    rng = np.random.default_rng(args.seed)
    user_ids = [str(u["id"]) for u in dataset.users]
    users = [user_ids[i] for i in rng.choice(len(user_ids), size=args.users, replace=False)]
    record: dict[str, Any] = {
        "command": shlex.join([".venv/bin/python", *sys.argv]),
        "dataset": name,
        "data": dataset.summary() | {"top_item_interactions": counts.most_common(3)},
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "sampled_users": args.users,
        "neo4j": {"heap_mb": args.neo4j_heap_mb, "pagecache_mb": args.neo4j_pagecache_mb},
        "stores": {},
    }
    for name in args.stores.split(","):
        directory = Path(tempfile.mkdtemp(prefix=f"tgbench-{name}-"))
        started = time.perf_counter()
        if name == "neo4j":
            store, server = start_neo4j(directory, args.neo4j_heap_mb, args.neo4j_pagecache_mb)
            version = server.status().version
        else:
            store, server = start_falkordb(directory)
            version = None
        start_seconds = time.perf_counter() - started
        try:
            result = bench_store(store, dataset, users, args.seed)
        finally:
            store.close()
            server.stop()
        result = {"version": version, "start_seconds": round(start_seconds, 3), **result}
        record["stores"][name] = result
        print(name, json.dumps(result, indent=1), flush=True)
    record["load_average_after"] = os.getloadavg()
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=2) + "\n")
        print(f"recorded {args.record}")


if __name__ == "__main__":
    main()
