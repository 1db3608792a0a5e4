"""Make a seeded per-user random 80/10/10 split of RecBole's ml-100k as a handoff JSON.

Only proves the peer harness end to end; real comparisons use the split written
by TailGraph's own evaluator. Reads the atomic files shipped in the recbole
wheel (``recbole/dataset_example/ml-100k/``), never commits them. Stdlib only.

    python bench/peers/ml100k_demo_split.py bench/peers/work/ml-100k-raw \\
        --seed 42 --out bench/peers/work/ml100k_split.json
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path


def read_atomic(path: Path, columns: list[str]) -> list[tuple[str, ...]]:
    """Rows of the named columns (header names without their ``:type``) of an atomic file."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [h.split(":")[0] for h in next(reader)]
        idx = [header.index(c) for c in columns]
        return [tuple(row[i] for i in idx) for row in reader if row]


def split_per_user(
    pairs: list[tuple[str, str]], seed: int, valid: float = 0.1, test: float = 0.1
) -> dict[str, list[list[str]]]:
    """Shuffle each user's distinct items with one seeded RNG and cut them 80/10/10."""
    by_user: dict[str, list[str]] = defaultdict(list)
    for user, item in dict.fromkeys(pairs):
        by_user[user].append(item)
    rng = random.Random(seed)
    out: dict[str, list[list[str]]] = {"train": [], "valid": [], "test": []}
    for user in sorted(by_user, key=lambda u: (len(u), u)):
        items = by_user[user]
        rng.shuffle(items)
        n_test = round(len(items) * test)
        n_valid = round(len(items) * valid)
        cuts = {
            "test": items[:n_test],
            "valid": items[n_test : n_test + n_valid],
            "train": items[n_test + n_valid :],
        }
        for part, part_items in cuts.items():
            out[part].extend([user, i] for i in part_items)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the split JSON (schema in README.md) for the ml-100k atomic files in a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, help="folder with ml-100k.inter/.kg/.link")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="ml100k-demo")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    pairs = read_atomic(args.raw_dir / "ml-100k.inter", ["user_id", "item_id"])
    split = split_per_user(pairs, args.seed)
    data = {
        "name": args.name,
        **split,
        "triples": read_atomic(args.raw_dir / "ml-100k.kg", ["head_id", "relation_id", "tail_id"]),
        "links": read_atomic(args.raw_dir / "ml-100k.link", ["item_id", "entity_id"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    sizes = {k: len(v) for k, v in data.items() if k != "name"}
    print(f"{args.out}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
