# Probe (session 4): cold item = kernel regression of warm LightGCN vectors over neighbours.
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py <protocol> 1 mix content saved
# to /tmp/proto/<protocol>1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/neighbour_transfer_probe.py
# Output: ../results/probes/session4-neighbour_transfer_probe.log
import json, sys
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.data import build_hetero_data, kg_edges
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "cold/recall@20")
split = split_snapshot(snap, "cold", 1)
z = np.load("/tmp/proto/cold1-mix-content.npz")
U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
pop = torch.from_numpy(split.item_popularity()); warm = pop > 0; cold = ~warm
T = torch.from_numpy(snap.text["Item"].astype(np.float32)); T = T / T.norm(dim=1, keepdim=True).clamp(min=1e-9)
data = build_hetero_data(snap, split)
kg = kg_edges(data)
# item-entity incidence
n_u, n_i = data["user"].num_nodes, data["item"].num_nodes
src, dst = kg.src.numpy(), kg.dst.numpy()
m = (src >= n_u) & (src < n_u + n_i) & (dst >= n_u + n_i)
import scipy.sparse as sp
A = sp.csr_matrix((np.ones(m.sum()), (src[m] - n_u, dst[m] - n_u - n_i)), shape=(n_i, kg.num_nodes - n_u - n_i))
A.data[:] = 1
deg = np.asarray(A.sum(0)).ravel()
Aw = A @ sp.diags(1 / np.log1p(np.maximum(deg, 1)) )  # idf-ish
An = sp.diags(1 / np.sqrt(np.maximum(np.asarray(Aw.multiply(Aw).sum(1)).ravel(), 1e-9))) @ Aw
KGsim = torch.from_numpy((An[cold.numpy()] @ An[warm.numpy()].T).toarray().astype(np.float32))
print("items with kg", (np.asarray(A.sum(1)).ravel() > 0).mean(), flush=True)
def full(name, items):
    sf = make_score_fn(U, items)
    v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
    mm = score_topk(*score_function_topk(sf, split), split).metrics
    print(json.dumps({"v": name, "valid": round(v, 4), **{k: round(mm[k], 4) for k in KEYS if k in mm}}), flush=True)
Vw = V[warm]
def knn(sim, k, tau, renorm=False):
    vals, idx = torch.topk(sim, k, dim=1)
    w = torch.softmax(vals / tau, dim=1)
    out = (w.unsqueeze(2) * Vw[idx]).sum(1)
    if renorm:
        target = (w * Vw[idx].norm(dim=2)).sum(1, keepdim=True)
        out = out / out.norm(dim=1, keepdim=True) * target
    items = V.clone(); items[cold] = out
    return items
ts = T[cold] @ T[warm].T
Cn = C / C.norm(dim=1, keepdim=True)
cs = Cn[cold] @ Cn[warm].T
for k in (5, 10, 20):
    for tau in (0.02, 0.05):
        full(f"text k={k} tau={tau}", knn(ts, k, tau))
        full(f"text k={k} tau={tau} renorm", knn(ts, k, tau, True))
for k, tau in ((10, 0.05), (10, 0.1)):
    full(f"contentC k={k} tau={tau}", knn(cs, k, tau))
    full(f"kg k={k} tau={tau}", knn(KGsim, k, tau))
    full(f"text+kg k={k} tau={tau}", knn(0.5 * ts + 0.5 * KGsim, k, tau))
