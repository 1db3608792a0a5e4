# Probe (session 4): calibrate cold items' content vectors against warm LightGCN vectors.
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py <protocol> 1 mix content saved
# to /tmp/proto/<protocol>1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/cold_calibration_probe.py
# Output: ../results/probes/session4-cold_calibration_probe.log
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
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "gini@20", "cold/recall@20")
split = split_snapshot(snap, "cold", 1)
z = np.load("/tmp/proto/cold1-mix-content.npz")
U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
pop = torch.from_numpy(split.item_popularity()); warm = pop > 0
print("norms warm V", V[warm].norm(dim=1).mean().item(), "warm C", C[warm].norm(dim=1).mean().item(), "cold C", C[~warm].norm(dim=1).mean().item())
pbar = V[warm].mean(0)
def run(name, items):
    sf = make_score_fn(U, items)
    v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
    m = score_topk(*score_function_topk(sf, split), split).metrics
    print(json.dumps({"v": name, "valid": round(v, 4), **{k: round(m[k], 4) for k in KEYS if k in m}}), flush=True)
for s in (1.0, 1.25, 1.5, 2.0, 3.0):
    run(f"scale={s}", torch.where(warm[:, None], V, s * C))
for a in (0.25, 0.5, 1.0, 2.0):
    run(f"offset={a}", torch.where(warm[:, None], V, C + a * pbar))
