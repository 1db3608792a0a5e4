"""Run cache: reused only under the same settings, data and the model's own code; the snapshot
file round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tailgraph.evaluation.cache import CodeFingerprint, RunCache, module_path
from tailgraph.evaluation.harness import run_experiment
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.registry import MODELS
from tailgraph.graph.snapshot import (
    GraphSnapshot,
    load_snapshot,
    save_snapshot,
    snapshot_fingerprint,
)


def test_snapshot_cache_round_trip(planted: GraphSnapshot, tmp_path: Path) -> None:
    save_snapshot(planted, tmp_path / "snap.npz")
    back = load_snapshot(tmp_path / "snap.npz")
    assert back.summary() == planted.summary()
    assert back.item_ids == planted.item_ids
    assert np.array_equal(back.text["Item"], planted.text["Item"])
    assert np.array_equal(back.interactions.item, planted.interactions.item)
    assert set(back.kg_edges) == set(planted.kg_edges)


def test_run_cache_reuses_only_matching_runs(planted: GraphSnapshot, tmp_path: Path) -> None:
    config = TrainConfig(lr=0.01, batch_size=512, epochs=2)
    kwargs = dict(
        models=["mostpop", "bpr_mf"],
        protocol="random",
        seeds=[3],
        progress=False,
        tail_weights=(0.0, 0.5),
    )
    fresh = run_experiment(planted, config=config, cache=RunCache(tmp_path), **kwargs)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["random-s3-bpr_mf.json", "random-s3-mostpop.json"]
    again = run_experiment(planted, config=config, cache=RunCache(tmp_path), **kwargs)
    assert [r.metrics for r in again.runs] == [r.metrics for r in fresh.runs]
    assert [vars(p) for p in again.tradeoff] == [vars(p) for p in fresh.tradeoff]
    assert np.array_equal(again.runs[1].exposure, fresh.runs[1].exposure)
    # a cached entry is what gets read back (mark it), but only under the same settings
    path = tmp_path / "random-s3-bpr_mf.json"
    document = json.loads(path.read_text())
    document["run"]["metrics"]["recall@20"] = -1.0
    path.write_text(json.dumps(document))
    marked = run_experiment(planted, config=config, cache=RunCache(tmp_path), **kwargs)
    assert marked.runs[1].metrics["recall@20"] == -1.0
    changed = run_experiment(
        planted, config=replace(config, lr=0.02), cache=RunCache(tmp_path), **kwargs
    )
    assert changed.runs[1].metrics["recall@20"] >= 0.0  # refitted, entry replaced
    assert json.loads(path.read_text())["run"]["metrics"]["recall@20"] >= 0.0


def test_run_cache_misses_when_the_data_changes(planted: GraphSnapshot, tmp_path: Path) -> None:
    kwargs = dict(models=["mostpop"], protocol="random", seeds=[1], progress=False, tail_weights=())
    run_experiment(planted, cache=RunCache(tmp_path), **kwargs)
    path = tmp_path / "random-s1-mostpop.json"
    document = json.loads(path.read_text())
    document["run"]["metrics"]["recall@20"] = -1.0
    path.write_text(json.dumps(document))
    other_text = replace(planted, text={**planted.text, "Item": planted.text["Item"] * 0.5})
    assert snapshot_fingerprint(other_text) != snapshot_fingerprint(planted)
    rerun = run_experiment(other_text, cache=RunCache(tmp_path), **kwargs)
    assert rerun.runs[0].metrics["recall@20"] >= 0.0  # same counts, different vectors: refitted


def test_each_model_is_fingerprinted_by_its_own_modules_and_the_shared_ones() -> None:
    code = CodeFingerprint()
    for model in MODELS:  # every model has modules named after it: none falls back to all
        assert code.defining(model), model
    lightgcn = set(code.modules("lightgcn"))
    shared = {"evaluation.harness", "evaluation.scoring", "gnn.train", "gnn.split", "gnn.registry"}
    assert {f"tailgraph.{m}" for m in shared | {"gnn.models.lightgcn"}} <= lightgcn
    others = {"gnn.models.tailgnn", "gnn.models.content_tower", "gnn.baselines.ease"}
    assert not {f"tailgraph.{m}" for m in others | {"evaluation.report"}} & lightgcn
    assert "tailgraph.gnn.models.lightgcn" in code.modules("tailgnn")  # TailGNN builds on it
    fusion = set(code.modules("fusion"))  # and fusion is made from text_only and lightgcn
    assert {"tailgraph.gnn.baselines.text_only", "tailgraph.gnn.models.lightgcn"} <= fusion
    assert code.modules("tailgnn-no-kg") == code.modules("tailgnn")


def _edited(module: str) -> CodeFingerprint:
    """Fingerprints as they would be with one line appended to ``module``'s source."""
    target = module_path(module)
    assert target is not None

    def read(path: Path) -> bytes:
        source = path.read_bytes()
        return source + b"\n# edited\n" if path == target else source

    return CodeFingerprint(read)


def _mark(directory: Path) -> None:
    """Make every cached entry recognisable when read back: recall@20 = -1."""
    for path in directory.glob("*.json"):
        document = json.loads(path.read_text())
        document["run"]["metrics"]["recall@20"] = -1.0
        path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("module", "refitted"),
    [
        ("tailgraph.gnn.baselines.ease", set()),  # another model's module
        ("tailgraph.gnn.models.tailgnn", set()),
        ("tailgraph.evaluation.report", set()),  # lays out numbers only
        ("tailgraph.gnn.models.bpr_mf", {"bpr_mf"}),  # the model's own module
        ("tailgraph.gnn.baselines.mostpop", {"mostpop"}),
        ("tailgraph.evaluation.scoring", {"mostpop", "bpr_mf"}),  # shared by every model
    ],
)
def test_editing_a_module_refits_only_the_models_whose_fit_imports_it(
    planted: GraphSnapshot, tmp_path: Path, module: str, refitted: set[str]
) -> None:
    kwargs = dict(
        models=["mostpop", "bpr_mf"],
        protocol="random",
        seeds=[2],
        config=TrainConfig(batch_size=1024, epochs=2, eval_every=2),
        progress=False,
        tail_weights=(),
    )
    run_experiment(planted, cache=RunCache(tmp_path), **kwargs)
    _mark(tmp_path)
    code = _edited(module)
    rerun = run_experiment(planted, cache=RunCache(tmp_path, code), **kwargs)
    read_back = {run.model for run in rerun.runs if run.metrics["recall@20"] == -1.0}
    assert read_back == {"mostpop", "bpr_mf"} - refitted
