"""Recommendation quality on ml-100k + Freebase KG: every baseline, peer, TailGNN and its
ablations, protocols × seeds, with paired significance tests.

One command (see bench/README.md) writes ``bench/results/quality-ml100k/`` (report.md,
results.json, plots) and the compact ``bench/results/quality-ml100k.json``::

    nice -n 10 .venv/bin/python bench/quality.py

Seeds run outermost (seed 1: random then cold, then seed 2 ...), and the report is rewritten
after every (seed, protocol), so an interrupted run still leaves every finished number on disk
(the JSON lists what finished). The snapshot (ids, interactions, KG, BERT text vectors) is
cached in ``data/ml100k-snapshot.npz`` (shared with the bench scripts).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import torch

from tailgraph.evaluation.cache import RunCache
from tailgraph.evaluation.harness import (
    REPORT_CONFIG,
    merge_results,
    run_experiment,
    split_paths,
)
from tailgraph.evaluation.peers import export_split, load_peer_results, split_name
from tailgraph.evaluation.report import (
    activity_means,
    mean_deciles,
    significance,
    versions,
    write_report,
)
from tailgraph.evaluation.results import ExperimentResult
from tailgraph.evaluation.tradeoff import TAIL_WEIGHTS
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import MODELS
from tailgraph.graph.snapshot import GraphSnapshot, load_snapshot, save_snapshot

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "data" / "ml100k-snapshot.npz"
OUT = ROOT / "bench" / "results" / "quality-ml100k"
NAME = "ml100k"
# The recorded report's schedule, shared with `tailgraph evaluate` (one source of truth).
CONFIG = REPORT_CONFIG


def build_snapshot(datasets_dir: Path) -> GraphSnapshot:
    """Fetch ml-100k, encode item and user text with the local BERT, convert to a snapshot."""
    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.text import node_text
    from tailgraph.graph import datasets
    from tailgraph.graph.export import snapshot_from_dataset

    dataset = datasets.load("ml-100k", datasets_dir)
    encoder = TextEncoder()
    vectors: dict[str, dict[str, list[float]]] = {}
    for label, rows in (("Item", dataset.items), ("User", dataset.users)):
        texts = {str(r["id"]): node_text(label, r) for r in rows}
        texts = {k: v for k, v in texts.items() if v}
        encoded = encoder.encode(list(texts.values()), progress=True)
        vectors[label] = {k: e.tolist() for k, e in zip(texts, encoded, strict=True)}
    return snapshot_from_dataset(dataset, vectors)


def load_or_build_snapshot(
    path: Path = SNAPSHOT, datasets_dir: Path = ROOT / "data" / "datasets"
) -> GraphSnapshot:
    """The cached snapshot at ``path`` if present, else build it and cache it there."""
    if path.is_file():
        return load_snapshot(path)
    snapshot = build_snapshot(datasets_dir)
    save_snapshot(snapshot, path)
    return snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--protocols", nargs="+", default=["random", "cold", "global_temporal"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument(
        "--tail-weights",
        nargs="*",
        type=float,
        default=list(TAIL_WEIGHTS),
        help="tail_weight sweep of the trade-off table (none: skip it)",
    )
    parser.add_argument("--epochs", type=int, default=CONFIG.epochs, help="max epochs")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a TrainConfig field (JSON value): content_share=0.3",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 is fastest on a busy 2-core machine, see README)",
    )
    parser.add_argument(
        "--peer-results",
        nargs="*",
        type=Path,
        default=[],
        help="peer top-K JSON files computed on splits from --export-splits",
    )
    parser.add_argument(
        "--export-splits",
        type=Path,
        help="write each split here (<dir>/ml100k-<protocol>-s<seed>.json)",
    )
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="only write the splits of --export-splits (for bench/peers)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "data" / "quality-cache",
        help="per-run results reused when settings and the gnn and evaluation code are unchanged",
    )
    parser.add_argument("--no-cache", action="store_true", help="refit everything")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--datasets-dir", type=Path, default=ROOT / "data" / "datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    snapshot = load_or_build_snapshot(args.snapshot, args.datasets_dir)
    peer_runs = [run for path in args.peer_results for run in load_peer_results(path).values()]
    planned = {split_name(NAME, p, s) for p in args.protocols for s in args.seeds}
    unmatched = sorted({run.split_name for run in peer_runs} - planned)
    if unmatched:
        parser.error(f"peer results are for splits {unmatched}, not any of {sorted(planned)}")
    targets = (
        split_paths(args.export_splits / f"{NAME}.json", args.protocols, args.seeds)
        if args.export_splits
        else {}
    )
    if args.export_only:
        if not args.export_splits:
            parser.error("--export-only needs --export-splits DIR")
        for (protocol, seed), path in targets.items():
            split = split_snapshot(snapshot, protocol, seed)
            export_split(snapshot, split, path, split_name(NAME, protocol, seed))
            print(f"wrote {path}", flush=True)
        return 0
    overrides = {"epochs": args.epochs}
    for item in args.overrides:
        key, _, value = item.partition("=")
        if key not in TrainConfig.__dataclass_fields__ or not value:
            parser.error(f"--set {item!r}: expected KEY=VALUE with KEY a TrainConfig field")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    config = TrainConfig.from_dict(CONFIG.to_dict() | overrides)
    cache = None if args.no_cache else RunCache(args.cache)
    done: dict[str, list[ExperimentResult]] = {p: [] for p in args.protocols}
    finished: list[str] = []
    for seed in args.seeds:
        for protocol in args.protocols:

            def export(seed: int, split, protocol: str = protocol) -> None:
                if (protocol, seed) in targets:
                    name = split_name(NAME, protocol, seed)
                    export_split(snapshot, split, targets[protocol, seed], name)

            done[protocol].append(
                run_experiment(
                    snapshot,
                    models=args.models,
                    protocol=protocol,
                    seeds=[seed],
                    config=config,
                    peer_runs=peer_runs,
                    name=NAME,
                    on_split=export,
                    cache=cache,
                    tail_weights=args.tail_weights,
                )
            )
            finished.append(f"{protocol}/s{seed}")
            results = [merge_results(parts) for parts in done.values() if parts]
            write_report(results, args.out)
            compact = {
                "command": shlex.join([sys.executable, *sys.argv]),
                "wall_seconds": time.perf_counter() - started,
                # fitting time of every scored run, including runs read back from --cache
                "fit_seconds_total": sum(
                    run.seconds
                    for r in results
                    for run in r.runs
                    if not run.model.startswith("peer:")
                ),
                "finished": finished,
                "load_average": os.getloadavg(),
                "planned": [f"{p}/s{s}" for s in args.seeds for p in args.protocols],
                "torch_threads": args.threads,
                "config": config.to_dict(),
                "dataset": snapshot.summary(),
                "versions": versions(),
                "summary": {r.protocol: r.summary() for r in results},
                "significance": {r.protocol: significance(r) for r in results},
                "recall_by_decile": {r.protocol: mean_deciles(r) for r in results},
                "recall_by_activity": {r.protocol: activity_means(r) for r in results},
            }
            compact_path = args.out.with_suffix(".json")
            compact_path.write_text(json.dumps(compact, indent=1, default=str))
            print(f"[{time.perf_counter() - started:.0f} s] finished {finished[-1]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
