"""Training at scale on this machine: peak memory and seconds per epoch on a synthetic graph.

Default size is issue 4's: 100k users, 50k items, 5M interactions, 1M KG triples. Text
features are random unit vectors standing in for BERT output (encoding 150k texts is measured
separately by bench/encode_throughput.py); everything else is the real pipeline: synthetic
generator -> snapshot -> split -> HeteroData -> model -> full-graph BPR training + evaluation.

    .venv/bin/python bench/scale_train.py --out bench/results/scale-train-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import split_interactions
from tailgraph.gnn.train import train
from tailgraph.graph.export import snapshot_from_dataset
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--model", default="tailgnn")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=65_536)
    parser.add_argument("--text-dim", type=int, default=384)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    record: dict = {
        "args": vars(args) | {"out": str(args.out)},
        "stages": {},
        "load_average_before": os.getloadavg(),
    }
    record["platform"] = {
        "machine": platform.platform(),
        "cpus": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }

    def stage(name: str, started: float) -> None:
        record["stages"][name] = {
            "seconds": round(time.perf_counter() - started, 2),
            "peak_rss_gib": round(peak_rss_gib(), 2),
        }
        print(f"{name:<10} {record['stages'][name]}", flush=True)

    started = time.perf_counter()
    dataset = generate(
        SyntheticConfig(
            n_users=args.users,
            n_items=args.items,
            n_interactions=args.interactions,
            n_entities=args.entities,
            n_triples=args.triples,
            seed=0,
        )
    )
    stage("generate", started)

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    text = {}
    if args.text_dim:
        for label, rows in (("Item", dataset.items), ("User", dataset.users)):
            vectors = rng.standard_normal((len(rows), args.text_dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            text[label] = {str(r["id"]): v for r, v in zip(rows, vectors, strict=True)}
    snapshot = snapshot_from_dataset(dataset, text=text)
    record["data"] = snapshot.summary()
    del dataset, text
    stage("snapshot", started)

    started = time.perf_counter()
    inter = snapshot.interactions
    split = split_interactions(
        inter.user,
        inter.item,
        len(snapshot.user_ids),
        len(snapshot.item_ids),
        protocol="random",
        seed=0,
    )
    data = build_hetero_data(snapshot, split)
    stage("split+data", started)

    config = TrainConfig(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        eval_every=args.epochs,
        device=args.device,
        patience=args.epochs,
        lr=5e-3,
        subsets=(),
    )
    started = time.perf_counter()
    model = build_model(data, config)
    stage("model", started)

    started = time.perf_counter()
    result = train(model, data, split, config, progress=lambda m: print(m, flush=True))
    stage("train", started)
    record["seconds_per_epoch"] = round(result.seconds_per_epoch, 2)  # mean over every epoch run
    by_stage: dict[str, list[float]] = {}
    for epoch in result.history:
        by_stage.setdefault(str(epoch.get("stage", "")), []).append(epoch["seconds"])
    record["seconds_per_epoch_by_stage"] = {
        k: round(float(np.mean(v)), 2) for k, v in by_stage.items()
    }
    record["training"] = result.extra  # per-stage epochs, the validation table of any tuning
    record["steps_per_epoch"] = -(-len(split.train) // args.batch_size)
    record["peak_rss_gib"] = round(peak_rss_gib(), 2)
    if torch.cuda.is_available():
        record["peak_cuda_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    record["load_average_after"] = os.getloadavg()
    record["test_metrics"] = {
        k: round(v, 4) for k, v in result.test.flat().items() if k.endswith("@20")
    }
    print(json.dumps(record, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
