"""Compare two evaluation reports (``results.json``) number by number, for the runs both hold.

Used to check that a refactoring changed no recorded number::

    .venv/bin/python bench/compare_results.py RECORDED/results.json RERUN/results.json \
        --out bench/results/<name>.json

Compares every metric of every (protocol, seed, model) run, the popularity-decile recall, the
exposure counts and the tail_weight sweep; timings are ignored. Exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

RUN_FIELDS = ("decile_recall", "exposure", "subset_users", "best_epoch")


def runs(document: dict) -> dict[tuple, dict]:
    return {
        (protocol, run["seed"], run["model"]): run
        for protocol, part in document["protocols"].items()
        for run in part["runs"]
    }


def tradeoff(document: dict) -> dict[tuple, float]:
    return {
        (protocol, point["seed"], point["model"], point["tail_weight"], key): value
        for protocol, part in document["protocols"].items()
        for point in part.get("tail_tradeoff", {}).get("points", [])
        for key, value in point["metrics"].items()
    }


def compare(recorded: dict, rerun: dict) -> dict:
    old, new = runs(recorded), runs(rerun)
    shared = sorted(set(old) & set(new), key=str)
    differences, compared = [], 0
    for key in shared:
        for metric, value in new[key]["metrics"].items():
            compared += 1
            if old[key]["metrics"].get(metric) != value:
                differences.append([*key, metric, old[key]["metrics"].get(metric), value])
        for name in RUN_FIELDS:
            compared += 1
            if old[key].get(name) != new[key].get(name):
                differences.append([*key, name, "differs", "differs"])
    old_points, new_points = tradeoff(recorded), tradeoff(rerun)
    runs_shared = {key[:3] for key in shared}
    points = [k for k in new_points if k[:3] in runs_shared and k in old_points]
    for key in points:
        compared += 1
        if old_points[key] != new_points[key]:
            differences.append([*key, old_points[key], new_points[key]])
    return {"runs": [list(k) for k in shared], "values_compared": compared,
            "differences": differences}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recorded", type=Path)
    parser.add_argument("rerun", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = compare(json.loads(args.recorded.read_text()), json.loads(args.rerun.read_text()))
    result = {"command": shlex.join([sys.executable, *sys.argv])} | result
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(f"{result['values_compared']} values in {len(result['runs'])} runs, "
          f"{len(result['differences'])} different")  # fmt: skip
    for row in result["differences"]:
        print("  ", row)
    return 1 if result["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
