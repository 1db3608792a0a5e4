"""Neighbour transfer as a module of TailGNN: every item without training interactions gets the
:mod:`tailgraph.gnn.transfer` mix of its nearest warm items' vectors, recomputed each forward.

Similarities to every warm item are computed once from the BERT text and the KG entity links
(the graph is fixed during training); only the mix is re-evaluated as the warm vectors train.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from tailgraph.gnn.data import KGEdges
from tailgraph.gnn.transfer import KG_WEIGHT, NEIGHBOURS, TEMPERATURE, borrow, entity_weights

CHUNK = 1024  # target items whose similarities to every source are held at once


class NeighbourTransfer(torch.nn.Module):
    """Args: ``item_text`` (I, T) with ``item_has_text`` (I,), ``kg`` edges, ``sources`` (I,)
    bool (items whose vectors can be borrowed), ``neighbours`` (top-k), ``temperature`` τ,
    ``kg_weight`` a.

    Shapes: forward item vectors (I, d) -> (I, d) with every non-source row replaced.
    """

    def __init__(
        self,
        item_text: Tensor,
        item_has_text: Tensor,
        kg: KGEdges,
        sources: Tensor,
        *,
        neighbours: int = NEIGHBOURS,
        temperature: float = TEMPERATURE,
        kg_weight: float = KG_WEIGHT,
    ) -> None:
        super().__init__()
        if neighbours < 1 or temperature <= 0 or not 0.0 <= kg_weight <= 1.0:
            raise ValueError(
                "neighbour transfer needs neighbours >= 1, temperature > 0 and kg_weight in "
                f"[0, 1]; got {neighbours}, {temperature}, {kg_weight}"
            )
        self.neighbours, self.temperature, self.kg_weight = neighbours, temperature, kg_weight
        n_items = int(item_text.shape[0])
        text = item_text.detach().cpu().float().numpy() * item_has_text.cpu().numpy()[:, None]
        text = _unit_rows(text)
        self._entity_weight, links = _entity_links(kg, n_items)
        sources = sources.cpu().bool()
        source_index = torch.nonzero(sources).flatten()
        target_index = torch.nonzero(~sources).flatten()
        # kept for new items (numpy/scipy, not buffers: only ever read on the CPU)
        self._source_text = text[source_index.numpy()]  # (S, T)
        self._source_links_t = links[source_index.numpy()].T.tocsr()  # (E, S)
        self.register_buffer("source_index", source_index, persistent=False)
        self.register_buffer("target_index", target_index, persistent=False)
        rows = target_index.numpy()
        index, similarity = self._nearest(text[rows], links[rows])
        self.register_buffer("neighbour_index", index, persistent=False)
        self.register_buffer("neighbour_similarity", similarity, persistent=False)

    def _nearest(self, text: np.ndarray, links: sp.csr_matrix) -> tuple[Tensor, Tensor]:
        """Top-k source positions and similarities for items with unit ``text`` (n, T) and
        entity-link rows ``links`` (n, E), in chunks of :data:`CHUNK`."""
        k = min(self.neighbours, self._source_text.shape[0])
        index = np.zeros((len(text), k), dtype=np.int64)
        similarity = np.zeros((len(text), k), dtype=np.float32)
        for start in range(0, len(text) if k else 0, CHUNK):
            end = start + CHUNK
            sims = (1.0 - self.kg_weight) * (text[start:end] @ self._source_text.T)
            if self.kg_weight:
                sims += self.kg_weight * (links[start:end] @ self._source_links_t).toarray()
            index[start:end], similarity[start:end] = _top_k(sims, k)
        return torch.from_numpy(index), torch.from_numpy(similarity)

    def mix(self, source_vectors: Tensor, index: Tensor, similarity: Tensor) -> Tensor:
        """:func:`borrow` at this transfer's temperature."""
        return borrow(source_vectors, index, similarity, self.temperature)

    def forward(self, item_vectors: Tensor) -> Tensor:
        sources = item_vectors[self.source_index]
        borrowed = self.mix(sources, self.neighbour_index, self.neighbour_similarity)
        return item_vectors.index_copy(0, self.target_index, borrowed.to(item_vectors.dtype))

    @torch.no_grad()
    def embed(self, item_vectors: Tensor, text: Tensor, entity_indices: Tensor) -> Tensor:
        """(d,) vector of an item outside the graph from its ``text`` (T,) (empty for none) and
        the ``entity_indices`` it links to, borrowing from ``item_vectors`` (I, d)."""
        unit = np.zeros((1, self._source_text.shape[1]), dtype=np.float32)
        if text.numel():
            unit = _unit_rows(text.detach().cpu().float().numpy().reshape(1, -1))
        entities = np.unique(entity_indices.cpu().numpy().astype(np.int64))
        entities = entities[(entities >= 0) & (entities < len(self._entity_weight))]
        weights = np.zeros(len(self._entity_weight), dtype=np.float32)
        weights[entities] = self._entity_weight[entities]
        norm = float(np.linalg.norm(weights))
        links = sp.csr_matrix(weights[None] / (norm if norm > 0 else 1.0))
        index, similarity = self._nearest(unit, links)
        device = item_vectors.device
        return self.mix(item_vectors[self.source_index], index.to(device), similarity.to(device))[0]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _top_k(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest entries per row, best first."""
    if k == 0:
        return np.zeros((len(sims), 0), np.int64), np.zeros((len(sims), 0), np.float32)
    index = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(sims, index, axis=1)
    order = np.argsort(-values, axis=1)
    return np.take_along_axis(index, order, 1), np.take_along_axis(values, order, 1)


def _entity_links(kg: KGEdges, n_items: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """:func:`entity_weights` (E,) and the items' unit-length weighted entity-link rows (I, E)."""
    start_item, start_entity = kg.offsets["item"], kg.offsets["entity"]
    n_entities = kg.num_nodes - start_entity
    src, dst = kg.src.cpu().numpy(), kg.dst.cpu().numpy()
    ends = np.concatenate([np.stack([src, dst], 1), np.stack([dst, src], 1)])  # both directions
    item_to_entity = (
        (ends[:, 0] >= start_item)
        & (ends[:, 0] < start_item + n_items)
        & (ends[:, 1] >= start_entity)
    )
    items = ends[item_to_entity, 0] - start_item
    entities = ends[item_to_entity, 1] - start_entity
    links = sp.csr_matrix(
        (np.ones(len(items), np.float32), (items, entities)), shape=(n_items, n_entities)
    )
    links.data[:] = 1.0  # duplicate links (several relations to one entity) count once
    weight = entity_weights(np.asarray(links.sum(axis=0)).ravel())
    weighted = (links @ sp.diags(weight)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    unit = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ weighted
    return weight, unit.astype(np.float32).tocsr()
