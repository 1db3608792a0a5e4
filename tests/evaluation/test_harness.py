"""The harness: cold protocol, seeds summary, determinism, subsets, the tail_weight sweep."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.evaluation.harness import run_experiment, split_paths
from tailgraph.evaluation.results import ModelRun, summarise
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import ABLATIONS, DEFAULT_MODELS, MODELS
from tailgraph.graph.snapshot import GraphSnapshot


def test_cold_items_absent_from_training(planted: GraphSnapshot) -> None:
    for seed in (0, 1):
        split = split_snapshot(planted, "cold", seed)
        interacted = np.unique(planted.interactions.item)
        assert len(split.cold_items) == round(0.1 * len(interacted)) > 0
        assert not np.isin(split.train[:, 1], split.cold_items).any()
        assert np.isin(split.test[:, 1], split.cold_items).any()


def _run(model: str, seed: int, recall: float) -> ModelRun:
    return ModelRun(model, seed, {"recall@20": recall}, {}, [], np.zeros(1), seconds=1.0)


def test_summary_mean_and_sample_std_over_seeds() -> None:
    runs = [_run("a", 1, 0.1), _run("a", 2, 0.2), _run("a", 3, 0.3), _run("b", 1, 0.5)]
    summary = summarise(runs)
    assert summary["a"]["recall@20"]["mean"] == pytest.approx(0.2)
    assert summary["a"]["recall@20"]["std"] == pytest.approx(0.1)  # ddof=1
    assert summary["a"]["recall@20"]["n"] == 3
    assert summary["b"]["recall@20"] == {"mean": 0.5, "std": 0.0, "n": 1}


def test_experiment_is_deterministic_for_a_seed(planted: GraphSnapshot) -> None:
    config = TrainConfig(lr=0.01, batch_size=512, epochs=2)
    kwargs = dict(
        models=["mostpop", "bpr_mf", "text_only"],
        protocol="cold",
        seeds=[4],
        config=config,
        progress=False,
    )
    first, second = run_experiment(planted, **kwargs), run_experiment(planted, **kwargs)
    assert [r.model for r in first.runs] == ["mostpop", "bpr_mf", "text_only"]
    assert [r.metrics for r in first.runs] == [r.metrics for r in second.runs]
    assert "cold/recall@20" in first.runs[0].metrics
    assert first.splits[4]["cold_items"] == len(split_snapshot(planted, "cold", 4).cold_items)


def test_unknown_model_is_refused(planted: GraphSnapshot) -> None:
    with pytest.raises(ConfigurationError, match="unknown models"):
        run_experiment(planted, models=["nope"], progress=False)


def test_every_registered_model_but_the_ablations_is_the_default() -> None:
    default = inspect.signature(run_experiment).parameters["models"].default
    assert default is DEFAULT_MODELS
    assert MODELS == (*DEFAULT_MODELS, *ABLATIONS)


def test_fusion_reuses_its_fitted_models_and_counts_their_seconds(
    planted: GraphSnapshot,
) -> None:
    config = TrainConfig(lr=0.01, batch_size=512, epochs=2)
    result = run_experiment(
        planted,
        models=["text_only", "lightgcn", "fusion"],
        seeds=[1],
        config=config,
        progress=False,
        tail_weights=(),
    )
    seconds = {run.model: run.seconds for run in result.runs}
    assert seconds["fusion"] > seconds["text_only"] + seconds["lightgcn"]
    fusion = next(run for run in result.runs if run.model == "fusion")
    assert 0.0 <= fusion.extra["alpha"] <= 1.0 and fusion.extra["valid_ndcg@20"]


def test_split_paths() -> None:
    assert split_paths(Path("s.json"), ["random"], [1]) == {("random", 1): Path("s.json")}
    many = split_paths(Path("d/s.json"), ["random", "cold"], [1, 2])
    assert many["cold", 2] == Path("d/s-cold-s2.json") and len(many) == 4
    assert split_paths(Path("x-{protocol}-{seed}.json"), ["cold"], [7]) == {
        ("cold", 7): Path("x-cold-7.json")
    }


def test_temporal_protocol_and_sparse_users_are_reported(planted: GraphSnapshot) -> None:
    result = run_experiment(
        planted, models=["mostpop"], protocol="temporal", seeds=[1], progress=False
    )
    run = result.runs[0]
    assert result.protocol == "temporal" and "cold/recall@20" not in run.metrics
    assert run.subset_users["sparse"] > 0 and "sparse/recall@20" in run.metrics
    assert result.splits[1]["sparse_users"] >= run.subset_users["sparse"]


def test_tail_weight_sweep_trades_accuracy_for_the_tail(planted: GraphSnapshot) -> None:
    config = TrainConfig(lr=0.01, batch_size=512, epochs=4)
    result = run_experiment(
        planted,
        models=["mostpop", "bpr_mf"],
        protocol="cold",
        seeds=[2],
        config=config,
        progress=False,
        tail_weights=(0.0, 0.3, 1.0),
    )
    assert [(p.model, p.tail_weight) for p in result.tradeoff] == [
        ("bpr_mf", 0.0),
        ("bpr_mf", 0.3),
        ("bpr_mf", 1.0),
    ]  # mostpop is not swept
    zero, mild, strong = (p.metrics for p in result.tradeoff)
    plain = next(r.metrics for r in result.runs if r.model == "bpr_mf")
    assert zero == {k: plain[k] for k in zero}  # weight 0 is the model's own ranking
    assert "cold/recall@20" in zero
    assert zero["averagepopularity@20"] > mild["averagepopularity@20"]
    assert mild["averagepopularity@20"] > strong["averagepopularity@20"]
