"""Frozen vs fine-tuned BERT encoder on ml-100k: cold-item, tail and visitor-text quality.

For each protocol and seed the snapshot is split as the quality report splits it; the
encoder is fine-tuned on that split's TRAIN interactions only (early-stopped on VALID), every
item and user text is encoded with it, and the chosen models are fitted and scored on the
same split twice: with the stored (frozen) text vectors and with the fine-tuned ones. The
visitor check ranks items for each test user's free text ("Films like A, B and C. Genres:
...", tailgraph.free_text) by text cosine alone, frozen vs fine-tuned.

    .venv/bin/python bench/finetune_encoder.py --protocols cold random --seeds 1 \
        --out bench/results/finetune-ml100k.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
METRICS = (
    "recall@20",
    "ndcg@20",
    "tailrecall@20",
    "cold/recall@20",
    "itemcoverage@20",
    "giniindex@20",
)


def item_and_user_texts(snapshot, datasets_dir: Path) -> tuple[list, list, dict]:
    """Node texts in snapshot order, built from the dataset as the encode stage builds them,
    and the item records by id."""
    from tailgraph.encoders.text import node_text
    from tailgraph.graph.datasets import load

    dataset = load("ml-100k", datasets_dir)
    records = {str(row["id"]): row for row in dataset.items}
    items = {key: node_text("Item", row) for key, row in records.items()}
    users = {str(row["id"]): node_text("User", row) for row in dataset.users}
    item_texts = [items.get(i) for i in snapshot.item_ids]
    return item_texts, [users.get(u) for u in snapshot.user_ids], records


def with_text(snapshot, encoder, item_texts, user_texts):
    """A copy of ``snapshot`` whose Item and User text vectors come from ``encoder``."""
    text, has_text = dict(snapshot.text), dict(snapshot.has_text)
    for label, texts in (("Item", item_texts), ("User", user_texts)):
        present = np.array([bool(t) for t in texts])
        vectors = np.zeros((len(texts), encoder.dimension), np.float32)
        if present.any():
            vectors[present] = encoder.encode([t for t in texts if t])
        text[label], has_text[label] = vectors, present
    return replace(snapshot, text=text, has_text=has_text)


def visitor_recall(encoder, snapshot, split, records, item_vectors, limit: int, seed: int) -> dict:
    """Recall/NDCG@20 of text-cosine ranking for visitors described by their free text."""
    from tailgraph.evaluation.scoring import score_topk
    from tailgraph.free_text import visitors

    chosen = visitors(snapshot, split, records, seed=seed)[:limit]
    users = np.array([v.user for v in chosen], np.int64)
    queries = encoder.encode([v.text for v in chosen])
    unit = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    scores = queries @ unit.T
    train_pairs = split.train[np.isin(split.train[:, 0], users)]
    row = {int(u): n for n, u in enumerate(users)}
    for u, i in np.concatenate([train_pairs, split.valid[np.isin(split.valid[:, 0], users)]]):
        scores[row[int(u)], i] = -np.inf
    topk = np.argsort(-scores, axis=1)[:, :20]
    asked = replace(split, test=split.test[np.isin(split.test[:, 0], users)])
    scored = score_topk(users, topk, asked)
    return {key: scored.metrics[key] for key in ("recall@20", "ndcg@20", "tailrecall@20")} | {
        "visitors": int(len(users))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=ROOT / "data/ml100k-snapshot.npz")
    parser.add_argument("--datasets-dir", type=Path, default=ROOT / "data/datasets")
    parser.add_argument("--protocols", nargs="+", default=["cold", "random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--models", nargs="+", default=["text_only", "tailgnn"])
    parser.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs")
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--work", type=Path, default=ROOT / "data/finetuned")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use a checkpoint already in --work for a protocol and seed instead of fine-tuning",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/finetune-ml100k.json")
    args = parser.parse_args(argv)

    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.finetune import METADATA_FILE, FinetuneConfig, finetune_encoder
    from tailgraph.evaluation.harness import run_experiment
    from tailgraph.gnn.pipeline import split_snapshot
    from tailgraph.graph.snapshot import load_snapshot
    from tailgraph.settings import get_settings

    started = time.perf_counter()
    record = {
        "command": " ".join([sys.executable.split("/")[-1], *sys.argv]),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": list(os.getloadavg()),
        "runs": [],
    }
    base = get_settings().encoder_path
    snapshot = load_snapshot(args.snapshot)
    item_texts, user_texts, records = item_and_user_texts(snapshot, args.datasets_dir)
    frozen = TextEncoder(base)
    stored = snapshot.text["Item"][snapshot.has_text["Item"]]
    again = frozen.encode([t for t in item_texts if t])
    record["frozen_reencode_min_cosine"] = float(np.min(np.sum(stored * again, axis=1)))
    config = FinetuneConfig() if args.epochs is None else FinetuneConfig(epochs=args.epochs)
    record["finetune_config"] = asdict(config)
    for protocol in args.protocols:
        for seed in args.seeds:
            split = split_snapshot(snapshot, protocol, seed)
            checkpoint = args.work / f"{protocol}-{seed}"
            if args.reuse and (checkpoint / METADATA_FILE).is_file():
                tuned = json.loads((checkpoint / METADATA_FILE).read_text())
            else:
                tuned = finetune_encoder(
                    base,
                    item_texts,
                    split.train,
                    split.valid,
                    checkpoint,
                    replace(config, seed=seed),
                    say=lambda line, tag=f"[{protocol} {seed}]": print(tag, line, flush=True),
                ).summary()
            encoder = TextEncoder(checkpoint)
            tuned_snapshot = with_text(snapshot, encoder, item_texts, user_texts)
            run = {"protocol": protocol, "seed": seed, "finetune": tuned}
            for variant, variant_snapshot, variant_encoder in (
                ("frozen", snapshot, frozen),
                ("finetuned", tuned_snapshot, encoder),
            ):
                visitor = visitor_recall(
                    variant_encoder,
                    snapshot,
                    split,
                    records,
                    variant_snapshot.text["Item"],
                    args.visitors,
                    seed,
                )
                result = run_experiment(
                    variant_snapshot,
                    models=args.models,
                    protocol=protocol,
                    seeds=[seed],
                    tail_weights=(),
                    progress=False,
                )
                summary = result.summary()
                run[variant] = {"visitor_text_only": visitor} | {
                    model: {m: summary[model][m]["mean"] for m in (*METRICS, "seconds")}
                    for model in args.models
                }
                print(json.dumps({variant: run[variant]}, indent=1), flush=True)
            record["runs"].append(run)
            args.out.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    record["wall_seconds"] = time.perf_counter() - started
    record["load_average_after"] = list(os.getloadavg())
    args.out.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
