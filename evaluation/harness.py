"""Run several models × seeds on one snapshot and one split protocol, scored by one evaluator.

For every seed the snapshot is split with the protocol (the seed drives the split and the
training), then each model of :data:`tailgraph.gnn.registry.MODELS` is fitted on TRAIN only,
early-stopped or tuned on VALID, and its top-K list for every test user is computed by
full-catalogue ranking with the user's train and valid items removed. Those lists, and a peer
library's (:mod:`tailgraph.evaluation.peers`), are scored by
:func:`tailgraph.evaluation.scoring.score_topk`; :func:`run_evaluation` writes the report.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from tailgraph.errors import ConfigurationError
from tailgraph.evaluation import peers
from tailgraph.evaluation.cache import RunCache, json_default
from tailgraph.evaluation.peers import PeerRun, load_peer_results, split_name, topk_from_ids
from tailgraph.evaluation.report import significance, versions, write_report
from tailgraph.evaluation.results import ExperimentResult, ModelRun, TradeoffPoint
from tailgraph.evaluation.scoring import KS, score_function_topk, score_topk
from tailgraph.evaluation.tradeoff import TAIL_WEIGHTS, TRADEOFF_MODELS, tail_tradeoff
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import (
    DEFAULT_MODELS,
    DEPENDS,
    MODELS,
    NEEDS_GDS,
    NEEDS_TEXT,
    TRAINED,
    build_model,
    check_model,
    fit_baseline,
)
from tailgraph.gnn.split import InteractionSplit, sparse_users
from tailgraph.gnn.tail import ScoreFn
from tailgraph.gnn.train import make_score_fn, train
from tailgraph.graph import gds
from tailgraph.graph.snapshot import GraphSnapshot, load_snapshot, snapshot_fingerprint

# The recorded reports' training schedule, for every trained model (bpr_mf, lightgcn, tailgnn):
# Adam 5e-3, 64-d, 2 layers, BPR with one negative, validation NDCG@20 every 2 epochs, stop
# after 5 evaluations without gain. `tailgraph evaluate` and bench/quality.py both use it.
REPORT_CONFIG = TrainConfig(lr=5e-3, epochs=100, eval_every=2, patience=5, device="auto")


def data_parts(snapshot: GraphSnapshot) -> dict[str, bool]:
    """Which optional parts the dataset has: item text, user text, a KG touching items."""
    items, _ = snapshot.item_entity_links()
    item_kg = any("Item" in (head, tail) for head, _, tail in snapshot.kg_edges)
    return {
        "item_text": bool(snapshot.text_dim and snapshot.has_text["Item"].any()),
        "user_text": bool(snapshot.text_dim and snapshot.has_text["User"].any()),
        "kg": bool(len(items)) or item_kg,
    }


def runnable(models: Sequence[str], snapshot: GraphSnapshot) -> tuple[list[str], dict[str, str]]:
    """(models that can run on ``snapshot``, {model left out: why}): the text models
    (:data:`NEEDS_TEXT`) need item text, so a dataset without any leaves them out; the GDS
    peer (:data:`NEEDS_GDS`) needs the local Neo4j with GDS built (``make neo4j-gds``)."""
    skipped: dict[str, str] = {}
    if not data_parts(snapshot)["item_text"]:
        skipped |= {m: "the dataset has no item text" for m in models if m in NEEDS_TEXT}
    no_gds = gds.gds_unavailable() if NEEDS_GDS & set(models) else ""
    if no_gds:
        skipped |= {m: f"no Neo4j with GDS here: {no_gds}" for m in models if m in NEEDS_GDS}
    return [m for m in models if m not in skipped], skipped


def describe_dataset(snapshot: GraphSnapshot, name: str) -> dict[str, Any]:
    """The report's ``dataset``: its name, sizes and the optional parts it lacks."""
    absent = [part for part, present in data_parts(snapshot).items() if not present]
    return {"name": name, **snapshot.summary(), "absent": absent}


