"""Run RecBole's peers on every exported split of a benchmark, resumably, and record them.

For each split file ``<splits-dir>/<name>-<protocol>-s<seed>.json`` (written by
``bench/quality.py --export-only``) this exports RecBole atomic files (once), then runs each
peer model in its own ``run_recbole.py`` process inside ``bench/peers/.venv`` with that
model's budget below, writing ``<work>/peers/<split>-<model>.json`` (full top-K lists,
git-ignored). A file that already exists is skipped, so an interrupted run resumes where it
stopped. After every model the compact record ``--record`` (RecBole's own metrics, timings,
budgets and commands, no lists) is rewritten. Standard library only::

    python3 bench/peers/run_all.py --splits-dir data/splits --record bench/results/peers-ml100k.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# Per-run budgets, keyed by the label the run gets in the report ("model" names the RecBole
# model when the label differs), sized for a 2-core CPU (KGAT ~16 s, KGIN ~10 s per epoch
# here). With RecBole's default learning rate 1e-3, LightGCN was still improving at 60 epochs
# and KGAT at 30 (valid NDCG@20 0.218 and rising, vs ~0.28 for LightGCN), so they get the rate
# of TailGraph's own trained models, 5e-3. KGIN is run at both rates: at 1e-3 it early-stopped
# by epoch 19 on some splits and was still creeping up at 40 on another, at 5e-3 it stops
# sooner and is better on some splits, worse on others. Early stopping is RecBole's:
# validation NDCG@20 every epoch, stop after ``stopping_step`` epochs without gain.
BUDGETS: dict[str, dict[str, Any]] = {
    "LightGCN": {"epochs": 200, "stopping_step": 10, "learning_rate": 5e-3},
    "KGIN": {"epochs": 40, "stopping_step": 5, "learning_rate": 5e-3},
    "KGIN-lr1e-3": {"model": "KGIN", "epochs": 40, "stopping_step": 5},
    "KGAT": {"epochs": 40, "stopping_step": 5, "learning_rate": 5e-3},
}


def split_files(splits_dir: Path, name: str, protocols: list[str], seeds: list[int]) -> list[Path]:
    """The split JSON files to run, in seed-major order; missing ones are an error."""
    files = [splits_dir / f"{name}-{p}-s{s}.json" for s in seeds for p in protocols]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SystemExit(f"missing split files {missing}: run bench/quality.py --export-only")
    return files


def peer_command(
    python: Path, data_dir: Path, split: str, label: str, seed: int, out: Path, threads: int
) -> list[str]:
    """The run_recbole.py command line for one budget entry on one split."""
    budget = BUDGETS[label]
    command = [
        str(python),
        str(HERE / "run_recbole.py"),
        "--data-dir",
        str(data_dir),
        "--name",
        split,
        "--models",
        budget.get("model", label),
        "--seed",
        str(seed),
        "--epochs",
        str(budget["epochs"]),
        "--stopping-step",
        str(budget["stopping_step"]),
        "--topk",
        "100",
        "--threads",
        str(threads),
        "--out",
        str(out),
    ]
    if "learning_rate" in budget:
        command += ["--learning-rate", str(budget["learning_rate"])]
    return command


def relabel(path: Path, model: str, label: str) -> None:
    """Key the results in ``path`` by ``label`` (the report's row name) instead of ``model``."""
    if model != label:
        results = json.loads(path.read_text(encoding="utf-8"))
        results[label] = results.pop(model)
        path.write_text(json.dumps(results), encoding="utf-8")


def compact(entry: dict[str, Any]) -> dict[str, Any]:
    """What the record keeps of one model's results: no lists, no per-epoch arrays."""
    timing = {k: v for k, v in entry["timing"].items() if k != "train_epoch_seconds"}
    keys = ("learning_rate", "epochs", "stopping_step", "train_batch_size", "embedding_size")
    return {
        "recbole_metrics": entry["recbole_metrics"],
        "topk_check": entry["topk_check"],
        "seconds": entry["seconds"],
        "timing": timing,
        "config": {k: entry["config"].get(k) for k in keys},
        "environment": entry.get("environment"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every (split, model) not yet done; rewrite the record after each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits-dir", type=Path, default=ROOT / "data" / "splits")
    parser.add_argument("--name", default="ml100k")
    parser.add_argument("--protocols", nargs="+", default=["random", "cold"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--python", type=Path, default=HERE / ".venv" / "bin" / "python")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", type=Path, required=True, help="compact results JSON")
    args = parser.parse_args(argv)
    if not args.python.exists():
        raise SystemExit(f"{args.python} not found: run bash bench/peers/setup.sh first")
    data_dir, out_dir = args.work / "data", args.work / "peers"
    out_dir.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"budgets": BUDGETS, "runs": {}}
    env = os.environ | {"OMP_NUM_THREADS": str(args.threads)}
    for split_file in split_files(args.splits_dir, args.name, args.protocols, args.seeds):
        split = split_file.stem
        seed = int(split.rsplit("-s", 1)[1])
        if not (data_dir / split / f"{split}.train.inter").is_file():
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "export_split.py"),
                    str(split_file),
                    "--out-dir",
                    str(data_dir),
                ],
                check=True,
            )
        for label in args.models:
            out = out_dir / f"{split}-{label}.json"
            command = peer_command(args.python, data_dir, split, label, seed, out, args.threads)
            if not out.is_file():
                print(f"=== {split} {label}", flush=True)
                started = time.perf_counter()
                subprocess.run(command, check=True, env=env)
                relabel(out, BUDGETS[label].get("model", label), label)
                print(f"=== {split} {label}: {time.perf_counter() - started:.0f} s", flush=True)
            results = json.loads(out.read_text(encoding="utf-8"))
            record["runs"].setdefault(split, {})[label] = compact(results[label]) | {
                "command": f"OMP_NUM_THREADS={args.threads} " + shlex.join(command),
                "results_file": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out),
            }
            args.record.parent.mkdir(parents=True, exist_ok=True)
            args.record.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
