"""`tailgraph demo`: every stage on a real dataset, with progress, timings, the metric table
and sample recommendations, closed by a summary of every stage's time."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, RenderableType
from rich.rule import Rule

from tailgraph import stages
from tailgraph.console import (
    TrainProgress,
    duration,
    encode_table,
    ingest_table,
    make_console,
    metric_table,
    status,
    table,
)
from tailgraph.errors import TailGraphError
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings

METRIC_COLUMNS = {
    "recall@20": "Recall@20",
    "ndcg@20": "NDCG@20",
    "tailrecall@20": "TailRecall@20",
    "itemcoverage@20": "Coverage@20",
    "giniindex@20": "Gini@20",
}
_VALID = "ndcg@20"  # the validation metric early stopping and tuning use


class _Stages:
    """Numbered stage headings and each stage's wall time, for the closing summary."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total = console, total
        self.seconds: dict[str, float] = {}

    @contextmanager
    def run(self, name: str, title: str) -> Iterator[None]:
        number = len(self.seconds) + 1
        self.console.print()
        heading = f"{number}/{self.total} {title}"
        self.console.print(Rule(heading, align="left") if self.console.is_terminal else heading)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - started
        self.console.print(f"[dim]{name}: {duration(self.seconds[name])}[/dim]")


def run_demo(
    settings: Settings,
    *,
    dataset: str = "ml-100k",
    epochs: int | None = None,
    console: Console | None = None,
) -> dict:
    """Fetch, store, ingest, encode, train, evaluate and recommend; return the recorded timings."""
    from tailgraph.gnn.config import TrainConfig
    from tailgraph.graph.connect import open_store
    from tailgraph.graph.datasets import fetch, load

    out = console or make_console()
    record: dict[str, Any] = {
        "command": " ".join(["tailgraph", *sys.argv[1:]]),
        "dataset": dataset,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    out.print(f"data directory {settings.data_dir}; artefacts {settings.artefacts_dir}")
    demo_started = time.perf_counter()
    timer = _Stages(out, 7)

    with timer.run("fetch", f"fetch and read {dataset}"):
        path = fetch(dataset, settings.datasets_dir)
        data = load(dataset, settings.datasets_dir)
        out.print(f"{path}: " + ", ".join(f"{n:,} {what}" for what, n in data.summary().items()))
    record["fetch_seconds"] = timer.seconds["fetch"]

    with timer.run("store", f"start the graph store ({settings.store})"):
        store = open_store(settings)

    with timer.run("ingest", "ingest (validate, then idempotent batched MERGE)"):
        report = stages.ingest(store, data)
        out.print(ingest_table(report))
    record["ingest"] = {
        "seconds": report.seconds,
        "rows": report.rows_written,
        "rows_per_second": report.rows_per_second,
        "nodes": report.nodes,
        "relationships": report.relationships,
    }

    with timer.run("encode", "encode node text with BERT (cached by text hash)"):
        encoded = stages.encode(settings, store)
        out.print(encode_table(encoded))
    record["encode"] = encoded.summary()
    record["encode"]["wall_seconds"] = timer.seconds["encode"]

    max_epochs = epochs or TrainConfig().epochs
    with timer.run("train", "train TailGNN (BPR, early stopping on validation NDCG@20)"):
        with TrainProgress(out, max_epochs, label="tailgnn") as progress:
            result = stages.train(
                settings, store, model="tailgnn", epochs=epochs, seed=0, progress=progress
            )
        for line in kept_model_lines(result):
            out.print(line)
    trained = result.run.result
    record["train"] = {
        "wall_seconds": timer.seconds["train"],
        "seconds_per_epoch": trained.seconds_per_epoch,
        "epochs": len(trained.history),
        "best_epoch": trained.best_epoch,
        "model_version": result.version,
        "embeddings_written": result.written,
    }
    record["test_metrics"] = result.metrics

    with timer.run("baselines", "baselines on the same split and test users"):
        record["baselines"] = _baselines(result, out, epochs)
    metrics = metric_table(
        {"tailgnn": result.metrics, **record["baselines"]},
        METRIC_COLUMNS,
        "test metrics (full-catalogue ranking; training and validation items excluded)",
    )
    out.print(metrics)

    with timer.run("recommend", "recommend, as GET /users/{id}/recommendations answers"):
        _print_samples(settings, store, out)

    record["total_seconds"] = time.perf_counter() - demo_started
    record["stage_seconds"] = dict(timer.seconds)
    record["load_average_after"] = os.getloadavg()
    recorded = settings.artefacts_dir / f"demo-{dataset}.json"
    recorded.parent.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(record, indent=2, default=float))

    out.print()
    out.print(Rule("summary", align="left") if out.is_terminal else "summary")
    out.print(_stage_table(timer.seconds, record["total_seconds"]))
    out.print(metrics)
    out.print(f"model {result.version} in {result.artefacts_dir}")
    out.print(f"timings and metrics recorded in {recorded}")
    out.print("every model and protocol: `tailgraph evaluate`; serve it:")
    out.print("  .venv/bin/tailgraph serve            # docs at http://127.0.0.1:8000/docs")
    out.print("  curl 'http://127.0.0.1:8000/users/1/recommendations?k=10'")
    return record


