"""Scoring top-K lists, peer import/export, seeds summary, determinism, snapshot cache."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.experiment import (
    ModelRun,
    decile_recall,
    load_snapshot,
    run_experiment,
    save_snapshot,
    score_topk,
    split_paths,
    summarise,
)
from tailgraph.gnn.peers import export_split, load_peer_results, topk_from_ids
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot, Interactions

IDCG2 = 1 + 1 / math.log2(3)


def _tiny() -> tuple[GraphSnapshot, InteractionSplit]:
    """2 users, 5 items; item 4 is cold (no training pair)."""
    split = InteractionSplit(
        train=np.array([[0, 0], [1, 1]]), valid=np.array([[0, 1]]),
        test=np.array([[0, 2], [0, 3], [1, 4]]), n_users=2, n_items=5,
        cold_items=np.array([4]), protocol="cold",
    )
    empty = {label: np.zeros((n, 0), np.float32) for label, n in
             (("User", 2), ("Item", 5), ("Entity", 0))}
    snapshot = GraphSnapshot(
        ["u0", "u1"], [f"i{n}" for n in range(5)], [], empty,
        {k: np.zeros(len(v), bool) for k, v in empty.items()},
        Interactions(*(np.zeros(0),) * 4),
    )
    return snapshot, split


def _check_hand_metrics(metrics: dict[str, float]) -> None:
    # u0 top [2, 4]: hit at rank 1 of truth {2, 3}; u1 top [0, 4]: hit at rank 2 of truth {4}
    assert metrics["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert metrics["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert metrics["ndcg@2"] == pytest.approx((1 / IDCG2 + 1 / math.log2(3)) / 2)
    assert metrics["itemcoverage@2"] == pytest.approx(3 / 5)
    assert metrics["cold/recall@2"] == pytest.approx(1.0)  # only u1 has a cold test item
    assert metrics["cold/recall@1"] == pytest.approx(0.0)
    assert metrics["sparse/recall@2"] == pytest.approx(0.75)  # both users have <= 5 train


def test_score_topk_by_hand() -> None:
    _, split = _tiny()
    scored = score_topk(np.array([0, 1]), np.array([[2, 4], [0, 4]]), split, ks=(1, 2))
    _check_hand_metrics(scored.metrics)
    assert scored.subset_users == {"all": 2, "cold": 1, "sparse": 2}
    assert scored.exposure.tolist() == [1, 0, 1, 0, 2]


def test_decile_recall_counts_test_pairs_per_popularity_group() -> None:
    popularity = np.arange(10)  # item n is in decile n
    truth = np.array([[0, 9], [0, 0], [1, 0]])
    out = decile_recall(np.array([0, 1]), np.array([[9, 5], [1, 2]]), truth, popularity, k=2)
    assert out[9] == 1.0 and out[0] == 0.0 and out[5] is None


def _write_peer(path: Path, topk: dict[str, list[str]], dataset: str = "x-cold-s0") -> Path:
    path.write_text(json.dumps({"KGAT": {"topk": topk, "seconds": 3.5,
                                         "config": {"dataset": dataset}}}))
    return path


def test_peer_topk_scored_with_our_metrics(tmp_path: Path) -> None:
    snapshot, split = _tiny()
    path = _write_peer(tmp_path / "peer.json", {"u0": ["i2", "i4", "i3"], "u1": ["i0", "i4"]})
    peer = load_peer_results(path)["KGAT"]
    assert (peer.model, peer.split_name, peer.seconds) == ("peer:KGAT", "x-cold-s0", 3.5)
    users, topk = topk_from_ids(peer, snapshot, split, 2)
    assert topk.tolist() == [[2, 4], [0, 4]]
    _check_hand_metrics(score_topk(users, topk, split, ks=(1, 2)).metrics)


@pytest.mark.parametrize(
    ("topk", "message"),
    [
        ({"u0": ["i1", "i2"], "u1": ["i0", "i4"]}, "not computed on this split"),  # valid item
        ({"u0": ["i2", "i4"]}, "no top-K list for 1 test users"),
        ({"u0": ["i2", "i4"], "u1": ["i0", "zz"]}, "unknown item id 'zz'"),
        ({"u0": ["i2"], "u1": ["i0", "i4"]}, "has 1 items, need 2"),
    ],
)
def test_peer_lists_from_another_split_are_refused(
    tmp_path: Path, topk: dict, message: str
) -> None:
    snapshot, split = _tiny()
    peer = load_peer_results(_write_peer(tmp_path / "p.json", topk))["KGAT"]
    with pytest.raises(ConfigurationError, match=message):
        topk_from_ids(peer, snapshot, split, 2)


def test_bad_peer_file_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"KGAT": {"topk": ["u0"]}}))
    with pytest.raises(Exception, match="'topk' must map user ids"):
        load_peer_results(tmp_path / "bad.json")


def test_exported_split_is_exactly_our_split(planted: GraphSnapshot, tmp_path: Path) -> None:
    split = split_snapshot(planted, "cold", 3)
    counts = export_split(planted, split, tmp_path / "s.json", "planted-cold-s3")
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["name"] == "planted-cold-s3"
    user = {u: n for n, u in enumerate(planted.user_ids)}
    item = {i: n for n, i in enumerate(planted.item_ids)}
    for part in ("train", "valid", "test"):
        back = np.array([[user[u], item[i]] for u, i in doc[part]]).reshape(-1, 2)
        assert np.array_equal(back, getattr(split, part)), part
    kg = sum(len(s) for (h, _, t), (s, _) in planted.kg_edges.items()
             if {h, t} <= {"Item", "Entity"})
    assert counts["triples"] == kg > 0
    assert all(a == b and a in item for a, b in doc["links"])
    # cold items are absent from the exported training part
    cold_ids = {planted.item_ids[i] for i in split.cold_items}
    assert cold_ids and not cold_ids & {i for _, i in doc["train"]}
    assert cold_ids & {i for _, i in doc["test"]}


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
    kwargs = dict(models=["mostpop", "bpr_mf", "text_only"], protocol="cold", seeds=[4],
                  config=config, progress=False)
    first, second = run_experiment(planted, **kwargs), run_experiment(planted, **kwargs)
    assert [r.model for r in first.runs] == ["mostpop", "bpr_mf", "text_only"]
    assert [r.metrics for r in first.runs] == [r.metrics for r in second.runs]
    assert "cold/recall@20" in first.runs[0].metrics
    assert first.splits[4]["cold_items"] == len(split_snapshot(planted, "cold", 4).cold_items)


def test_unknown_model_is_refused(planted: GraphSnapshot) -> None:
    with pytest.raises(ConfigurationError, match="unknown models"):
        run_experiment(planted, models=["nope"], progress=False)


def test_split_paths() -> None:
    assert split_paths(Path("s.json"), ["random"], [1]) == {("random", 1): Path("s.json")}
    many = split_paths(Path("d/s.json"), ["random", "cold"], [1, 2])
    assert many["cold", 2] == Path("d/s-cold-s2.json") and len(many) == 4
    assert split_paths(Path("x-{protocol}-{seed}.json"), ["cold"], [7]) == {
        ("cold", 7): Path("x-cold-7.json")
    }


def test_snapshot_cache_round_trip(planted: GraphSnapshot, tmp_path: Path) -> None:
    save_snapshot(planted, tmp_path / "snap.npz")
    back = load_snapshot(tmp_path / "snap.npz")
    assert back.summary() == planted.summary()
    assert back.item_ids == planted.item_ids
    assert np.array_equal(back.text["Item"], planted.text["Item"])
    assert np.array_equal(back.interactions.item, planted.interactions.item)
    assert set(back.kg_edges) == set(planted.kg_edges)


def test_temporal_protocol_and_sparse_users_are_reported(planted: GraphSnapshot) -> None:
    result = run_experiment(planted, models=["mostpop"], protocol="temporal", seeds=[1],
                            progress=False)
    run = result.runs[0]
    assert result.protocol == "temporal" and "cold/recall@20" not in run.metrics
    assert run.subset_users["sparse"] > 0 and "sparse/recall@20" in run.metrics
    assert result.splits[1]["sparse_users"] >= run.subset_users["sparse"]


def test_tail_weight_sweep_trades_accuracy_for_the_tail(planted: GraphSnapshot) -> None:
    config = TrainConfig(lr=0.01, batch_size=512, epochs=4)
    result = run_experiment(planted, models=["mostpop", "bpr_mf"], protocol="cold", seeds=[2],
                            config=config, progress=False, tail_weights=(0.0, 0.3, 1.0))
    assert [(p.model, p.tail_weight) for p in result.tradeoff] == [
        ("bpr_mf", 0.0), ("bpr_mf", 0.3), ("bpr_mf", 1.0)]  # mostpop is not swept
    zero, mild, strong = (p.metrics for p in result.tradeoff)
    plain = next(r.metrics for r in result.runs if r.model == "bpr_mf")
    assert zero == {k: plain[k] for k in zero}  # weight 0 is the model's own ranking
    assert "cold/recall@20" in zero
    assert zero["averagepopularity@20"] > mild["averagepopularity@20"]
    assert mild["averagepopularity@20"] > strong["averagepopularity@20"]


def test_run_cache_reuses_only_matching_runs(planted: GraphSnapshot, tmp_path: Path) -> None:
    from tailgraph.gnn.experiment import RunCache

    config = TrainConfig(lr=0.01, batch_size=512, epochs=2)
    kwargs = dict(models=["mostpop", "bpr_mf"], protocol="random", seeds=[3], progress=False,
                  tail_weights=(0.0, 0.5))
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
    changed = run_experiment(planted, config=replace(config, lr=0.02), cache=RunCache(tmp_path),
                             **kwargs)
    assert changed.runs[1].metrics["recall@20"] >= 0.0  # refitted, entry replaced
    assert json.loads(path.read_text())["run"]["metrics"]["recall@20"] >= 0.0


def test_run_cache_misses_when_the_data_changes(planted: GraphSnapshot, tmp_path: Path) -> None:
    from tailgraph.gnn.experiment import RunCache, snapshot_fingerprint

    kwargs = dict(models=["mostpop"], protocol="random", seeds=[1], progress=False,
                  tail_weights=())
    run_experiment(planted, cache=RunCache(tmp_path), **kwargs)
    path = tmp_path / "random-s1-mostpop.json"
    document = json.loads(path.read_text())
    document["run"]["metrics"]["recall@20"] = -1.0
    path.write_text(json.dumps(document))
    other_text = replace(planted, text={**planted.text, "Item": planted.text["Item"] * 0.5})
    assert snapshot_fingerprint(other_text) != snapshot_fingerprint(planted)
    rerun = run_experiment(other_text, cache=RunCache(tmp_path), **kwargs)
    assert rerun.runs[0].metrics["recall@20"] >= 0.0  # same counts, different vectors: refitted
