"""`tailgraph evaluate` on any dataset and the one-dataset-per-graph guard of `tailgraph ingest`,
through Typer's runner on a real embedded FalkorDB and the real BERT encoder.

A tiny CSV dataset with item text and a KG, and the same interactions without text or KG, are
evaluated from a directory (`--dataset PATH`) and from the store; the report carries the
dataset's name, the recorded report's early-stopping schedule and what the data lacked.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailgraph import stages
from tailgraph.cli import app
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.settings import Settings

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("cli-evaluate")
    variables = {
        "TAILGRAPH_DATA_DIR": str(root / "data"),
        "TAILGRAPH_FALKORDB_DIR": tempfile.mkdtemp(prefix="tge"),
        "TAILGRAPH_ARTEFACTS_DIR": str(root / "artefacts"),
        "TAILGRAPH_GRAPH_NAME": "evaluate",
        "COLUMNS": "200",
        "OMP_NUM_THREADS": "1",
    }
    yield variables
    runner.invoke(app, ["db", "stop"], env=variables)


def invoke(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, (
        f"tailgraph {' '.join(args)}: {result.exit_code}\n{result.output}"
    )
    return result.output


def write_csv(directory: Path, *, text: bool, kg: bool, seed: int = 4) -> Path:
    """A small synthetic long tail in the CSV layout; item titles and triples optional."""
    data = generate(
        SyntheticConfig(
            n_users=40, n_items=30, n_interactions=500, n_entities=8, n_triples=40, seed=seed
        )
    )
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["user_id,item_id"] + [f"{i.user},{i.item}" for i in data.interactions]
    (directory / "interactions.csv").write_text("\n".join(lines) + "\n")
    titles = {r["id"]: r.get("title", "") for r in data.items}
    rows = [f'{item},"{titles[item]}"' if text else item for item in titles]
    (directory / "items.csv").write_text("\n".join(["item_id,title" if text else "item_id", *rows]))
    if kg:
        triples = ["head,relation,tail,head_type,tail_type"] + [
            f"{t.head},{t.relation},{t.tail},{t.head_label},{t.tail_label}" for t in data.triples
        ]
        (directory / "triples.csv").write_text("\n".join(triples) + "\n")
    return directory


@pytest.fixture(scope="module")
def films(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "films", text=True, kg=True)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "bare", text=False, kg=False)


def test_evaluate_a_dataset_directory_writes_the_report_and_its_record(
    env: dict[str, str], films: Path, tmp_path: Path
) -> None:
    out = tmp_path / "quality-films"
    args = ["evaluate", "--dataset", str(films), "--models", "mostpop,text_only,bpr_mf"]
    invoke(
        env, *args, "--protocol", "random", "--protocol", "cold", "--epochs", "4", "--out", str(out)
    )
    record = json.loads(out.with_name("quality-films.json").read_text())
    assert record["dataset"]["name"] == "films" and record["dataset"]["absent"] == ["user_text"]
    assert record["dataset"]["text_dim"] == 384  # the real BERT encoded the titles
    # the recorded report's early stopping, not TrainConfig's defaults
    assert record["config"]["eval_every"] == 2 and record["config"]["patience"] == 5
    assert record["command"].startswith("tailgraph evaluate --dataset")
    assert len(record["load_average"]) == 3 and record["finished"] == ["random/s1", "cold/s1"]
    for protocol in ("random", "cold"):
        stat = record["summary"][protocol]["text_only"]["ndcg@20"]
        assert set(stat) == {"mean", "std", "n"} and stat["n"] == 1
    assert record["summary"]["cold"]["text_only"]["cold/recall@20"]["mean"] > 0
    assert (out / "report.md").is_file() and (out / "results.json").is_file()


def test_a_dataset_without_text_or_kg_runs_every_model_it_can(
    env: dict[str, str], bare: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bare-report"
    output = invoke(
        env, "evaluate", "--dataset", str(bare), "--epochs", "2", "--no-tail-sweep",
        "--out", str(out),
    )  # fmt: skip
    assert "report written" in output
    document = json.loads((out / "results.json").read_text())
    dataset = document["dataset"]
    assert dataset["absent"] == ["item_text", "user_text", "kg"]
    assert dataset["skipped"] == {
        "text_only": "the dataset has no item text",
        "fusion": "the dataset has no item text",
    }
    fitted = {run["model"] for run in document["protocols"]["random"]["runs"]}
    assert {"mostpop", "lightgcn", "tailgnn"} <= fitted and not fitted & {"text_only", "fusion"}
    assert "the dataset has no item text" in (out / "report.md").read_text()
    assert document["protocols"]["random"]["tail_tradeoff"]["points"] == []
    # the compact record carries the paired tests of TailGNN against the best other model
    record = json.loads(out.with_name("bare-report.json").read_text())
    tests = record["significance"]["random"]
    assert tests == document["protocols"]["random"]["significance"]
    assert tests["ndcg@20"]["against"] != "tailgnn" and 0.0 <= tests["ndcg@20"]["p_value"] <= 1.0
    # asked for by name, a model the data cannot feed is an error before anything is fitted
    named = invoke(env, "evaluate", "--dataset", str(bare), "--models", "mostpop,text_only",
                   "--out", str(tmp_path / "named"), code=1)  # fmt: skip
    assert "text_only (the dataset has no item text)" in named
    assert not (tmp_path / "named").exists()


def test_adding_a_seed_fits_only_the_new_seed(
    env: dict[str, str], films: Path, tmp_path: Path
) -> None:
    args = ["evaluate", "--dataset", str(films), "--models", "mostpop,bpr_mf", "--epochs", "2"]
    invoke(env, *args, "--seeds", "7", "--out", str(tmp_path / "one"))
    cache = Path(env["TAILGRAPH_DATA_DIR"]) / "cache" / "evaluation" / "films"
    first = {p.name: p.stat().st_mtime_ns for p in cache.glob("random-s7-*.json")}
    assert sorted(first) == ["random-s7-bpr_mf.json", "random-s7-mostpop.json"]
    invoke(env, *args, "--seeds", "7", "8", "--out", str(tmp_path / "two"))
    command = json.loads((tmp_path / "two.json").read_text())["command"]
    assert "--seeds 7 --seeds 8 --out" in command  # as given, runnable again
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("random-s7-*.json")} == first
    assert len(list(cache.glob("random-s8-*.json"))) == 2
    one = json.loads((tmp_path / "one.json").read_text())["summary"]["random"]
    two = json.loads((tmp_path / "two.json").read_text())["summary"]["random"]
    assert two["bpr_mf"]["ndcg@20"]["n"] == 2
    runs = json.loads((tmp_path / "two" / "results.json").read_text())["protocols"]["random"]
    seed7 = next(r for r in runs["runs"] if r["model"] == "bpr_mf" and r["seed"] == 7)
    assert seed7["metrics"]["ndcg@20"] == one["bpr_mf"]["ndcg@20"]["mean"]


def test_one_dataset_per_graph_and_evaluating_the_stores(
    env: dict[str, str], films: Path, bare: Path, tmp_path: Path
) -> None:
    invoke(env, "ingest", "--csv", str(films), "--graph", "shelf", "--replace")
    invoke(env, "ingest", "--csv", str(films), "--graph", "shelf")  # same dataset again: fine
    refused = invoke(env, "ingest", "--csv", str(bare), "--graph", "shelf", code=1)
    assert "holds dataset 'films'" in refused and "--replace" in refused
    assert "--graph NAME" in refused
    invoke(env, "ingest", "--csv", str(bare), "--graph", "other-shelf")
    out = tmp_path / "store-report"
    invoke(env, "evaluate", "--graph", "shelf", "--models", "mostpop", "--out", str(out))
    record = json.loads(out.with_name("store-report.json").read_text())
    assert record["dataset"]["name"] == "films" and record["dataset"]["users"] == 40
    invoke(env, "ingest", "--csv", str(bare), "--graph", "shelf", "--replace")
    invoke(env, "evaluate", "--graph", "shelf", "--models", "mostpop", "--out", str(out))
    assert json.loads(out.with_name("store-report.json").read_text())["dataset"]["name"] == "bare"


def test_evaluate_names_an_unknown_dataset(env: dict[str, str], tmp_path: Path) -> None:
    output = invoke(env, "evaluate", "--dataset", str(tmp_path / "nowhere"), code=1)
    assert "neither a built-in dataset (ml-100k)" in output
    (tmp_path / "empty").mkdir()
    output = invoke(env, "evaluate", "--dataset", str(tmp_path / "empty"), code=1)
    assert "no dataset files found" in output


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"toy.inter": ""}, "atomic"),
        ({"train.txt": "", "kg_final.txt": ""}, "kgat"),
        ({"u.data": ""}, "movielens"),
        ({"ratings.csv": "", "movies.csv": ""}, "movielens"),
        ({"interactions.csv": ""}, "csv"),
    ],
)
def test_detect_format(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert stages.detect_format(tmp_path) == expected


def test_dataset_snapshot_encodes_node_text_once(tmp_path: Path) -> None:
    data = generate(
        SyntheticConfig(
            n_users=10, n_items=8, n_interactions=40, n_entities=4, n_triples=10, seed=1
        )
    )
    settings = Settings(_env_file=None, data_dir=tmp_path)
    snapshot = stages.dataset_snapshot(settings, data, progress=False)
    assert snapshot.text_dim == 384 and snapshot.has_text["Item"].all()
    again = stages.dataset_snapshot(settings, data, progress=False)  # read from the cache
    assert (again.text["Item"] == snapshot.text["Item"]).all()


def test_evaluate_stage_reads_the_dataset_name_from_either_store(store, tmp_path: Path) -> None:
    data = generate(
        SyntheticConfig(
            n_users=40, n_items=30, n_interactions=400, n_entities=10, n_triples=40, seed=2
        )
    )
    stages.ingest(store, data, progress=False)
    out = stages.evaluate(
        store,
        models=["mostpop", "text_only"],
        protocols=["random"],
        seeds=[1],
        out_dir=tmp_path / "r",
        summary=tmp_path / "r.json",
        tail_sweep=False,
        progress=False,
    )
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["dataset"]["name"] == data.name and record["tail_weights"] == []
    # no `tailgraph encode` ran: no text in the store, so text_only is left out and said so
    assert record["dataset"]["skipped"] == {"text_only": "the dataset has no item text"}
    assert list(record["summary"]["random"]) == ["mostpop"] and (out / "report.md").is_file()
