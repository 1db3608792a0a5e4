# Probe (session 4): neighbour transfer variants: KG sims with renorm, mix with content C; and
# on random protocol, smoothing few-interaction warm items towards their text neighbours.
# Kept as run on 2026-11-24 (session 4). Reads the seed-1 vectors (U: users, V: LightGCN items,
# C: content tower items) that bench/probes/two_tower_probe.py <protocol> 1 mix content saved
# to /tmp/proto/<protocol>1-mix-content.npz. Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/neighbour_transfer_kg_probe.py
# Output: ../results/probes/session4-neighbour_transfer_kg_probe.log
import json, sys
import numpy as np, torch, scipy.sparse as sp
sys.path.insert(0, "/work/main/bench")
from quality import SNAPSHOT
from tailgraph.gnn.experiment import load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.data import build_hetero_data, kg_edges
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "gini@20", "cold/recall@20")
T = torch.from_numpy(snap.text["Item"].astype(np.float32)); T = T / T.norm(dim=1, keepdim=True).clamp(min=1e-9)
def transfer(sim, Vw, k, tau):
    vals, idx = torch.topk(sim, k, dim=1)
    w = torch.softmax(vals / tau, dim=1)
    out = (w.unsqueeze(2) * Vw[idx]).sum(1)
    target = (w * Vw[idx].norm(dim=2)).sum(1, keepdim=True)
    return out / out.norm(dim=1, keepdim=True).clamp(min=1e-9) * target
for protocol in ("cold", "random"):
    split = split_snapshot(snap, protocol, 1)
    z = np.load(f"/tmp/proto/{protocol}1-mix-content.npz")
    U, V, C = (torch.from_numpy(z[k]) for k in "UVC")
    pop = torch.from_numpy(split.item_popularity()); warm = pop > 0; cold = ~warm
    def full(name, items):
        sf = make_score_fn(U, items)
        v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
        mm = score_topk(*score_function_topk(sf, split), split).metrics
        print(protocol, json.dumps({"v": name, "valid": round(v, 4), **{k: round(mm[k], 4) for k in KEYS if k in mm}}), flush=True)
    if protocol == "cold":
        data = build_hetero_data(snap, split); kg = kg_edges(data)
        n_u, n_i = data["user"].num_nodes, data["item"].num_nodes
        src, dst = kg.src.numpy(), kg.dst.numpy()
        m = (src >= n_u) & (src < n_u + n_i) & (dst >= n_u + n_i)
        A = sp.csr_matrix((np.ones(m.sum()), (src[m] - n_u, dst[m] - n_u - n_i)), shape=(n_i, kg.num_nodes - n_u - n_i)); A.data[:] = 1
        deg = np.asarray(A.sum(0)).ravel()
        Aw = A @ sp.diags(1 / np.log1p(np.maximum(deg, 1)))
        An = sp.diags(1 / np.sqrt(np.maximum(np.asarray(Aw.multiply(Aw).sum(1)).ravel(), 1e-9))) @ Aw
        KGsim = torch.from_numpy((An[cold.numpy()] @ An[warm.numpy()].T).toarray().astype(np.float32))
        ts = T[cold] @ T[warm].T
        base = transfer(ts, V[warm], 10, 0.05)
        full("C only", torch.where(warm[:, None], V, C))
        full("text t", (lambda it: (it.__setitem__(cold, base), it)[1])(V.clone()))
        kgt = transfer(KGsim, V[warm], 10, 0.05)
        it = V.clone(); it[cold] = kgt; full("kg t renorm", it)
        for a in (0.1, 0.2, 0.3):
            it = V.clone(); it[cold] = transfer((1 - a) * ts + a * KGsim, V[warm], 10, 0.05); full(f"text+kg a={a}", it)
        for mu in (0.25, 0.5):
            it = V.clone(); it[cold] = torch.lerp(base, C[cold], mu); full(f"lerp C mu={mu}", it)
            it = V.clone(); it[cold] = torch.lerp(base, kgt, mu); full(f"lerp kg mu={mu}", it)
    else:
        full("lightgcn V", V)
        full("lambda .25", torch.lerp(V, C, 0.25))
        ts = T @ T.T; ts.fill_diagonal_(-2); ts[:, cold] = -2
        nb = transfer(ts, V, 10, 0.05)
        n = pop.float().unsqueeze(1)
        for beta in (1.0, 3.0, 10.0):
            a = beta / (n + beta)
            full(f"smooth beta={beta}", torch.lerp(V, nb, a))
