"""Free-text visitors on ml-100k: the blend weight chosen on validation, reported on test.

The model is trained as in ``bench/quality.py`` (random split), a private embedded FalkorDB
holds what serving knows (titles, genres, items' BERT vectors, train + valid interactions), and
every test user becomes a visitor who names three of their training films and those films'
commonest genres (:mod:`tailgraph.free_text`). Each weight of the grid serves every visitor
through ``POST /recommendations``' use case; the weight with the best validation NDCG@20 is
the default, and test numbers are reported for it beside text only (weight 1) and the learned
score alone (weight 0: the ranking before the blend existed)::

    .venv/bin/python bench/free_text.py --out bench/results/free-text-ml100k.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import CONFIG, SNAPSHOT, load_or_build_snapshot  # noqa: E402

from tailgraph import free_text
from tailgraph.api.text_index import TextIndex
from tailgraph.encoders.bert import TextEncoder
from tailgraph.evaluation.report import versions
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.pipeline import train_snapshot
from tailgraph.graph import datasets
from tailgraph.graph.connect import embedded_server, open_store
from tailgraph.served import load_history, serving_scorer
from tailgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "free-text-ml100k.json"
GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
EXAMPLES = (  # what a person types (the served-quality issue's examples)
    "gritty mafia crime dramas",
    "dark dystopian sci-fi",
    "movies like The Godfather",
    "Disney animated musicals like Aladdin and The Lion King",
    "quiet French romantic films",
)


def examples(store, scorer, texts, weights: list[float], k: int = 10) -> dict:
    """Top-``k`` titles served for each example query at each weight."""
    from tailgraph.api.anonymous import recommend_visitor
    from tailgraph.api.candidates import ExpansionLimits
    from tailgraph.api.schemas import ProfileRequest

    out: dict = {}
    for query in EXAMPLES:
        for weight in weights:
            body = ProfileRequest(interests=[query], k=k, text_weight=weight)
            answer = recommend_visitor(store, scorer, texts, body, ExpansionLimits())
            out.setdefault(query, {})[str(weight)] = [i.title for i in answer.items]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tailgnn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--grid", nargs="+", type=float, default=list(GRID))
    parser.add_argument("--users", type=int, default=0, help="first N visitors only (0: all)")
    parser.add_argument("--epochs", type=int, default=None, help="override (smoke runs)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--datasets-dir", type=Path, default=ROOT / "data" / "datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--examples-only", type=float, default=None, metavar="WEIGHT",
                        help="only serve the example queries at 0, WEIGHT and 1 and record "
                        "them (no protocol run)")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    snapshot = load_or_build_snapshot(args.snapshot, args.datasets_dir)
    records = {str(r["id"]): r for r in datasets.load("ml-100k", args.datasets_dir).items}
    config = replace(CONFIG, model=args.model, seed=args.seed, subsets=())
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    run = train_snapshot(snapshot, config, protocol="random")
    split, result = run.split, run.result
    embeddings = LearnedEmbeddings(
        args.model, run.version, snapshot.user_ids, snapshot.item_ids, result.user_embeddings,
        result.item_embeddings, split.item_popularity(), extra=run.model.serving_settings(),
    )  # fmt: skip
    home = Path(tempfile.mkdtemp(prefix="tgft"))  # short: the store's unix socket lives here
    settings = Settings(data_dir=home / "data", falkordb_dir=home / "db", graph_name="freetext")
    store = open_store(settings)
    try:
        items = {i: {k: v for k, v in r.items() if k != "id"} for i, r in records.items()}
        load_history(store, snapshot, split, embeddings, items=items, text=True)
        scorer = serving_scorer(embeddings, snapshot, split)
        texts = TextIndex(TextEncoder)
        if args.examples_only is not None:
            weights = sorted({0.0, args.examples_only, 1.0})
            found = examples(store, scorer, texts, weights)
            document = {"command": shlex.join([sys.executable, *sys.argv]),
                        "model": args.model, "seed": args.seed, "examples": found}  # fmt: skip
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False))
            return 0
        people = free_text.visitors(snapshot, split, records, seed=args.seed)
        if args.users:
            people = people[: args.users]
        validation = {}
        for weight in args.grid:
            found = free_text.evaluate(
                store, scorer, texts, snapshot, split, people, split.valid, weight
            )
            validation[weight] = found
            print(f"valid w={weight:.1f}: served ndcg@20 {found.served['ndcg@20']:.4f} "
                  f"recall@20 {found.served['recall@20']:.4f}", flush=True)  # fmt: skip
        chosen = max(args.grid, key=lambda w: (validation[w].served["ndcg@20"], -w))
        test = {
            weight: free_text.evaluate(
                store, scorer, texts, snapshot, split, people, split.test, weight
            )
            for weight in sorted({0.0, 1.0, chosen})
        }
        previous = {
            name: free_text.evaluate_previous(store, scorer, texts, snapshot, split, people, pairs)
            for name, pairs in (("validation", split.valid), ("test", split.test))
        }
        shown = examples(store, scorer, texts, sorted({0.0, chosen, 1.0}))
        print(f"test previous rule: ndcg@20 {previous['test']['ndcg@20']:.4f}", flush=True)
        for weight, found in test.items():
            print(f"test w={weight:.1f}: served ndcg@20 {found.served['ndcg@20']:.4f} "
                  f"recall@20 {found.served['recall@20']:.4f}", flush=True)  # fmt: skip
    finally:
        store.close()
        embedded_server(settings).stop()
    document = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "wall_seconds": time.perf_counter() - started,
        "model": args.model, "seed": args.seed, "config": config.to_dict(),
        "dataset": snapshot.summary(), "versions": versions(),
        "protocol": "random split; every test user with >= 3 titled training items is a "
        "visitor who writes 'Films like A, B and C. Genres: X, Y, Z.' from 3 random training "
        "items; served through POST /recommendations' use case (every source, k=20); scored "
        "on the user's validation items (weight choice) or test items (report); full = the "
        "same blend over the whole catalogue",
        "visitors": len(people),
        "example_texts": [p.text for p in people[:5]],
        "chosen_text_weight": chosen,
        "validation": {str(w): asdict(r) for w, r in validation.items()},
        "test": {str(w): asdict(r) for w, r in test.items()},
        "previous_rule": previous,
        "examples": shown,
        "test_summary": {
            label: {k: test[w].served[k] for k in ("recall@20", "ndcg@20", "tailrecall@20",
                                                   "itemcoverage@20", "giniindex@20")}
            for label, w in (("learned score only (weight 0, named films as liked)", 0.0),
                             ("text only (weight 1)", 1.0), (f"blend (weight {chosen})", chosen))
        }  # fmt: skip
        | {"previous rule (mean of text matches' vectors, dot product)": {
            k: previous["test"][k] for k in ("recall@20", "ndcg@20", "tailrecall@20",
                                              "itemcoverage@20", "giniindex@20")}},
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
