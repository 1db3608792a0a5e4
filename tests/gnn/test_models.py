"""Models: shapes, gradients, KG layer maths, inductive item embedding."""

from __future__ import annotations

import pytest
import torch

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.models.kg_conv import KGConv, KGGraph
from tailgraph.gnn.models.tailgnn import TailGNN
from tailgraph.gnn.registry import TRAINED as MODELS
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import split_interactions
from tailgraph.graph.snapshot import GraphSnapshot


@pytest.fixture(scope="module")
def data_split(planted: GraphSnapshot):
    inter = planted.interactions
    split = split_interactions(
        inter.user,
        inter.item,
        len(planted.user_ids),
        len(planted.item_ids),
        protocol="cold",
        ts=inter.ts,
    )
    return build_hetero_data(planted, split), split


@pytest.mark.parametrize("name", MODELS)
def test_forward_shapes_and_gradients(data_split, name: str) -> None:
    data, _ = data_split
    model = build_model(data, TrainConfig(model=name, dim=16, layers=2))
    out = model()
    assert out["user"].shape == (300, 16) and out["item"].shape == (200, 16)
    if name == "tailgnn":
        assert out["entity"].shape == (60, 16)
    users, items = torch.arange(10), torch.arange(10)
    loss = (out["user"][users] * out["item"][items]).sum()
    loss = loss + model.reg_loss(users, items, items)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_tailgnn_gradients_reach_text_projection_and_kg_gates(data_split) -> None:
    data, _ = data_split
    model = build_model(data, TrainConfig(model="tailgnn", dim=16))
    model.content_weight.fill_(0.25)  # the hybrid reaches the content tower through λ only
    model()["item"].pow(2).sum().backward()
    assert model.content.proj["item"].weight.grad.abs().sum() > 0
    assert all(conv.gate.grad.abs().sum() > 0 for conv in model.content.kg_convs)
    assert model.collaborative.embedding.weight.grad.abs().sum() > 0
    assert "user" not in model.content.proj  # users have no text here


def test_tailgnn_stages_train_one_tower_at_a_time(data_split) -> None:
    data, _ = data_split
    model = build_model(data, TrainConfig(model="tailgnn", dim=16))
    model.set_stage("collaborative")
    assert set(model()) == {"user", "item"}
    assert not any(p.requires_grad for p in model.content.parameters())
    model.set_stage("content")
    assert not any(p.requires_grad for p in model.collaborative.parameters())
    out = model.train()()
    out["item"].pow(2).sum().backward()
    assert model.content.proj["item"].weight.grad.abs().sum() > 0
    assert model.collaborative.embedding.weight.grad is None
    frozen_users = model.collaborative()["user"]
    assert torch.equal(out["user"], frozen_users)  # users stay LightGCN's
    with pytest.raises(ValueError, match="unknown stage"):
        model.set_stage("joint")


def test_kg_conv_mean_over_relations_by_hand() -> None:
    conv = KGConv(num_relations=2, dim=2)
    with torch.no_grad():
        conv.gate[1] = torch.tensor([2.0, 0.0])
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0], [5.0, 5.0]])
    # node 0 gets relation 0 from nodes 1 and 2 (mean [2, 2]), relation 1 from node 3 ([10, 0])
    src, dst = torch.tensor([1, 2, 3]), torch.tensor([0, 0, 0])
    relation = torch.tensor([0, 0, 1])
    weight = torch.tensor([0.25, 0.25, 0.5])  # 1 / (|R| * |N_r|)
    out = conv(x, KGGraph.build(src, dst, relation, weight, num_nodes=4))
    assert torch.allclose(out[0], torch.tensor([6.0, 1.0]))
    assert out[1:].abs().sum() == 0


def test_cold_items_ignore_their_id_embedding(data_split) -> None:
    data, split = data_split
    model: TailGNN = build_model(data, TrainConfig(model="tailgnn", dim=16)).eval()
    cold = torch.from_numpy(split.cold_items)
    before = model()["item"][cold].detach().clone()
    with torch.no_grad():
        model.collaborative.embedding.weight[data["user"].num_nodes + cold] += 100.0
    assert torch.allclose(model()["item"][cold], before)
