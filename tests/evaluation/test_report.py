"""The evaluation report directory: files, structure, tables, plots, split export, peers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.evaluation.harness import run_evaluation
from tailgraph.evaluation.report import format_table, lorenz, mean_deciles, plot
from tailgraph.evaluation.results import ExperimentResult, ModelRun
from tailgraph.evaluation.scoring import N_DECILES, score_function_topk, score_topk
from tailgraph.gnn.baselines.mostpop import MostPop
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.export import export_snapshot
from tailgraph.graph.ingest import ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.graph.snapshot import GraphSnapshot, save_snapshot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODELS = ["mostpop", "itemknn", "text_only"]


@pytest.fixture(scope="module")
def report_dir(planted: GraphSnapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run_evaluation(
        planted,
        models=MODELS,
        protocol=["random", "cold"],
        seeds=[1, 2],
        out_dir=out / "r",
        export_split=out / "splits" / "planted.json",
        progress=False,
    )
    return out


def test_report_files_and_plots(report_dir: Path) -> None:
    files = sorted(p.name for p in (report_dir / "r").iterdir())
    assert files == sorted(
        [
            "report.md",
            "results.json",
            "recall_by_decile-random.png",
            "lorenz-random.png",
            "recall_by_decile-cold.png",
            "lorenz-cold.png",
            "tail_tradeoff-random.png",
            "tail_tradeoff-cold.png",
        ]
    )
    for name in files:
        if name.endswith(".png"):
            data = (report_dir / "r" / name).read_bytes()
            assert data.startswith(PNG_MAGIC) and len(data) > 5000


def test_report_markdown_has_a_table_per_protocol(report_dir: Path) -> None:
    text = (report_dir / "r" / "report.md").read_text()
    for protocol in ("random", "cold"):
        section = text.split(f"## Protocol `{protocol}`")[1].split("## ")[0]
        header = next(line for line in section.splitlines() if line.startswith("| Model"))
        for column in (
            "Recall@20",
            "NDCG@20",
            "Head recall@20",
            "Tail recall@20",
            "Coverage@20",
            "Gini@20",
            "Cold-item recall@20",
        ):
            assert column in header
        lines = section.splitlines()
        start = lines.index(header)
        end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
        rows = lines[start + 2 : end]
        assert [row.split("|")[1].strip() for row in rows] == MODELS
        assert all(" ± " in row for row in rows)
        assert f"![lorenz-{protocol}.png](lorenz-{protocol}.png)" in section


def test_results_json_holds_every_number(report_dir: Path, planted: GraphSnapshot) -> None:
    doc = json.loads((report_dir / "r" / "results.json").read_text())
    # the snapshot's sizes, named, with the optional parts the data lacks
    assert doc["dataset"] == {"name": "tailgraph", **planted.summary(), "absent": ["user_text"]}
    assert {"python", "torch", "numpy"} <= set(doc["versions"])
    cold = doc["protocols"]["cold"]
    assert cold["seeds"] == [1, 2] and set(cold["splits"]) == {"1", "2"}
    assert len(cold["runs"]) == len(MODELS) * 2
    run = cold["runs"][0]
    assert {
        "recall@20",
        "ndcg@20",
        "tailrecall@20",
        "itemcoverage@20",
        "giniindex@20",
        "cold/recall@20",
    } <= set(run["metrics"])
    assert len(run["recall_by_decile"]) == 10
    values = [r["metrics"]["recall@20"] for r in cold["runs"] if r["model"] == "itemknn"]
    summary = cold["summary"]["itemknn"]["recall@20"]
    assert summary["mean"] == pytest.approx(np.mean(values))
    assert summary["std"] == pytest.approx(np.std(values, ddof=1))
    assert "random" in doc["protocols"] and cold["config"]["lr"] > 0


def test_splits_exported_per_protocol_and_seed(report_dir: Path) -> None:
    names = sorted(p.name for p in (report_dir / "splits").iterdir())
    assert names == [f"planted-{p}-s{s}.json" for p in ("cold", "random") for s in (1, 2)]
    doc = json.loads((report_dir / "splits" / "planted-cold-s2.json").read_text())
    assert doc["name"] == "tailgraph-cold-s2"


def test_peer_results_for_another_split_are_refused(planted: GraphSnapshot, tmp_path: Path) -> None:
    path = tmp_path / "peer.json"
    path.write_text(json.dumps({"KGAT": {"topk": {}, "config": {"dataset": "other-s9"}}}))
    with pytest.raises(ConfigurationError, match="other-s9"):
        run_evaluation(
            planted, models=["mostpop"], out_dir=tmp_path / "r", peer_results=path, progress=False
        )


def test_peer_results_are_scored_into_the_table(planted: GraphSnapshot, tmp_path: Path) -> None:
    split_file = tmp_path / "split.json"
    run_evaluation(
        planted,
        models=["mostpop"],
        seeds=[3],
        out_dir=tmp_path / "a",
        export_split=split_file,
        progress=False,
    )
    split = json.loads(split_file.read_text())
    seen: dict[str, set[str]] = {}
    for user, item in split["train"] + split["valid"]:
        seen.setdefault(user, set()).add(item)
    test_users = sorted({u for u, _ in split["test"]})
    topk = {
        u: [i for i in planted.item_ids if i not in seen.get(u, set())][:20] for u in test_users
    }
    peer = tmp_path / "peer.json"
    peer.write_text(
        json.dumps(
            {"FirstItems": {"topk": topk, "seconds": 1.0, "config": {"dataset": split["name"]}}}
        )
    )
    out = run_evaluation(
        planted,
        models=["mostpop"],
        seeds=[3],
        out_dir=tmp_path / "b",
        peer_results=[peer],
        progress=False,
    )
    doc = json.loads((out / "results.json").read_text())
    models = [r["model"] for r in doc["protocols"]["random"]["runs"]]
    assert models == ["mostpop", "peer:FirstItems"]
    assert "| peer:FirstItems |" in (out / "report.md").read_text()


def test_table_bolds_the_best_mean_and_lower_gini() -> None:
    runs = [
        ModelRun("a", 1, {"recall@20": 0.3, "giniindex@20": 0.9}, {}, [], np.zeros(1), 2.0),
        ModelRun("b", 1, {"recall@20": 0.1, "giniindex@20": 0.5}, {}, [], np.zeros(1), 1.0),
    ]
    result = ExperimentResult("random", [1], ["a", "b"], runs, {}, {}, {})
    rows = format_table(result).splitlines()
    assert "**0.3000 ± 0.0000**" in rows[2] and "**0.5000 ± 0.0000**" in rows[3]
    assert "—" in rows[2]  # no cold-item numbers under the random protocol


def test_lorenz_curve() -> None:
    x, y = lorenz(np.array([0, 0, 2, 2]))
    assert x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert y.tolist() == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_evaluation_of_a_real_store_export(store, tmp_path: Path) -> None:
    dataset = generate(
        SyntheticConfig(
            n_users=40, n_items=30, n_interactions=400, n_entities=10, n_triples=40, seed=2
        )
    )
    ingest(store, dataset, progress=False)
    snapshot = export_snapshot(store)
    out = run_evaluation(
        snapshot, models=["mostpop", "itemknn"], out_dir=tmp_path / "r", progress=False
    )
    doc = json.loads((out / "results.json").read_text())
    assert doc["dataset"]["users"] == 40 and doc["dataset"]["interactions"] > 0
    assert doc["protocols"]["random"]["summary"]["itemknn"]["recall@20"]["mean"] > 0
    # the same snapshot saved to disk evaluates to the same numbers
    save_snapshot(snapshot, tmp_path / "snap.npz")
    again = run_evaluation(
        tmp_path / "snap.npz",
        models=["mostpop", "itemknn"],
        out_dir=tmp_path / "r2",
        progress=False,
    )
    runs = json.loads((again / "results.json").read_text())["protocols"]["random"]["runs"]
    before = doc["protocols"]["random"]["runs"]
    assert [r["metrics"] for r in runs] == [r["metrics"] for r in before]


def test_evaluation_takes_no_store(store, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="export a store first"):
        run_evaluation(store, models=["mostpop"], out_dir=tmp_path / "r", progress=False)


def test_report_has_the_tail_weight_tradeoff(report_dir: Path) -> None:
    text = (report_dir / "r" / "report.md").read_text()
    section = text.split("### `tail_weight` trade-off — `random`")[1]
    rows = [line for line in section.split("\n\n")[2].splitlines() if line.startswith("| itemknn")]
    assert [row.split(" | ")[1] for row in rows] == [
        "0",
        "0.05",
        "0.1",
        "0.2",
        "0.3",
        "0.5",
        "0.8",
        "1",
    ]
    assert rows[0].endswith("| +0.0% |")
    document = json.loads((report_dir / "r" / "results.json").read_text())
    sweep = document["protocols"]["random"]["tail_tradeoff"]
    assert {p["model"] for p in sweep["points"]} == {"itemknn"}  # mostpop/text_only: not swept
    assert len(sweep["points"]) == 8 * 2  # weights x seeds


def _scored_run(seed: int, test: list[list[int]]) -> ModelRun:
    """MostPop's run on a 12-item split whose test pairs fall in a few popularity deciles."""
    train = np.array([[u, i] for u in range(4) for i in range(6)] + [[0, 6], [1, 7], [2, 8]])
    split = InteractionSplit(
        train=train,
        valid=np.zeros((0, 2), np.int64),
        test=np.array(test),
        n_users=4,
        n_items=12,
        cold_items=np.zeros(0, np.int64),
        protocol="random",
    )
    users, topk = score_function_topk(MostPop.fit(split), split, 20)
    scored = score_topk(users, topk, split, ks=(10,))
    return ModelRun("mostpop", seed, scored.metrics, {}, scored.decile_recall, scored.exposure, 0)


def test_mean_deciles_says_none_for_a_decile_without_test_pairs(tmp_path: Path) -> None:
    first = _scored_run(1, [[3, 6], [3, 7]])
    second = _scored_run(2, [[3, 6], [0, 9], [1, 11]])
    result = ExperimentResult("random", [1, 2], ["mostpop"], [first, second], {}, {}, {})
    means = mean_deciles(result)["mostpop"]  # filterwarnings = error: no "Mean of empty slice"
    assert len(means) == N_DECILES
    for decile, mean in enumerate(means):
        values = [r.decile_recall[decile] for r in (first, second)]
        values = [v for v in values if v is not None]
        assert mean == (pytest.approx(np.mean(values)) if values else None), decile
    assert None in means  # tiny data: some deciles hold no test pair on any seed
    assert any(
        None in (first.decile_recall[d], second.decile_recall[d])
        for d, m in enumerate(means)
        if m is not None
    )  # and one only on one seed: its mean is the other's
    assert plot(result, tmp_path) == ["recall_by_decile-random.png", "lorenz-random.png"]
    assert (tmp_path / "recall_by_decile-random.png").read_bytes().startswith(PNG_MAGIC)
