"""TailGNN: KG pruning and the sparse KG layer, content view, inductive items, long-tail gain."""

from __future__ import annotations

import pytest
import torch

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import (
    INTERACTS,
    NODE_TYPES,
    bipartite_adjacency,
    build_hetero_data,
    kg_edges,
)
from tailgraph.gnn.models.kg_conv import KGConv, KGGraph, prune_kg
from tailgraph.gnn.models.tailgnn import CONTENT_WEIGHTS, TRANSFER_SCALES, TailGNN
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import split_interactions
from tailgraph.gnn.train import train
from tailgraph.graph.snapshot import GraphSnapshot


@pytest.fixture(scope="module")
def cold_data(planted: GraphSnapshot):
    inter = planted.interactions
    split = split_interactions(
        inter.user,
        inter.item,
        len(planted.user_ids),
        len(planted.item_ids),
        protocol="cold",
        ts=inter.ts,
        seed=3,
    )
    return build_hetero_data(planted, split), split


def _model(data, **options) -> TailGNN:
    """A 16-d TailGNN over ``data`` with explicit options (seeded)."""
    edge_index = data[INTERACTS].edge_index
    torch.manual_seed(0)
    return TailGNN(
        {t: int(data[t].num_nodes) for t in NODE_TYPES},
        bipartite_adjacency(edge_index, int(data["user"].num_nodes), 200),
        kg_edges(data),
        {t: data[t].x for t in NODE_TYPES},
        {t: data[t].has_text for t in NODE_TYPES},
        torch.bincount(edge_index[1], minlength=200) > 0,
        dim=16,
        **options,
    )


def test_sparse_kg_layer_equals_per_edge_gated_mean() -> None:
    torch.manual_seed(0)
    n, d, n_rel = 7, 3, 3
    src = torch.tensor([1, 2, 3, 4, 5, 6, 0, 0])
    dst = torch.tensor([0, 0, 0, 1, 1, 2, 5, 6])
    relation = torch.tensor([0, 0, 2, 1, 1, 0, 2, 2])
    weight = torch.rand(len(src))
    conv = KGConv(n_rel, d)
    with torch.no_grad():
        conv.gate.uniform_(-1, 1)
    x = torch.randn(n, d)
    expected = torch.zeros(n, d).index_add_(
        0, dst, x[src] * conv.gate[relation] * weight.unsqueeze(1)
    )
    out = conv(x, KGGraph.build(src, dst, relation, weight, n))
    assert torch.allclose(out, expected, atol=1e-6)


def test_prune_kg_drops_weak_entities_and_renormalises(cold_data) -> None:
    data, _ = cold_data
    kg = kg_edges(data)
    start = kg.offsets["entity"]
    links = torch.unique(torch.stack([kg.src, kg.dst], 1).sort(1).values, dim=0)
    degree = torch.bincount(links.flatten(), minlength=kg.num_nodes)[start:]
    threshold = int(degree[degree > 0].float().median())
    pruned = prune_kg(kg, min_degree=threshold)
    assert 0 < len(pruned.src) < len(kg.src)
    ends = torch.cat([pruned.src, pruned.dst])
    left = torch.unique(ends[ends >= start]) - start
    assert bool((degree[left] >= threshold).all())
    assert int((degree >= threshold).sum()) == len(left)
    total = torch.zeros(kg.num_nodes).index_add_(0, pruned.dst, pruned.weight)
    receivers = torch.unique(pruned.dst)
    assert torch.allclose(total[receivers], torch.ones(len(receivers)))  # still a mean
    assert prune_kg(kg, min_degree=1) is kg


def test_content_stage_scores_a_share_of_items_by_text_and_kg_only(cold_data) -> None:
    data, split = cold_data
    model = _model(data, content_share=1.0)
    model.set_stage("content")
    model.train()
    warm = torch.from_numpy(split.train[:5, 1])
    before = model()["item"][warm].detach().clone()
    with torch.no_grad():  # collaborative (id) vectors do not reach the content view
        model.collaborative.embedding.weight.add_(1.0)
        model.set_stage("content")
    assert torch.allclose(model()["item"][warm], before, atol=1e-5)
    model.set_stage("hybrid")
    model.eval()
    assert not torch.allclose(model()["item"][warm], before, atol=1e-3)


def test_content_weight_mixes_towers_for_warm_items_only(cold_data) -> None:
    data, split = cold_data
    model = _model(data).eval()
    cold = torch.from_numpy(split.cold_items)
    warm = torch.from_numpy(split.train[:5, 1])
    content = model.content()["item"].detach()
    collaborative = model.collaborative()["item"].detach()
    transferred = model.transfer(collaborative)
    assert torch.allclose(model()["item"][warm], collaborative[warm])
    model.content_weight.fill_(0.5)
    items = model()["item"].detach()
    assert torch.allclose(items[warm], 0.5 * (collaborative[warm] + content[warm]), atol=1e-6)
    assert torch.allclose(items[cold], transferred[cold])  # λ never touches cold items
    assert not torch.allclose(items[cold], content[cold], atol=1e-3)


