"""Neighbour transfer: who an item borrows from, how the borrowed vectors are mixed, new items."""

from __future__ import annotations

import pytest
import torch

from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.models import neighbour_transfer
from tailgraph.gnn.models.neighbour_transfer import NeighbourTransfer

# 6 items (0-3 have interactions, 4-5 do not), 3 entities; global order users(2), items, entities
OFFSETS = {"user": 0, "item": 2, "entity": 8}
LINKS = [(0, 0), (1, 0), (2, 1), (3, 2), (4, 0), (5, 1), (5, 2)]  # (item, entity)


def _kg() -> KGEdges:
    src = torch.tensor([OFFSETS["item"] + i for i, _ in LINKS])
    dst = torch.tensor([OFFSETS["entity"] + e for _, e in LINKS])
    both = (torch.cat([src, dst]), torch.cat([dst, src]))  # item -> entity and back
    relation = torch.cat([torch.zeros(len(LINKS)), torch.ones(len(LINKS))]).long()
    return KGEdges(
        both[0],
        both[1],
        relation,
        torch.ones(2 * len(LINKS)),
        [("item", "LINK", "entity"), ("entity", "rev_LINK", "item")],
        OFFSETS,
        11,
    )


def _text() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(6, 8)


SOURCES = torch.tensor([True, True, True, True, False, False])


def _transfer(**options) -> NeighbourTransfer:
    return NeighbourTransfer(_text(), torch.ones(6, dtype=torch.bool), _kg(), SOURCES, **options)


def test_neighbours_are_the_most_similar_sources_by_text_or_by_kg() -> None:
    text = torch.nn.functional.normalize(_text(), dim=1)
    by_text = _transfer(neighbours=2, kg_weight=0.0)
    expected = torch.topk(text[4:] @ text[:4].T, 2, dim=1)
    assert torch.equal(by_text.neighbour_index, expected.indices)
    assert torch.allclose(by_text.neighbour_similarity, expected.values, atol=1e-6)
    by_kg = _transfer(neighbours=1, kg_weight=1.0)
    assert by_kg.neighbour_index[0].tolist() in ([0], [1])  # item 4 shares entity 0 with 0 and 1
    assert by_kg.neighbour_index[1].tolist() in ([2], [3])  # item 5: entity 1 (item 2), 2 (item 3)
    assert torch.allclose(by_kg.neighbour_similarity, torch.tensor([[1.0], [2**-0.5]]), atol=1e-6)


def test_mix_is_a_softmax_weighted_mean_with_the_mean_length_restored() -> None:
    transfer = _transfer(temperature=0.5)
    sources = torch.tensor([[3.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    index = torch.tensor([[0, 1], [2, 0]])
    similarity = torch.tensor([[0.8, 0.3], [-0.1, 0.0]])  # second row: nothing similar
    out = transfer.mix(sources, index, similarity)
    weights = torch.softmax(torch.tensor([0.8, 0.3]) / 0.5, dim=0)
    mean = weights[0] * sources[0] + weights[1] * sources[1]
    length = weights[0] * 3.0 + weights[1] * 1.0
    assert torch.allclose(out[0], mean / mean.norm() * length)
    assert torch.equal(out[1], torch.zeros(2))


def test_forward_replaces_only_items_without_interactions() -> None:
    transfer = _transfer(neighbours=2)
    vectors = torch.randn(6, 4)
    out = transfer(vectors)
    assert torch.equal(out[:4], vectors[:4])
    expected = transfer.mix(vectors[:4], transfer.neighbour_index, transfer.neighbour_similarity)
    assert torch.allclose(out[4:], expected)
    assert torch.allclose(transfer.embed(vectors, _text()[5], torch.tensor([1, 2])), out[5])


def test_similarities_in_chunks_equal_all_at_once(monkeypatch) -> None:
    whole = _transfer(neighbours=3)
    monkeypatch.setattr(neighbour_transfer, "CHUNK", 1)
    chunked = _transfer(neighbours=3)
    assert torch.equal(whole.neighbour_index, chunked.neighbour_index)
    assert torch.allclose(whole.neighbour_similarity, chunked.neighbour_similarity)


def test_items_without_text_are_placed_by_their_links_only() -> None:
    has_text = torch.tensor([True, True, True, True, False, True])
    transfer = NeighbourTransfer(_text(), has_text, _kg(), SOURCES, neighbours=1)
    assert transfer.neighbour_index[0].tolist() in ([0], [1])
    assert torch.allclose(transfer.neighbour_similarity[0], torch.tensor([0.2]), atol=1e-6)


@pytest.mark.parametrize("options", [{"neighbours": 0}, {"temperature": 0.0}, {"kg_weight": 1.5}])
def test_bad_options_are_refused(options) -> None:
    with pytest.raises(ValueError, match="neighbour transfer needs"):
        _transfer(**options)
