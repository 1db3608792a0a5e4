# Probe, kept exactly as run (session 3): convex mixing (1-λ)·LightGCN + λ·content for warm
# items, from the vectors bench/probes/two_tower_probe.py saved in /tmp/proto. Results in
# ../results/tailgnn-tuning.json ("session_3").
import json, sys
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk, TAIL_POOL
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn, tail_adjusted
from tailgraph.gnn.evaluate import evaluate
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "cold/recall@20")
for protocol in ("random", "cold"):
    split = split_snapshot(snap, protocol, 1)
    z = np.load(f"/tmp/proto/{protocol}1-mix-content.npz")
    U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
    pop = torch.from_numpy(split.item_popularity()); warm = pop > 0
    for lam in (0.0, 0.1, 0.25, 0.5):
        items = torch.where(warm[:, None], (1 - lam) * V + lam * C, C)
        sf = make_score_fn(U, items)
        v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
        for w in (0.0, 0.1, 0.2):
            m = score_topk(*score_function_topk(tail_adjusted(sf, pop, w, TAIL_POOL), split), split).metrics
            print(protocol, json.dumps({"convex": lam, "w": w, "valid": round(v, 4), **{k: round(m[k], 4) for k in KEYS if k in m}}), flush=True)