def _item_entities(data, item: int) -> torch.Tensor:
    """The entity indices ``item`` links to, over every item -> entity relation."""
    entities = []
    for src_type, rel, dst_type in data.edge_types:
        if src_type == "item" and dst_type == "entity" and not rel.startswith("rev_"):
            edge_index = data[src_type, rel, dst_type].edge_index
            entities.append(edge_index[1][edge_index[0] == item])
    return torch.cat(entities)


def test_cold_items_match_embed_new_item(cold_data) -> None:
    data, split = cold_data
    model = _model(data).eval()
    items = model()["item"].detach()
    for item in split.cold_items[:5].tolist():
        entities = _item_entities(data, item)
        assert len(entities) > 0
        new = model.embed_new_item(data["item"].x[item], entities)
        assert torch.allclose(new, items[item], atol=1e-5)
    model.transfer_scale.fill_(0.5)  # the tuned scale applies to both paths
    item = int(split.cold_items[0])
    new = model.embed_new_item(data["item"].x[item], _item_entities(data, item))
    assert torch.allclose(new, 0.5 * items[item], atol=1e-5)
    assert torch.allclose(model()["item"][item], 0.5 * items[item], atol=1e-5)


def test_embed_new_item_changes_with_text_and_with_kg_neighbours(cold_data) -> None:
    data, _ = cold_data
    model = _model(data).eval()
    text, entities = data["item"].x[0], _item_entities(data, 0)
    other = _item_entities(data, 7)
    assert set(entities.tolist()) != set(other.tolist())
    base = model.embed_new_item(text, entities)
    other_text = model.embed_new_item(data["item"].x[7], entities)
    other_kg = model.embed_new_item(text, other)
    text_only = model.embed_new_item(text, torch.zeros(0, dtype=torch.long))
    kg_only = model.embed_new_item(torch.zeros(0), entities)
    assert base.shape == (16,)
    for changed in (other_text, other_kg, text_only):
        assert not torch.allclose(base, changed, atol=1e-4)
    assert kg_only.norm() > 0  # an item without text is still placed by its links
    nothing = model.embed_new_item(torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert torch.equal(nothing, torch.zeros(16))  # nothing to borrow from: unscorable


def test_tune_grid_covers_the_transfer_scale_only_when_items_lack_interactions(cold_data) -> None:
    data, _ = cold_data
    calls: list[int] = []

    def valid_ndcg() -> float:  # rises with every call, so the last candidate wins
        calls.append(1)
        return float(len(calls))

    model = _model(data)
    scores = model.tune(valid_ndcg)
    assert len(scores) == len(CONTENT_WEIGHTS) * len(TRANSFER_SCALES) == len(calls)
    assert model.transfer_scale.item() == pytest.approx(TRANSFER_SCALES[-1])
    assert model.content_weight.item() == pytest.approx(CONTENT_WEIGHTS[-1])
    all_warm = TailGNN(
        {t: int(data[t].num_nodes) for t in NODE_TYPES},
        bipartite_adjacency(data[INTERACTS].edge_index, int(data["user"].num_nodes), 200),
        kg_edges(data),
        {t: data[t].x for t in NODE_TYPES},
        {t: data[t].has_text for t in NODE_TYPES},
        torch.ones(200, dtype=torch.bool),
        dim=16,
    )
    calls.clear()
    assert len(all_warm.tune(valid_ndcg)) == len(CONTENT_WEIGHTS) == len(calls)
    assert all_warm.transfer_scale.item() == 1.0  # kept for items added after training


def test_tail_recall_beats_lightgcn_on_a_planted_long_tail(planted: GraphSnapshot) -> None:
    """Cold items are the far end of the tail: LightGCN has nothing to rank them by, TailGNN
    borrows vectors from their text and KG neighbours, while warm accuracy stays LightGCN's."""
    inter = planted.interactions
    split = split_interactions(
        inter.user, inter.item, 300, 200, protocol="cold", ts=inter.ts, seed=1
    )
    data = build_hetero_data(planted, split)
    metrics = {}
    for name in ("lightgcn", "tailgnn"):
        config = TrainConfig(
            model=name,
            dim=32,
            lr=1e-2,
            epochs=30,
            eval_every=5,
            patience=2,
            eval_ks=(20,),
            subsets=(),
            seed=1,
        )
        metrics[name] = train(build_model(data, config), data, split, config).test.metrics
    tail = {name: m["tailrecall@20"] for name, m in metrics.items()}
    assert tail["tailgnn"] > 3 * tail["lightgcn"], tail
    assert tail["tailgnn"] - tail["lightgcn"] > 0.005, tail
    assert metrics["tailgnn"]["recall@20"] > 0.95 * metrics["lightgcn"]["recall@20"], metrics
