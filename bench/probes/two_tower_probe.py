# Probe, kept exactly as run on 2026-11-23 (session 3) to decide TailGNN's two-tower design;
# its inline content tower became gnn/models/content_tower.py. Results: ../results/tailgnn-tuning.json
# ("session_3"). Run from the repo root:
#   OMP_NUM_THREADS=1 .venv/bin/python bench/probes/two_tower_probe.py <protocol> <seed> <mix|both> <content|blend>
# argv[3]: "mix" = each item scored by content with prob 0.5 (positives and negatives alike);
#          "both" = content positive vs LightGCN negative plus LightGCN positive vs content negative.
# argv[4]: early stopping on the content tower alone ("content") or on LightGCN-for-warm +
#          content-for-cold ("blend").
# The *-mix, *-both and *-mixblend logs in ../results/probes come from the β-blend section at
# the end (run before the λ section and its `raise SystemExit` were inserted); *-lam from the
# λ section (additive mix v + λc).
"""Prototype: LightGCN CF tower + content tower (text + KG) trained against frozen CF vectors."""
import json, sys, time
from dataclasses import replace
import numpy as np, torch
sys.path.insert(0, "/work/main/bench")
from quality import CONFIG, SNAPSHOT
from tailgraph.gnn.data import build_hetero_data, kg_edges, NODE_TYPES
from tailgraph.gnn.experiment import TAIL_POOL, load_snapshot, score_function_topk, score_topk
from tailgraph.gnn.models.registry import build_model
from tailgraph.gnn.models.kg_conv import KGConv, KGGraph, prune_kg
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.train import make_score_fn, tail_adjusted, train, NegativeSampler
from tailgraph.gnn.evaluate import evaluate

protocol, seed = sys.argv[1], int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "mix"
stop = sys.argv[4] if len(sys.argv) > 4 else "content"
torch.set_num_threads(1)
snap = load_snapshot(SNAPSHOT)
split = split_snapshot(snap, protocol, seed)
data = build_hetero_data(snap, split)
cfg = replace(CONFIG, model="lightgcn", seed=seed, subsets=())
t0 = time.time()
res = train(build_model(data, cfg), data, split, cfg)
print("lightgcn", res.best_epoch, round(time.time() - t0), flush=True)
U = torch.from_numpy(res.user_embeddings); V = torch.from_numpy(res.item_embeddings)
pop = torch.from_numpy(split.item_popularity())
warm = pop > 0

class Content(torch.nn.Module):
    def __init__(self, dim=64, layers=2):
        super().__init__()
        self.n = {t: int(data[t].num_nodes) for t in NODE_TYPES}
        kg = prune_kg(kg_edges(data), 2)
        self.graph = KGGraph.build(kg.src, kg.dst, kg.relation, kg.weight, kg.num_nodes)
        self.ent = torch.nn.Embedding(self.n["entity"], dim)
        torch.nn.init.xavier_uniform_(self.ent.weight)
        td = data["item"].x.shape[1]
        self.proj_i = torch.nn.Linear(td, dim, bias=False)
        self.proj_e = torch.nn.Linear(td, dim, bias=False)
        torch.nn.init.xavier_uniform_(self.proj_i.weight); torch.nn.init.xavier_uniform_(self.proj_e.weight)
        self.convs = torch.nn.ModuleList(KGConv(len(kg.relations), dim) for _ in range(layers))
        self.ti = data["item"].x.float(); self.te = data["entity"].x.float()
        self.he = data["entity"].has_text.float().unsqueeze(1); self.hi = data["item"].has_text.float().unsqueeze(1)
    def forward(self):
        xi = self.proj_i(self.ti) * self.hi
        xe = self.ent.weight + self.proj_e(self.te) * self.he
        x = torch.cat([torch.zeros(self.n["user"], xi.shape[1]), xi, xe])
        s, e = self.n["user"], self.n["user"] + self.n["item"]
        outs = [x[s:e]]
        for conv in self.convs:
            x = conv(x, self.graph)
            outs.append(x[s:e])
        return torch.stack(outs).mean(0)

