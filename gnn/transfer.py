"""Neighbour transfer, the rule: a vector for an item without interactions, borrowed from the
trained vectors of the items most like it in BERT text and KG links.

    sim(i, j) = (1 - a) cos(t_i, t_j) + a cos(k_i, k_j)    t: text, k: entity links (1/log(1+deg))
    w_ij      = softmax_j(sim(i, j) / τ)  over the ``neighbours`` best j with sim > 0
    h_i       = s · r_i m_i / |m_i|,  m_i = Σ_j w_ij v_j,  r_i = Σ_j w_ij |v_j|

The length is restored (r_i) because averaging shortens vectors, and in a dot-product model a
short vector ranks below everything; s is TailGNN's tuned ``transfer_scale``. TailGNN applies
the rule to every item without training interactions
(:class:`~tailgraph.gnn.models.neighbour_transfer.NeighbourTransfer`); the service applies it
to an item created after training (:func:`transfer`), over candidates it read from the store.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

NEIGHBOURS = 10  # top-k items borrowed from
TEMPERATURE = 0.05  # τ of the softmax over similarities
KG_WEIGHT = 0.2  # a: share of the KG-link cosine in the similarity


def entity_weights(degree: np.ndarray) -> np.ndarray:
    """1 / log(1 + degree) per entity: sharing a rare entity says more than a common one."""
    degree = np.maximum(np.asarray(degree, dtype=np.float64), 1.0)
    return (1.0 / np.log1p(degree)).astype(np.float32)


def borrow(source_vectors: Tensor, index: Tensor, similarity: Tensor, temperature: float) -> Tensor:
    """(n, d) length-restored softmax mixes of ``source_vectors`` rows ``index`` (n, k) weighted
    by ``similarity`` (n, k); rows with no neighbour of positive similarity are zero (nothing to
    borrow from, so the item cannot be scored)."""
    logits = (similarity / temperature).masked_fill(similarity <= 0, float("-inf"))
    usable = (similarity > 0).any(dim=1, keepdim=True)
    weights = torch.softmax(logits.masked_fill(~usable, 0.0), dim=1) * usable
    picked = source_vectors[index]  # (n, k, d)
    mean = (weights.unsqueeze(2) * picked).sum(1)
    length = (weights * picked.norm(dim=2)).sum(1, keepdim=True)
    return mean * (length / mean.norm(dim=1, keepdim=True).clamp(min=1e-12))


def transfer(
    vectors: np.ndarray,
    text_similarity: np.ndarray,
    kg_similarity: np.ndarray,
    *,
    scale: float = 1.0,
    neighbours: int = NEIGHBOURS,
    temperature: float = TEMPERATURE,
    kg_weight: float = KG_WEIGHT,
) -> tuple[np.ndarray | None, np.ndarray]:
    """One new item's vector from candidate items' ``vectors`` (n, d) and its text and KG
    similarities (n,) to each; returns (vector or None when no candidate is similar at all,
    positions of the candidates borrowed from)."""
    similarity = (1.0 - kg_weight) * text_similarity + kg_weight * kg_similarity
    best = np.argsort(-similarity, kind="stable")[:neighbours]
    best = best[similarity[best] > 0]
    if not len(best):
        return None, best
    source = torch.from_numpy(np.asarray(vectors, dtype=np.float32)[best])
    index, weights = torch.arange(len(best))[None], torch.from_numpy(similarity[best])[None]
    return scale * borrow(source, index, weights, temperature)[0].numpy(), best
