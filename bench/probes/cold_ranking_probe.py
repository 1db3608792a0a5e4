# Probe (session 4): how well do different cold-item vectors rank among cold items, and overall?
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py <protocol> 1 mix content saved
# to /tmp/proto/<protocol>1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/cold_ranking_probe.py
# Output: ../results/probes/session4-cold_ranking_probe.log
import json, sys
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.models.text_only import TextOnly
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "cold/recall@20")
split = split_snapshot(snap, "cold", 1)
z = np.load("/tmp/proto/cold1-mix-content.npz")
U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
pop = torch.from_numpy(split.item_popularity()); warm = pop > 0
cold = ~warm
T = torch.from_numpy(snap.text["Item"].astype(np.float32)); T = T / T.norm(dim=1, keepdim=True).clamp(min=1e-9)
test = split.test[np.isin(split.test[:, 1], split.cold_items)]
def cold_only_recall(score_fn, k=20):
    users = np.unique(test[:, 0]); hits = []
    for start in range(0, len(users), 512):
        b = torch.from_numpy(users[start:start + 512])
        s = score_fn(b).clone(); s[:, warm] = -1e9
        top = torch.topk(s, k, dim=1).indices.numpy()
        for row, u in enumerate(b.numpy()):
            truth = set(test[test[:, 0] == u, 1]); hits.append(len(truth & set(top[row])) / min(len(truth), k))
    return float(np.mean(hits))
def full(name, sf):
    v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
    m = score_topk(*score_function_topk(sf, split), split).metrics
    print(json.dumps({"v": name, "cold_only": round(cold_only_recall(sf), 4), "valid": round(v, 4), **{k: round(m[k], 4) for k in KEYS if k in m}}), flush=True)
text_only = TextOnly.fit(snap, split)
full("text_only", text_only)
full("content C", make_score_fn(U, torch.where(warm[:, None], V, C)))
sim = T[cold] @ T[warm].T
Vw = V[warm]
for k in (10, 50):
    for tau in (0.05, 0.1):
        vals, idx = torch.topk(sim, k, dim=1)
        w = torch.softmax(vals / tau, dim=1)
        knn = (w.unsqueeze(2) * Vw[idx]).sum(1)
        items = V.clone(); items[cold] = knn
        full(f"knn k={k} tau={tau}", make_score_fn(U, items))