def _stage_table(seconds: dict[str, float], total: float) -> RenderableType:
    rows = [{"stage": name, "time": duration(value)} for name, value in seconds.items()]
    rows.append({"stage": "total", "time": duration(total)})
    return table(rows, title="stage times", right=("time",))


def kept_model_lines(result: stages.TrainOutcome) -> list[str]:
    """How training went, stage by stage, and which model was kept (and why)."""
    trained = result.run.result
    model = result.run.model
    lines = []
    for stage in getattr(model, "stages", ()):
        valid = [r.get(f"valid/{_VALID}") for r in trained.history if r.get("stage") == stage]
        valid = [v for v in valid if v is not None]
        run = trained.extra.get(f"{stage}/epochs_run", len(valid))
        best = trained.extra.get(f"{stage}/best_epoch")
        lines.append(
            f"stage {stage}: {run} epoch{'s' if run != 1 else ''}, best at epoch {best}"
            + (f", validation {_VALID} {max(valid):.4f}" if valid else "")
        )
    weight = getattr(model, "content_weight", None)
    if weight is not None:
        scale = float(getattr(model, "transfer_scale", 1.0))
        lines.append(
            f"kept: both towers mixed with content weight λ={float(weight):g} (0: warm items are "
            f"the collaborative vectors alone) and transfer scale s={scale:g}, the pair with the "
            f"best validation {_VALID} ({trained.best_valid.get(_VALID, float('nan')):.4f})"
        )
    else:
        lines.append(
            f"kept: epoch {trained.best_epoch}, the best validation {_VALID} "
            f"({trained.best_valid.get(_VALID, float('nan')):.4f})"
        )
    run = len(trained.history)
    lines.append(
        f"{trained.seconds_per_epoch:.2f}s per epoch, {run} epoch{'s' if run != 1 else ''} run"
    )
    return lines


def _baselines(
    result: stages.TrainOutcome, console: Console | None = None, epochs: int | None = None
) -> dict[str, dict]:
    """Baselines' test metrics on the demo's own split (full ranking, same exclusions)."""
    console = console or make_console()
    from tailgraph.gnn.config import TrainConfig
    from tailgraph.gnn.data import build_hetero_data
    from tailgraph.gnn.evaluate import evaluate
    from tailgraph.gnn.registry import build_model, fit_baseline
    from tailgraph.gnn.train import train

    split = result.run.split
    metrics: dict[str, dict] = {}
    for name in ("mostpop", "itemknn"):
        with status(console, f"fitting {name}"):
            metrics[name] = evaluate(fit_baseline(name, result.snapshot, split)[0], split).flat()
    data = build_hetero_data(result.snapshot, split)
    for model in ("bpr_mf", "lightgcn"):
        config = TrainConfig(model=model, seed=0)
        if epochs is not None:
            config.epochs = epochs
        started = time.perf_counter()
        with TrainProgress(console, config.epochs, label=model) as progress:
            trained = train(build_model(data, config), data, split, config, progress=progress)
        metrics[model] = trained.test.flat()
        run = len(trained.history)
        console.print(
            f"{model}: {run} epoch{'s' if run != 1 else ''}, best at epoch {trained.best_epoch} "
            f"({duration(time.perf_counter() - started)})"
        )
    return metrics


def _print_samples(
    settings: Settings,
    store: GraphStore,
    console: Console | None = None,
    users: tuple[str, ...] = ("1", "2"),
) -> None:
    """Each sample user's top 5, as the recommendation endpoint would answer."""
    from tailgraph.api.titles import display_title

    console = console or make_console()
    for user in users:
        try:
            answer = stages.recommend(settings, store, user, 5)
        except TailGraphError as e:
            console.print(f"user {user}: {e}")
            continue
        rows = [
            {
                "rank": item.rank,
                "item": display_title(item.title) or item.item_id,
                "score": f"{item.score:.3f}",
                "sources": ", ".join(item.sources),
            }
            for item in answer.items
        ]
        console.print(table(rows, title=f"user {user}", right=("score",)))
