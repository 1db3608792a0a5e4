"""Prepare a serving benchmark: its own embedded store, a quickly trained model, seen items.

    .venv/bin/python bench/serve/prepare.py --dataset ml-100k --dir /tmp/tgs-ml
    .venv/bin/python bench/serve/prepare.py --dataset synthetic --dir /tmp/tgs-syn

``--dir`` gets ``db/`` (FalkorDB), ``artefacts/current`` (the model serving loads),
``seen.json`` (each user's interacted items, for the in-memory baseline) and
``prepare.json`` (sizes, timings, the top item's interaction count). Model quality does not
matter here: LightGCN, 3 epochs, big batches. No BERT encoding (text features are zeros);
the serving path never reads them. Then the serving neighbours: top-K collaborative and
knowledge item neighbours (``tailgraph.gnn.neighbours``, from a snapshot of the store) saved
next to the model. ``--neighbours-only`` runs just that step on an existing directory.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from pathlib import Path

import torch


def env_for(directory: Path) -> dict[str, str]:
    """TAILGRAPH_* variables pointing the store and artefacts inside ``directory``."""
    return {
        "TAILGRAPH_DATA_DIR": str(directory / "data"),
        "TAILGRAPH_FALKORDB_DIR": str(directory / "db"),
        "TAILGRAPH_NEO4J_DIR": str(directory / "neo4j"),
        "TAILGRAPH_ARTEFACTS_DIR": str(directory / "artefacts"),
        "TAILGRAPH_GRAPH_NAME": "bench",
    }


def compact(store) -> None:
    """Rewrite the append-only file so a restart loads a snapshot instead of replaying writes."""
    redis = store._client.connection
    redis.bgrewriteaof()
    while True:
        time.sleep(1)
        info = redis.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return


def precompute_neighbours(store, directory: Path, k: int, record: dict) -> None:
    """The serving neighbours: top-``k`` item neighbours of a store snapshot, next to the model."""
    from tailgraph.gnn import neighbours
    from tailgraph.graph.export import export_snapshot

    started = time.perf_counter()
    neighbours.save(directory, neighbours.from_snapshot(export_snapshot(store), k))
    record["seconds"]["neighbours"] = round(time.perf_counter() - started, 1)
    print("neighbours", record["seconds"]["neighbours"], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("ml-100k", "synthetic"), required=True)
    parser.add_argument("--dir", type=Path, required=True, help="short path under /tmp")
    parser.add_argument("--store", choices=("falkordb", "neo4j"), default="falkordb")
    parser.add_argument("--datasets-dir", type=Path, default=Path("data/datasets"))
    parser.add_argument("--users", type=int, default=150_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--zipf", type=float, default=1.5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--neighbours", type=int, default=20, help="top-K neighbours, 0: none")
    parser.add_argument("--neighbours-only", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(env_for(args.dir))
    os.environ["TAILGRAPH_STORE"] = args.store
    torch.set_num_threads(1)

    from tailgraph.gnn.config import TrainConfig
    from tailgraph.gnn.pipeline import save_trained, train_snapshot
    from tailgraph.graph import datasets
    from tailgraph.graph.connect import open_store
    from tailgraph.graph.export import export_snapshot
    from tailgraph.graph.ingest import ingest
    from tailgraph.graph.writeback import write_embeddings
    from tailgraph.settings import Settings

    record: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "seconds": {}}
    if args.neighbours_only:
        settings = Settings()
        store = open_store(settings)
        try:
            precompute_neighbours(
                store, settings.artefacts_dir / "current", args.neighbours, record
            )
        finally:
            store.close()
        previous = json.loads((args.dir / "prepare.json").read_text())
        previous["seconds"]["neighbours"] = record["seconds"]["neighbours"]
        (args.dir / "prepare.json").write_text(json.dumps(previous, indent=2, default=str))
        return
    started = time.perf_counter()
    if args.dataset == "ml-100k":
        dataset = datasets.load("ml-100k", args.datasets_dir)
    else:
        from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate

        dataset = generate(
            SyntheticConfig(
                n_users=args.users,
                n_items=args.items,
                n_interactions=args.interactions,
                n_entities=5_000,
                n_triples=60_000,
                zipf_exponent=args.zipf,
                seed=0,
            )
        )
    record["seconds"]["load"] = round(time.perf_counter() - started, 1)
    counts = collections.Counter(i.item for i in dataset.interactions)
    record["data"] = dataset.summary() | {"top_item_interactions": counts.most_common(3)}
    print(record["data"], flush=True)

    settings = Settings()
    store = open_store(settings)
    try:
        started = time.perf_counter()
        ingest(store, dataset, replace=True, batch_size=10_000)
        record["seconds"]["ingest"] = round(time.perf_counter() - started, 1)
        print("ingest", record["seconds"]["ingest"], flush=True)
        started = time.perf_counter()
        config = TrainConfig(
            model="lightgcn",
            epochs=args.epochs,
            batch_size=65_536,
            lr=5e-3,
            eval_every=args.epochs,
            subsets=(),
        )
        snapshot = export_snapshot(store)
        result = train_snapshot(snapshot, config)
        record["seconds"]["train"] = round(time.perf_counter() - started, 1)
        record["version"] = result.version
        print("train", record["seconds"]["train"], result.version, flush=True)
        started = time.perf_counter()
        save_trained(
            settings.artefacts_dir / "current", snapshot, result, neighbours_k=args.neighbours
        )
        for label, ids, vectors in (
            ("User", snapshot.user_ids, result.result.user_embeddings),
            ("Item", snapshot.item_ids, result.result.item_embeddings),
        ):
            write_embeddings(store, label, ids, vectors, version=result.version)
        record["seconds"]["neighbours"] = round(time.perf_counter() - started, 1)
        if args.store == "falkordb":
            compact(store)
    finally:
        store.close()
    from tailgraph.graph.connect import embedded_server, local_neo4j

    # the benchmark starts the server under the service
    (local_neo4j(settings) if args.store == "neo4j" else embedded_server(settings)).stop()
    seen: dict[str, list[str]] = collections.defaultdict(list)
    for interaction in dataset.interactions:
        seen[str(interaction.user)].append(str(interaction.item))
    (args.dir / "seen.json").write_text(json.dumps(seen))
    (args.dir / "prepare.json").write_text(json.dumps(record, indent=2, default=str))


if __name__ == "__main__":
    main()
