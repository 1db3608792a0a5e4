"""``tailgraph demo``: every stage on a real dataset, with timings and sample recommendations."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from typing import Any

import typer

from tailgraph import stages
from tailgraph.errors import TailGraphError
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings


def _stage(title: str) -> float:
    typer.secho(f"\n== {title}", bold=True)
    return time.perf_counter()


def run_demo(settings: Settings, *, dataset: str = "ml-100k", epochs: int | None = None) -> dict:
    """Fetch, store, ingest, encode, train, evaluate and recommend; return the recorded timings."""
    from tailgraph.graph.connect import open_store
    from tailgraph.graph.datasets import fetch, load

    record: dict[str, Any] = {
        "command": " ".join(["tailgraph", *sys.argv[1:]]),
        "dataset": dataset,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    demo_started = time.perf_counter()

    start = _stage(f"1/6 fetch {dataset}")
    path = fetch(dataset, settings.datasets_dir)
    data = load(dataset, settings.datasets_dir)
    typer.echo(f"{path}: {data.summary()}")
    record["fetch_seconds"] = time.perf_counter() - start

    start = _stage("2/6 start the graph store")
    store = open_store(settings)
    typer.echo(f"{settings.store} store ready ({time.perf_counter() - start:.1f}s)")

    _stage("3/6 ingest (validate, then idempotent batched MERGE)")
    report = stages.ingest(store, data)
    for line in report.lines():
        typer.echo(line)
    record["ingest"] = {
        "seconds": report.seconds,
        "rows": report.rows_written,
        "rows_per_second": report.rows_per_second,
        "nodes": report.nodes,
        "relationships": report.relationships,
    }

    start = _stage("4/6 encode node text with BERT")
    encoded = stages.encode(settings, store)
    typer.echo(json.dumps(encoded.summary(), indent=2))
    record["encode"] = encoded.summary()
    record["encode"]["wall_seconds"] = time.perf_counter() - start

    start = _stage("5/6 train TailGraph's GNN (BPR, early stopping on valid NDCG@20)")
    result = stages.train(
        settings, store, model="tailgnn", epochs=epochs, seed=0, progress=typer.echo
    )
    trained = result.run.result
    record["train"] = {
        "wall_seconds": time.perf_counter() - start,
        "seconds_per_epoch": trained.seconds_per_epoch,
        "epochs": len(trained.history),
        "best_epoch": trained.best_epoch,
        "model_version": result.version,
        "embeddings_written": result.written,
    }
    record["test_metrics"] = result.metrics

    _stage("6/6 evaluate (same split, same test users) and recommend")
    record["baselines"] = _baselines(result, epochs)
    _print_metrics({"tailgnn": result.metrics, **record["baselines"]})
    _print_samples(settings, store)

    record["total_seconds"] = time.perf_counter() - demo_started
    record["load_average_after"] = os.getloadavg()
    out = settings.artefacts_dir / f"demo-{dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, default=float))
    typer.echo(f"\nTimings and metrics recorded in {out}")
    typer.secho("\nServe it:", bold=True)
    typer.echo("  .venv/bin/tailgraph serve            # docs at http://127.0.0.1:8000/docs")
    typer.echo("  curl 'http://127.0.0.1:8000/users/1/recommendations?k=10'")
    return record


def _baselines(result: stages.TrainOutcome, epochs: int | None = None) -> dict[str, dict]:
    """Baselines' test metrics on the demo's own split (full ranking, same exclusions)."""
    from tailgraph.gnn.config import TrainConfig
    from tailgraph.gnn.data import build_hetero_data
    from tailgraph.gnn.evaluate import evaluate
    from tailgraph.gnn.registry import build_model, fit_baseline
    from tailgraph.gnn.train import train

    split = result.run.split
    metrics = {
        name: evaluate(fit_baseline(name, result.snapshot, split)[0], split).flat()
        for name in ("mostpop", "itemknn")
    }
    data = build_hetero_data(result.snapshot, split)
    for model in ("bpr_mf", "lightgcn"):
        typer.echo(f"training {model} on the same split ...")
        config = TrainConfig(model=model, seed=0)
        if epochs is not None:
            config.epochs = epochs
        metrics[model] = train(build_model(data, config), data, split, config).test.flat()
    return metrics


_COLUMNS = {
    "recall@20": "Recall@20",
    "ndcg@20": "NDCG@20",
    "tailrecall@20": "TailRecall@20",
    "itemcoverage@20": "Coverage@20",
    "giniindex@20": "Gini@20",
}


def _print_metrics(by_model: dict[str, dict[str, float]]) -> None:
    typer.echo(f"  {'model':<10}" + "".join(f"{title:>15}" for title in _COLUMNS.values()))
    for model, metrics in by_model.items():
        cells = "".join(f"{metrics.get(key, float('nan')):>15.4f}" for key in _COLUMNS)
        typer.echo(f"  {model:<10}{cells}")
    typer.echo(
        "  (full-catalogue ranking, training and validation items excluded; for every "
        "model and protocol run `tailgraph evaluate`)"
    )


def _print_samples(
    settings: Settings, store: GraphStore, users: tuple[str, ...] = ("1", "2")
) -> None:
    """Each sample user's top 5, as the recommendation endpoint would answer."""
    for user in users:
        typer.secho(f"\nuser {user}:", bold=True)
        try:
            answer = stages.recommend(settings, store, user, 5)
        except TailGraphError as e:
            typer.echo(f"  {e}")
            continue
        for item in answer.items:
            sources = ", ".join(item.sources)
            title = str(item.title or item.item_id)
            typer.echo(f"  {item.rank:>2}. {title:<50} {item.score:7.3f}  [{sources}]")