torch.manual_seed(seed)
g = torch.Generator().manual_seed(seed)
tower = Content()
opt = torch.optim.Adam(tower.parameters(), lr=5e-3)
pairs = torch.from_numpy(split.train)
sampler = NegativeSampler(split.train, split.n_items, g, np.flatnonzero(split.item_popularity() > 0))
best, best_state, waited = -1, None, 0
for epoch in range(1, 101):
    t = time.time(); tot = 0
    for batch in torch.randperm(len(pairs), generator=g).split(2048):
        u, p = pairs[batch, 0], pairs[batch, 1]
        n = sampler.sample(u, 1)[:, 0]
        c = tower()
        uu = U[u]
        if mode == "mix":
            mp = torch.rand(len(p)) < 0.5; mn = torch.rand(len(p)) < 0.5
            vp = torch.where(mp[:, None], c[p], V[p]); vn = torch.where(mn[:, None], c[n], V[n])
            loss = torch.nn.functional.softplus((uu * vn).sum(1) - (uu * vp).sum(1)).mean()
        elif mode == "both":
            l1 = torch.nn.functional.softplus((uu * V[n]).sum(1) - (uu * c[p]).sum(1))
            l2 = torch.nn.functional.softplus((uu * c[n]).sum(1) - (uu * V[p]).sum(1))
            loss = (l1 + l2).mean() / 2
        reg = (tower.ent.weight.pow(2).sum() * 0)  # none for now
        opt.zero_grad(); (loss + reg).backward(); opt.step(); tot += float(loss.detach())
    if epoch % 2 == 0:
        with torch.no_grad():
            c = tower()
        items = c if stop == "content" else torch.where(warm[:, None], V, c)
        ndcg = evaluate(make_score_fn(U, items), split, part="valid", ks=(20,)).metrics["ndcg@20"]
        print(epoch, round(tot, 3), "content-only valid ndcg", round(ndcg, 4), round(time.time() - t, 1), "s/ep", flush=True)
        if ndcg > best: best, best_state, waited = ndcg, {k: v.clone() for k, v in tower.state_dict().items()}, 0
        else:
            waited += 1
            if waited >= 5: break
tower.load_state_dict(best_state)
with torch.no_grad(): C = tower()
np.savez(f"/tmp/proto/{protocol}{seed}-{mode}-{stop}.npz", U=U.numpy(), V=V.numpy(), C=C.numpy())
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "giniindex@20", "cold/recall@20")
for lam in (0.0, 0.1, 0.25, 0.5, 1.0):
    items = torch.where(warm[:, None], V + lam * C, C)
    sf = make_score_fn(U, items)
    v = evaluate(sf, split, part="valid", ks=(20,)).metrics["ndcg@20"]
    m = score_topk(*score_function_topk(sf, split), split).metrics
    print(json.dumps({"lam": lam, "valid": round(v, 4), **{k: round(m[k], 4) for k in KEYS if k in m}}), flush=True)
raise SystemExit
KEYS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "giniindex@20", "cold/recall@20")
def blend(beta):
    n = pop.float()
    a = (n / (n + beta)) if beta > 0 else warm.float()
    a = torch.where(warm, a, torch.zeros_like(a))
    return a[:, None] * V + (1 - a[:, None]) * C
rows = {}
for beta in (0, 0.5, 1, 2, 4, 8, 16):
    v = evaluate(make_score_fn(U, blend(beta)), split, part="valid", ks=(20,)).metrics["ndcg@20"]
    rows[beta] = v
print("valid ndcg by beta", rows)
bb = max(rows, key=rows.get)
for label, items in (("lightgcn", V), ("content", C), (f"blend{bb}", blend(bb)), ("blend0", blend(0))):
    sf = make_score_fn(U, items)
    for w in (0.0, 0.1, 0.2):
        m = score_topk(*score_function_topk(tail_adjusted(sf, pop, w, TAIL_POOL), split), split).metrics
        print(json.dumps({"model": label, "w": w, **{k: round(m[k], 4) for k in KEYS if k in m}}), flush=True)
