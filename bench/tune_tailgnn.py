"""TailGNN tuning on ml-100k + Freebase KG: LightGCN vs TailGNN variants vs a text-only scorer.

Every variant is trained with :func:`gnn.train.train` on the same seeded split and scored with
the same evaluator (:func:`gnn.evaluate.evaluate`); results go to
``bench/results/tailgnn-tuning.json`` together with the exact command line.

    nice .venv/bin/python bench/tune_tailgnn.py --protocol random --variants lightgcn,tailgnn
    nice .venv/bin/python bench/tune_tailgnn.py --protocol cold --seeds 2020,2021,2022

The snapshot (ids, interactions, KG, BERT text vectors) is cached in ``data/ml100k-snapshot.npz``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from quality import load_or_build_snapshot
from torch_geometric.data import HeteroData

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import (
    build_hetero_data,
)
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.models.registry import build_model
from tailgraph.gnn.models.tailgnn import TailGNN
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.train import make_score_fn, train
from tailgraph.graph.export import GraphSnapshot

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "tailgnn-tuning.json"
REPORTED = (
    "recall@20", "ndcg@20", "tailrecall@20", "headrecall@20", "itemcoverage@20",
    "giniindex@20", "tailpercentage@20",
)


# --------------------------------------------------------------------------- scorers


def text_only_metrics(snapshot: GraphSnapshot, split: InteractionSplit) -> dict[str, float]:
    """BERT cosine between the mean of a user's training items' text vectors and every item."""
    text = torch.from_numpy(snapshot.text["Item"]).float()
    text = torch.nn.functional.normalize(text, dim=1)
    train_pairs = torch.from_numpy(split.train)
    profile = torch.zeros(split.n_users, text.shape[1]).index_add_(
        0, train_pairs[:, 0], text[train_pairs[:, 1]]
    )
    profile = torch.nn.functional.normalize(profile, dim=1)
    result = evaluate(lambda users: profile[users] @ text.T, split, subsets=("cold",), ks=(20,))
    return result.flat()


def build_tailgnn(data: HeteroData, config: TrainConfig) -> TailGNN:
    """TailGNN with the variant's options from ``config.extra`` (each one off unless named)."""
    options = {
        "content_dropout": config.extra.get("content_dropout", 0.0),
        "normalize_items": config.extra.get("normalize_items", False),
        "min_entity_degree": config.extra.get("min_entity_degree", 1),
    }
    model = build_model(data, replace(config, **options))
    assert isinstance(model, TailGNN)
    return model


def run_variant(
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    config: TrainConfig,
    tail_weights: tuple[float, ...] = (),
) -> dict[str, Any]:
    """Train one configuration and return its flat test metrics plus timing."""
    data = build_hetero_data(snapshot, split)
    model = build_tailgnn(data, config) if config.model == "tailgnn" else build_model(data, config)
    started = time.perf_counter()
    result = train(model, data, split, config, progress=lambda m: print(m, file=sys.stderr))
    out: dict[str, Any] = dict(result.test.flat())
    out["seconds_per_epoch"] = round(result.seconds_per_epoch, 3)
    out["epochs_run"] = len(result.history)
    out["best_epoch"] = result.best_epoch
    out["seconds"] = round(time.perf_counter() - started, 1)
    users = torch.from_numpy(result.user_embeddings)
    items = torch.from_numpy(result.item_embeddings)
    popularity = torch.from_numpy(split.item_popularity())
    for weight in tail_weights:  # the inference-time knob, on the same trained vectors
        score = make_score_fn(users, items, popularity, weight)
        flat = evaluate(score, split, ks=(20,), subsets=config.subsets).flat()
        out[f"tail_weight={weight}"] = summarise(flat)
    return out


def summarise(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = REPORTED + ("cold/recall@20", "seconds_per_epoch", "best_epoch")
    return {
        k: round(v, 4) if isinstance(v, float) else v
        for k, v in metrics.items()
        if k in keys or k.startswith("tail_weight=")
    }


# --------------------------------------------------------------------------- variants

BASE = dict(epochs=80, eval_every=5, patience=3, eval_ks=(20,), subsets=("cold",))

LR = 5e-3  # every variant (LightGCN included) converges within the epoch budget at this rate
VARIANTS: dict[str, dict[str, Any]] = {
    "lightgcn": {"model": "lightgcn", "layers": 3, "lr": LR},
    "tailgnn-v0": {"model": "tailgnn", "lr": LR},
    "tailgnn-prune": {"model": "tailgnn", "lr": LR, "extra": {"min_entity_degree": 2}},
    "tailgnn-prune-cd3": {
        "model": "tailgnn", "lr": LR, "extra": {"min_entity_degree": 2, "content_dropout": 0.3},
    },
    "tailgnn-prune-norm": {
        "model": "tailgnn", "lr": LR, "extra": {"min_entity_degree": 2, "normalize_items": True},
    },
    "tailgnn-prune-cd3-id3": {
        "model": "tailgnn", "lr": LR, "id_dropout": 0.3,
        "extra": {"min_entity_degree": 2, "content_dropout": 0.3},
    },
    "tailgnn-prune-cd3-norm": {
        "model": "tailgnn", "lr": LR,
        "extra": {"min_entity_degree": 2, "content_dropout": 0.3, "normalize_items": True},
    },
}


def append_result(path: Path, row: dict[str, Any]) -> None:
    """Add ``row`` to the results file (re-read first: several runs may share the file)."""
    stored = json.loads(path.read_text()) if path.is_file() else {"runs": []}
    stored["runs"].append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(stored, indent=1, default=str))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="random", choices=("random", "cold"))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="2020")
    parser.add_argument("--text-only", action="store_true", help="also score the text baseline")
    parser.add_argument("--tail-weights", default="", help="e.g. 0.05,0.1: inference sweep")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    snapshot = load_or_build_snapshot()
    command = "nice .venv/bin/python bench/tune_tailgnn.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    tail_weights = tuple(float(w) for w in args.tail_weights.split(",") if w)
    for seed in (int(s) for s in args.seeds.split(",")):
        split = split_snapshot(snapshot, args.protocol, seed)
        runs = [("text-only", None)] if args.text_only else []
        runs += [(v, VARIANTS[v]) for v in args.variants.split(",")]
        for name, overrides in runs:
            if overrides is None:
                metrics = text_only_metrics(snapshot, split)
                config_dict: dict[str, Any] = {}
            else:
                config = replace(TrainConfig(**BASE), seed=seed, **overrides)
                metrics = run_variant(snapshot, split, config, tail_weights)
                config_dict = overrides
            row = {
                "variant": name, "protocol": args.protocol, "seed": seed,
                "config": config_dict, "metrics": summarise(metrics), "command": command,
            }
            print(json.dumps(row), flush=True)
            append_result(args.results, row)


if __name__ == "__main__":
    main()
