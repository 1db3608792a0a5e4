"""Similar items on ml-100k: which definition of "similar" a person would believe, measured.

Held-out co-interaction: for every test user, each of (up to) five of their training items,
drawn with a fixed seed, is a query; a hit is one of the user's *test* items among the
query's top 10 similar items (training items of the user excluded). Reported per definition,
overall and by the query item's popularity decile, with the tail-collapse check: the mean
cosine between an item and its 10 nearest neighbours, by popularity decile (near 1 =
everything in the tail looks alike)::

    .venv/bin/python bench/similar_items.py --seeds 1 --out bench/results/similar-items-ml100k.json

Definitions: the learned vectors of TailGNN and LightGCN, BERT text, co-interaction cosine over
training interactions (ItemKNN's similarity), and the served rule (``Scorer.similar_items``:
TailGNN cosine + weight × co-interaction cosine of the item's 20 collaborative neighbours),
called per query exactly as GET /items/{id}/similar calls it. Its weight is chosen on
validation (users' validation items as the truth, neighbours from training interactions) and
reported on test (neighbours from training + validation, as serving knows them).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import CONFIG, SNAPSHOT, load_or_build_snapshot  # noqa: E402

from tailgraph.evaluation.report import versions
from tailgraph.evaluation.scoring import popularity_deciles
from tailgraph.gnn.baselines.itemknn import cosine_similarity
from tailgraph.gnn.pipeline import train_snapshot

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "similar-items-ml100k.json"
K = 10
QUERIES_PER_USER = 5


def unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def similarity_matrices(snapshot, split, seed: int) -> tuple[dict[str, np.ndarray], dict]:
    """(I, I) similarity per definition (the diagonal set to -inf), and the TailGNN run."""
    out, runs = {}, {}
    for model in ("tailgnn", "lightgcn"):
        run = train_snapshot(snapshot, replace(CONFIG, model=model, seed=seed, subsets=()))
        runs[model] = run
        vectors = unit(run.result.item_embeddings)
        out[f"{model} vectors (cosine)"] = vectors @ vectors.T
    text = unit(snapshot.text["Item"].astype(np.float32))
    out["BERT text (cosine)"] = text @ text.T
    out["co-interaction (cosine)"] = cosine_similarity(split.train, split.n_users, split.n_items)
    for matrix in out.values():
        np.fill_diagonal(matrix, -np.inf)
    return out, runs["tailgnn"]


def served_matrix(snapshot, split, run, pairs: np.ndarray, weight: float) -> np.ndarray:
    """(I, I) scores of the served rule, one ``Scorer.similar_items`` call per item, with
    collaborative neighbours computed from ``pairs`` (user, item) rows."""
    from tailgraph.api.scoring import Scorer
    from tailgraph.gnn import neighbours
    from tailgraph.gnn.artefacts import LearnedEmbeddings

    result = run.result
    embeddings = LearnedEmbeddings(
        "tailgnn", run.version, snapshot.user_ids, snapshot.item_ids, result.user_embeddings,
        result.item_embeddings, split.item_popularity(),
    )  # fmt: skip
    collaborative = neighbours.compute(pairs[:, 0], pairs[:, 1], snapshot.item_ids, 20)
    scorer = Scorer(embeddings, neighbours={neighbours.COLLABORATIVE: collaborative})
    index = {item_id: n for n, item_id in enumerate(snapshot.item_ids)}
    matrix = np.full((split.n_items, split.n_items), -np.inf)
    for row, item_id in enumerate(snapshot.item_ids):
        for other, score in scorer.similar_items(item_id, split.n_items, weight):
            matrix[row, index[other]] = score
    return matrix


def held_out_hits(
    matrix: np.ndarray, split, deciles: np.ndarray, truth: np.ndarray | None = None
) -> dict:
    """Hit rate of the users' ``truth`` items (default: test) in their training items' top-K
    similar."""
    train_by_user: dict[int, list[int]] = {}
    for user, item in split.train.tolist():
        train_by_user.setdefault(user, []).append(item)
    test_by_user: dict[int, set[int]] = {}
    for user, item in (split.test if truth is None else truth).tolist():
        test_by_user.setdefault(user, set()).add(item)
    hits, query_deciles = [], []
    rng = np.random.default_rng(0)
    for user, test in sorted(test_by_user.items()):
        seen = train_by_user.get(user, [])
        picked = rng.permutation(seen)[:QUERIES_PER_USER] if seen else []
        for query in picked:
            scores = matrix[query].copy()
            scores[seen] = -np.inf
            top = np.argpartition(-scores, K)[:K]
            hits.append(bool(test & set(top.tolist())))
            query_deciles.append(int(deciles[query]))
    hits_arr, dec = np.asarray(hits), np.asarray(query_deciles)
    return {
        "hit_rate@10": float(hits_arr.mean()),
        "queries": len(hits),
        "queries_by_decile": [int((dec == d).sum()) for d in range(10)],
        "by_query_decile": [
            float(hits_arr[dec == d].mean()) if (dec == d).any() else None for d in range(10)
        ],
    }


def neighbour_cosine(
    matrix: np.ndarray, deciles: np.ndarray, cosine: np.ndarray | None = None
) -> list[float]:
    """Mean similarity of each item to its K nearest, by popularity decile (least popular 1st);
    ``cosine`` (default ``matrix``) measures the neighbours ``matrix`` picks."""
    top = np.argpartition(-matrix, K, axis=1)[:, :K]
    per_item = np.take_along_axis(matrix if cosine is None else cosine, top, axis=1).mean(axis=1)
    return [float(per_item[deciles == d].mean()) for d in range(10)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="random")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--datasets-dir", type=Path, default=ROOT / "data" / "datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    snapshot = load_or_build_snapshot(args.snapshot, args.datasets_dir)
    from tailgraph.gnn.pipeline import split_snapshot

    results, choices = [], []
    for seed in args.seeds:
        split = split_snapshot(snapshot, args.protocol, seed)
        deciles = popularity_deciles(split.item_popularity())
        matrices, tailgnn = similarity_matrices(snapshot, split, seed)
        validation = {
            weight: held_out_hits(
                served_matrix(snapshot, split, tailgnn, split.train, weight), split, deciles,
                split.valid,
            )["hit_rate@10"]
            for weight in WEIGHTS
        }  # fmt: skip
        chosen = max(WEIGHTS, key=lambda w: (validation[w], -w))
        print(seed, "validation hit rate by weight", validation, "chosen", chosen, flush=True)
        known = np.concatenate([split.train, split.valid])
        for weight in sorted({0.0, chosen}):
            name = f"served: tailgnn + {weight:g} x co-interaction"
            matrices[name] = served_matrix(snapshot, split, tailgnn, known, weight)
        choices.append({"seed": seed, "validation_hit_rate@10": validation, "chosen": chosen})
        for name, matrix in matrices.items():
            results.append(
                {
                    "seed": seed,
                    "definition": name,
                    **held_out_hits(matrix, split, deciles),
                    "neighbour_cosine_by_decile": neighbour_cosine(
                        matrix,
                        deciles,
                        matrices["tailgnn vectors (cosine)"] if name.startswith("served") else None,
                    ),
                }
            )
            print(seed, name, round(results[-1]["hit_rate@10"], 4), flush=True)  # fmt: skip
    document = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "wall_seconds": time.perf_counter() - started,
        "protocol": args.protocol,
        "k": K,
        "queries_per_user": QUERIES_PER_USER,
        "versions": versions(),
        "weight_choice": choices,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