class SeedModels:
    """Fits models on one seed's split, each once: ``fusion`` reuses the fitted models it is
    made from (:data:`tailgraph.gnn.registry.DEPENDS`)."""

    def __init__(
        self,
        snapshot: GraphSnapshot,
        split: InteractionSplit,
        config: TrainConfig,
        say: Callable[[str], None],
    ) -> None:
        self.snapshot, self.split, self.config, self.say = snapshot, split, config, say
        self.data = build_hetero_data(snapshot, split)
        self.cache: dict[str, tuple[ScoreFn, float, dict[str, Any]]] = {}

    def fit(self, name: str) -> tuple[ScoreFn, float, dict[str, Any]]:
        """(score function, seconds, extra); a model's seconds include its dependencies'."""
        if name not in self.cache:
            before = sum(self.fit(dependency)[1] for dependency in DEPENDS.get(name, ()))
            started = time.perf_counter()
            score_fn, extra = self._fit(name)
            self.cache[name] = (score_fn, before + time.perf_counter() - started, extra)
        return self.cache[name]

    def _fit(self, name: str) -> tuple[ScoreFn, dict[str, Any]]:
        if name in NEEDS_GDS:  # on a throwaway local Neo4j with GDS, started for this fit
            started = time.perf_counter()
            with gds.scratch_fastrp() as graph:
                ready = time.perf_counter() - started
                score_fn, extra = fit_baseline(name, self.snapshot, self.split, embedder=graph)
            return score_fn, extra | {"server_start_seconds": ready}
        if check_model(name) not in TRAINED:
            return fit_baseline(
                name, self.snapshot, self.split, lambda m: self.fit(m)[0], self.config
            )
        config = replace(self.config, model=name, subsets=())
        result = train(
            build_model(self.data, config), self.data, self.split, config, progress=self.say
        )
        score_fn = make_score_fn(
            torch.from_numpy(result.user_embeddings), torch.from_numpy(result.item_embeddings)
        )
        extra = {
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "seconds_per_epoch": result.seconds_per_epoch,
            **result.extra,
        }
        return score_fn, extra


