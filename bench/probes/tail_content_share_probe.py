# Probe (session 4): on the random protocol, a larger content share for tail items only.
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py random 1 mix content saved
# to /tmp/proto/random1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/tail_content_share_probe.py
# Output: ../results/probes/session4-tail_content_share_probe.log
import json, sys
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.gnn.evaluate import evaluate
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "gini@20")
split = split_snapshot(snap, "random", 1)
z = np.load("/tmp/proto/random1-mix-content.npz")
U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
pop = torch.from_numpy(split.item_popularity()).float()
threshold = torch.quantile(pop, 0.8)
tail = (pop < threshold).unsqueeze(1)
print("tail items", int(tail.sum()), "threshold", float(threshold))
for lt in (0.25, 0.5, 0.75, 1.0):
    for scale in (1.0, 1.2):
        lam = torch.where(tail, torch.tensor(lt), torch.tensor(0.25))
        items = V + lam * (C - V)
        items = torch.where(tail, items * scale, items)
        sf = make_score_fn(U, items)
        v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
        mm = score_topk(*score_function_topk(sf, split), split).metrics
        print(json.dumps({"tail_lambda": lt, "tail_scale": scale, "valid": round(v, 4), **{k: round(mm[k], 4) for k in KEYS if k in mm}}), flush=True)
