"""bench/peers/run_all.py: budgets become the right run_recbole.py commands, relabelled results.

RecBole itself lives in its own virtualenv (bench/peers/setup.sh) and takes minutes per model,
so it is not run here; these tests cover the runner's own logic with real files.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench/peers/run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def test_budgets_become_run_recbole_commands(run_all, tmp_path: Path) -> None:
    python, out = tmp_path / "python", tmp_path / "out.json"
    kgin_default = run_all.peer_command(
        python, tmp_path, "ml100k-cold-s2", "KGIN-lr1e-3", 2, out, 1
    )
    assert _option(kgin_default, "--models") == "KGIN"  # the label is not a RecBole model
    assert _option(kgin_default, "--learning-rate") is None  # RecBole's default rate
    assert _option(kgin_default, "--seed") == "2" and _option(kgin_default, "--epochs") == "40"
    lightgcn = run_all.peer_command(python, tmp_path, "ml100k-random-s1", "LightGCN", 1, out, 1)
    assert _option(lightgcn, "--learning-rate") == "0.005"
    assert _option(lightgcn, "--name") == "ml100k-random-s1"
    assert _option(lightgcn, "--stopping-step") == "10"


def test_results_are_relabelled_for_the_report(run_all, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"KGIN": {"topk": {"1": ["2"]}}}))
    run_all.relabel(path, "KGIN", "KGIN-lr1e-3")
    assert json.loads(path.read_text()) == {"KGIN-lr1e-3": {"topk": {"1": ["2"]}}}
    run_all.relabel(path, "KGIN-lr1e-3", "KGIN-lr1e-3")  # same name: untouched
    assert "KGIN-lr1e-3" in json.loads(path.read_text())


def test_missing_splits_are_named(run_all, tmp_path: Path) -> None:
    (tmp_path / "ml100k-random-s1.json").write_text("{}")
    with pytest.raises(SystemExit, match="ml100k-cold-s1.json"):
        run_all.split_files(tmp_path, "ml100k", ["random", "cold"], [1])
    assert run_all.split_files(tmp_path, "ml100k", ["random"], [1]) == [
        tmp_path / "ml100k-random-s1.json"
    ]
