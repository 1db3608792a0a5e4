# Probe (session 4): on the random protocol the items without training interactions are the
# rarest items; does a shorter transferred vector (scale s) rank them better?
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py <protocol> 1 mix content saved
# to /tmp/proto/<protocol>1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/transfer_scale_probe.py
# Output: ../results/probes/session4-transfer_scale_probe.log
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
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "cold/recall@20")
T = torch.from_numpy(snap.text["Item"].astype(np.float32)); T = T / T.norm(dim=1, keepdim=True).clamp(min=1e-9)
def transfer(sim, Vw, k=10, tau=0.05):
    vals, idx = torch.topk(sim, k, dim=1)
    w = torch.softmax(vals / tau, dim=1)
    out = (w.unsqueeze(2) * Vw[idx]).sum(1)
    target = (w * Vw[idx].norm(dim=2)).sum(1, keepdim=True)
    return out / out.norm(dim=1, keepdim=True).clamp(min=1e-9) * target
for protocol in ("random", "cold"):
    split = split_snapshot(snap, protocol, 1)
    z = np.load(f"/tmp/proto/{protocol}1-mix-content.npz")
    U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
    pop = torch.from_numpy(split.item_popularity()); warm = pop > 0; cold = ~warm
    print(protocol, "items without training interactions:", int(cold.sum()), flush=True)
    t = transfer(T[cold] @ T[warm].T, V[warm])
    for s in (0.0, 0.5, 0.75, 1.0, 1.25):
        items = V.clone(); items[cold] = s * t
        sf = make_score_fn(U, items)
        v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
        mm = score_topk(*score_function_topk(sf, split), split).metrics
        print(protocol, json.dumps({"scale": s, "valid": round(v, 4), **{k: round(mm[k], 4) for k in KEYS if k in mm}}), flush=True)
    items = V.clone(); items[cold] = C[cold]
    sf = make_score_fn(U, items)
    v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
    mm = score_topk(*score_function_topk(sf, split), split).metrics
    print(protocol, json.dumps({"content C": 1, "valid": round(v, 4), **{k: round(mm[k], 4) for k in KEYS if k in mm}}), flush=True)