def run_experiment(
    snapshot: GraphSnapshot,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    protocol: str = "random",
    seeds: Sequence[int] = (1,),
    config: TrainConfig | None = None,
    epochs: int | None = None,
    peer_runs: Sequence[PeerRun] = (),
    name: str = "tailgraph",
    on_split: Callable[[int, InteractionSplit], None] | None = None,
    progress: bool = True,
    tail_weights: Sequence[float] = TAIL_WEIGHTS,
    cache: RunCache | None = None,
    dataset_name: str | None = None,
) -> ExperimentResult:
    """Fit and score every model on every seed's ``protocol`` split of ``snapshot``.

    The models in :data:`TRADEOFF_MODELS` are also scored at every ``tail_weights`` value
    (``ExperimentResult.tradeoff``; an empty sequence skips the sweep). With ``cache``, runs
    already scored with the same settings and code are read back instead of refitted. Models
    the data cannot feed (:func:`runnable`) are left out before anything is fitted, and the
    result's ``dataset`` (named ``dataset_name``, default ``name``) says which and why.

    ``peer_runs`` (from :func:`peers.load_peer_results`) are scored on the split whose
    :func:`peers.split_name` (``name``, protocol, seed) they were computed on; ``on_split`` is
    called with each split (e.g. to export it).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ConfigurationError(f"unknown models {unknown}; choose from {MODELS}")
    models, skipped = runnable(models, snapshot)
    base = config or TrainConfig()
    if epochs is not None:
        base = replace(base, epochs=epochs)
    started = time.perf_counter()
    runs: list[ModelRun] = []
    tradeoff: list[TradeoffPoint] = []
    data_digest = snapshot_fingerprint(snapshot) if cache else ""
    splits: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=len(seeds) * len(models), disable=not progress, unit="model", leave=False)
    for seed in seeds:
        split = split_snapshot(snapshot, protocol, seed)
        if on_split is not None:
            on_split(seed, split)
        splits[seed] = split.summary() | {"sparse_users": len(sparse_users(split))}
        fitter = SeedModels(snapshot, split, replace(base, seed=seed), bar.set_postfix_str)
        context = {
            "config": replace(base, seed=seed).to_dict(),
            "dataset": data_digest,
            "split": splits[seed],
            "tail_weights": list(tail_weights),
        }
        for model in models:
            bar.set_description(f"{protocol} seed {seed} {model}")
            key = cache.key(model, protocol, seed, context) if cache else ""
            cached = cache.get(model, protocol, seed, key) if cache else None
            if cached is None:
                score_fn, seconds, extra = fitter.fit(model)
                users, topk = score_function_topk(score_fn, split, max(KS))
                scored = score_topk(users, topk, split)
                run = ModelRun(
                    model,
                    seed,
                    scored.metrics,
                    scored.subset_users,
                    scored.decile_recall,
                    scored.exposure,
                    seconds,
                    extra.get("best_epoch"),
                    extra,
                    scored.activity_recall,
                    scored.per_user,
                )
                points = (
                    tail_tradeoff(model, seed, score_fn, split, tail_weights)
                    if model in TRADEOFF_MODELS
                    else []
                )
                if cache:
                    cache.put(key, protocol, run, points)
            else:
                run, points = cached
            runs.append(run)
            tradeoff += points
            bar.update()
        for peer in peer_runs:
            if peer.split_name == split_name(name, protocol, seed):
                users, topk = topk_from_ids(peer, snapshot, split, max(KS))
                scored = score_topk(users, topk, split)
                runs.append(
                    ModelRun(
                        peer.model,
                        seed,
                        scored.metrics,
                        scored.subset_users,
                        scored.decile_recall,
                        scored.exposure,
                        peer.seconds,
                        None,
                        peer.extra,
                        scored.activity_recall,
                        scored.per_user,
                    )
                )
    bar.close()
    return ExperimentResult(
        protocol=protocol,
        seeds=list(seeds),
        models=list(models),
        runs=runs,
        dataset=describe_dataset(snapshot, dataset_name or name)
        | ({"skipped": skipped} if skipped else {}),
        splits=splits,
        config=base.to_dict(),
        seconds=time.perf_counter() - started,
        tradeoff=tradeoff,
    )


def split_paths(path: Path, protocols: Sequence[str], seeds: Sequence[int]) -> dict:
    """``{(protocol, seed): file}``: ``path`` itself for one split, else ``{protocol}``/``{seed}``
    placeholders filled, else ``<stem>-<protocol>-s<seed><suffix>``."""
    text = str(path)
    pairs = [(p, s) for p in protocols for s in seeds]
    if "{seed}" in text or "{protocol}" in text:
        return {(p, s): Path(text.format(protocol=p, seed=s)) for p, s in pairs}
    if len(pairs) == 1:
        return {pairs[0]: Path(path)}
    return {
        (p, s): Path(path).with_name(f"{Path(path).stem}-{p}-s{s}{Path(path).suffix}")
        for p, s in pairs
    }


def _snapshot(source: GraphSnapshot | str | Path) -> GraphSnapshot:
    """``source`` itself, or the snapshot saved at that path (.npz)."""
    if isinstance(source, GraphSnapshot):
        return source
    if isinstance(source, (str, Path)):
        return load_snapshot(Path(source))
    raise TypeError(
        f"expected a GraphSnapshot or the path of a saved one, got {type(source).__name__}; "
        "export a store first (tailgraph.graph.export.export_snapshot)"
    )


def merge_results(parts: Sequence[ExperimentResult]) -> ExperimentResult:
    """One result of a protocol from several results of it (one per seed, say)."""
    first = parts[0]
    return ExperimentResult(
        protocol=first.protocol,
        seeds=[s for p in parts for s in p.seeds],
        models=first.models,
        runs=[run for p in parts for run in p.runs],
        dataset=first.dataset,
        splits={s: v for p in parts for s, v in p.splits.items()},
        config=first.config,
        seconds=sum(p.seconds for p in parts),
        tradeoff=[point for p in parts for point in p.tradeoff],
    )


def summary_document(
    results: Sequence[ExperimentResult],
    *,
    command: str,
    started: float,
    finished: Sequence[str],
    planned: Sequence[str],
    tail_weights: Sequence[float],
) -> dict[str, Any]:
    """The compact record (``quality-<dataset>.json``): command, load, config, dataset (with
    its ``name``), ``summary[protocol][model][metric] = {mean, std, n}`` and
    ``significance[protocol][metric] = {against, p_value, test, ...}`` (TailGNN against the
    best other model; empty when TailGNN was not run)."""
    return {
        "command": command,
        "wall_seconds": time.perf_counter() - started,
        # fitting time of every scored run, including runs read back from the cache
        "fit_seconds_total": sum(
            run.seconds for r in results for run in r.runs if not run.model.startswith("peer:")
        ),
        "load_average": list(os.getloadavg()),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "finished": list(finished),
        "planned": list(planned),
        "tail_weights": list(tail_weights),
        "config": results[0].config if results else {},
        "dataset": results[0].dataset if results else {},
        "versions": versions(),
        "summary": {r.protocol: r.summary() for r in results},
        "significance": {r.protocol: significance(r) for r in results},
    }


def run_evaluation(
    snapshot: GraphSnapshot | str | Path,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    protocol: str | Sequence[str] = "random",
    seeds: Sequence[int] = (1,),
    out_dir: Path,
    peer_results: Sequence[Path] | Path | None = None,
    export_split: Path | None = None,
    epochs: int | None = None,
    progress: bool = True,
    config: TrainConfig | None = None,
    name: str = "tailgraph",
    dataset_name: str | None = None,
    tail_weights: Sequence[float] = TAIL_WEIGHTS,
    cache: RunCache | None = None,
    summary: Path | None = None,
    command: str | None = None,
) -> Path:
    """Evaluate ``models`` on each protocol × seed and write the report into ``out_dir``.

    ``snapshot``: a GraphSnapshot or the path of one saved as .npz. ``export_split``: write
    every split to the peers' JSON handoff format (see :func:`split_paths`), named
    ``<name>-<protocol>-s<seed>``. ``peer_results``: peer top-K JSON files computed on such
    exported splits; each model's lists are scored on the split its dataset name says.
    Seeds run outermost and the report (and ``summary``, the compact record of
    :func:`summary_document`) is rewritten after every (seed, protocol), so an interrupted
    run keeps what finished; ``cache`` reads back runs scored before. Returns ``out_dir``.
    """
    started = time.perf_counter()
    snapshot = _snapshot(snapshot)
    protocols = [protocol] if isinstance(protocol, str) else list(protocol)
    files = [peer_results] if isinstance(peer_results, (str, Path)) else list(peer_results or [])
    peer_runs = [run for path in files for run in load_peer_results(Path(path)).values()]
    expected = {split_name(name, p, s) for p in protocols for s in seeds}
    unmatched = sorted({run.split_name for run in peer_runs} - expected)
    if unmatched:
        raise ConfigurationError(
            f"peer results computed on splits {unmatched}, but this evaluation makes "
            f"{sorted(expected)}; export the split with --export-split and rerun the peers"
        )
    targets = split_paths(export_split, protocols, seeds) if export_split else {}
    done: dict[str, list[ExperimentResult]] = {p: [] for p in protocols}
    finished: list[str] = []
    for seed in seeds:
        for current in protocols:

            def export(seed: int, split: InteractionSplit, protocol: str = current) -> None:
                if (protocol, seed) in targets:
                    peers.export_split(
                        snapshot, split, targets[protocol, seed], split_name(name, protocol, seed)
                    )

            done[current].append(
                run_experiment(
                    snapshot,
                    models=models,
                    protocol=current,
                    seeds=[seed],
                    config=config,
                    epochs=epochs,
                    peer_runs=peer_runs,
                    name=name,
                    on_split=export,
                    progress=progress,
                    tail_weights=tail_weights,
                    cache=cache,
                    dataset_name=dataset_name,
                )
            )
            finished.append(f"{current}/s{seed}")
            results = [merge_results(parts) for parts in done.values() if parts]
            write_report(results, Path(out_dir))
            if summary is not None:
                document = summary_document(
                    results,
                    command=command or shlex.join([sys.executable, *sys.argv]),
                    started=started,
                    finished=finished,
                    planned=[f"{p}/s{s}" for s in seeds for p in protocols],
                    tail_weights=tail_weights,
                )
                Path(summary).parent.mkdir(parents=True, exist_ok=True)
                Path(summary).write_text(json.dumps(document, indent=1, default=json_default))
    return Path(out_dir)
