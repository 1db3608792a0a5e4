"""Run cache: reused only under the same settings, data and code; the snapshot file round trip."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

import tailgraph.evaluation
import tailgraph.gnn
from tailgraph.evaluation.cache import EXCLUDED, SOURCES, RunCache, code_fingerprint
from tailgraph.evaluation.harness import run_experiment
from tailgraph.gnn.config import TrainConfig
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


def test_code_fingerprint_covers_gnn_and_evaluation_but_not_the_report(tmp_path: Path) -> None:
    gnn_dir = Path(tailgraph.gnn.__file__).resolve().parent
    evaluation_dir = Path(tailgraph.evaluation.__file__).resolve().parent
    assert SOURCES == (gnn_dir, evaluation_dir)
    assert EXCLUDED == (evaluation_dir / "report.py",)
    # a faithful copy of both source trees hashes as the installed sources do
    copies = tuple(tmp_path / folder.name for folder in SOURCES)
    for folder, copy in zip(SOURCES, copies, strict=True):
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
    report = copies[1] / "report.py"

    def fingerprint() -> str:
        return code_fingerprint(copies, (report,))

    original = fingerprint()
    assert original == code_fingerprint()
    report.write_text(report.read_text() + "\n# layout only\n")
    assert fingerprint() == original  # the report writer lays out numbers already computed
    scoring = copies[1] / "scoring.py"
    scoring.write_text(scoring.read_text() + "\n# changed\n")
    after_evaluation = fingerprint()
    assert after_evaluation != original
    train = copies[0] / "train.py"
    train.write_text(train.read_text() + "\n# changed\n")
    assert fingerprint() not in (original, after_evaluation)
