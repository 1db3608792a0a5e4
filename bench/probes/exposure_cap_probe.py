# Probe (session 4): coverage through a global exposure cap (each item in at most `cap` of the
# users' top-20 lists), greedy in rounds over each user's 500 best candidates.
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py random 1 mix content saved
# to /tmp/proto/random1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=2 .venv/bin/python bench/probes/exposure_cap_probe.py
# Output: ../results/probes/session4-exposure_cap_probe.log
import json, sys
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20")
split = split_snapshot(snap, "random", 1)
z = np.load("/tmp/proto/random1-mix-content.npz")
U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
for name, items in (("lightgcn", V), ("tailgnn-ish (lambda .25)", torch.lerp(V, C, 0.25))):
    sf = make_score_fn(U, items)
    users, top = score_function_topk(sf, split, k=500)
    base = score_topk(users, top[:, :20], split).metrics
    print(name, "uncapped", json.dumps({k: round(base[k], 4) for k in KEYS}), flush=True)
    n_items = split.n_items
    for cap in (200, 100, 50, 30, 20):
        rng = np.random.default_rng(0)
        used = np.zeros(n_items, np.int64)
        lists = [[] for _ in users]
        pointer = np.zeros(len(users), np.int64)
        for _ in range(20):  # rounds: each user takes its best candidate with capacity left
            for u in rng.permutation(len(users)):
                row = top[u]
                p = pointer[u]
                while p < row.shape[0] and used[row[p]] >= cap:
                    p += 1
                if p < row.shape[0]:
                    lists[u].append(row[p]); used[row[p]] += 1; p += 1
                pointer[u] = p
        capped = np.array([l + [l[-1]] * (20 - len(l)) for l in lists])
        m = score_topk(users, capped, split).metrics
        print(name, f"cap={cap}", json.dumps({k: round(m[k], 4) for k in KEYS}), flush=True)
