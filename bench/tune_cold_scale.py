"""Does rescaling cold-item vectors rescue an un-normalised TailGNN on brand-new items?

TailGNN with ``normalize_items=False`` ranks warm items slightly better than the default
(normalised) model, but its text+KG vectors for items without training interactions are on a
smaller scale than trained items' vectors, so cold items are rarely shown. This trains that
variant once on one split, then rescales the cold items' vectors to a quantile of the warm
items' norms (None = untouched) and scores each choice at a few tail weights, printing one
JSON line per (quantile, tail weight)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/tune_cold_scale.py --protocol cold --seed 1
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import numpy as np
import torch
from quality import CONFIG, SNAPSHOT

from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.experiment import TAIL_POOL, load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.models.registry import build_model
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn, tail_adjusted, train

KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "giniindex@20",
        "cold/recall@20")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="cold")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    snapshot = load_snapshot(SNAPSHOT)
    split = split_snapshot(snapshot, args.protocol, args.seed)
    data = build_hetero_data(snapshot, split)
    config = replace(CONFIG, model="tailgnn", seed=args.seed, subsets=(),
                     content_dropout=0.3, normalize_items=False)
    result = train(build_model(data, config), data, split, config)
    users, items = result.user_embeddings, result.item_embeddings
    popularity = split.item_popularity()
    warm = popularity > 0
    norms = np.linalg.norm(items, axis=1)
    print(json.dumps({"best_epoch": result.best_epoch,
                      "warm_norm_quantiles": np.quantile(norms[warm], [.1, .5, .9]).tolist()}))
    for quantile in (None, 0.1, 0.25, 0.5, 0.75, 0.9):
        scaled = items.copy()
        if quantile is not None and (~warm).any():
            target = np.quantile(norms[warm], quantile)
            scaled[~warm] *= target / np.maximum(norms[~warm, None], 1e-12)
        score_fn = make_score_fn(torch.from_numpy(users), torch.from_numpy(scaled))
        for weight in (0.0, 0.1, 0.3):
            ranked = tail_adjusted(score_fn, torch.as_tensor(popularity), weight, TAIL_POOL)
            metrics = score_topk(*score_function_topk(ranked, split), split).metrics
            print(json.dumps({"quantile": quantile, "tail_weight": weight,
                              **{k: round(metrics[k], 4) for k in KEYS if k in metrics}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
