"""Item neighbours precomputed at training time, so serving expands candidates in one hop.

Walking user -> seed item <- co-user -> candidate (or seed -> entity <- candidate) in the
graph reads thousands of rows per request (tens of milliseconds; more through a hub item with
100k raters or a hub entity). Precomputed once after training, each is one lookup per seed:

    co(i, j)    = users (collaborative) or KG entities (knowledge) linked to both i and j
    score(i, j) = co(i, j) / sqrt(deg(i) deg(j))     (cosine of the binary link columns)

Each item keeps its ``k`` best-scoring others; the cosine keeps hub items from topping every
list. They are computed from the training run's :class:`GraphSnapshot` (:func:`from_snapshot`),
so training reads the store once. A request's candidates are the union of its seeds'
neighbours, support = the summed co-counts (co-users, or seed-entity paths, reaching the
item), as the Cypher sources count.

Stored next to the model as ``neighbours.npz``: per kind ``<kind>_rows`` (I, k) int32 with -1
padding and ``<kind>_counts`` (I, k) int32, plus ``item_ids``; loaded with that model.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from tailgraph.errors import ArtefactError
from tailgraph.graph.snapshot import GraphSnapshot

FILE_NAME = "neighbours.npz"
COLLABORATIVE, KNOWLEDGE = "collaborative", "knowledge"  # the kinds, named as serving sources
BLOCK = 512  # items per block of the co-occurrence product (BLOCK x I dense floats in memory)


@dataclass(frozen=True)
class ItemNeighbours:
    """Top-K co-interacted items per item, as row indices into ``item_ids``."""

    item_ids: tuple[str, ...]
    rows: np.ndarray  # (I, k) int32 row indices, -1 where an item has fewer neighbours
    counts: np.ndarray  # (I, k) int32 users who interacted with both items
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rows.shape != self.counts.shape or self.rows.shape[0] != len(self.item_ids):
            raise ArtefactError(
                f"neighbour arrays {self.rows.shape}/{self.counts.shape} do not match "
                f"{len(self.item_ids)} items"
            )
        object.__setattr__(self, "index", {iid: r for r, iid in enumerate(self.item_ids)})

    def of(self, item_id: str) -> list[tuple[str, int]]:
        """``(neighbour id, co-interacting users)`` of one item, best first ([] if unknown)."""
        row = self.index.get(item_id)
        if row is None:
            return []
        return [
            (self.item_ids[j], int(c))
            for j, c in zip(self.rows[row], self.counts[row], strict=True)
            if j >= 0
        ]

    def candidates(
        self, seeds: Iterable[str], exclude: Collection[str], limit: int
    ) -> list[tuple[str, int]]:
        """Union of the seeds' neighbours not in ``exclude`` nor a seed: ``(id, support)``,
        best support first (ties by id), at most ``limit``."""
        seeds = list(seeds)
        index = self.index
        seed_rows = [index[seed] for seed in seeds if seed in index]
        if not seed_rows or limit <= 0:
            return []
        rows, counts = self.rows[seed_rows].ravel(), self.counts[seed_rows].ravel()
        linked = rows >= 0
        found, inverse = np.unique(rows[linked], return_inverse=True)
        support = np.bincount(inverse, weights=counts[linked], minlength=len(found))
        dropped = [index[i] for i in (*seeds, *exclude) if i in index]
        if dropped:
            kept = ~np.isin(found, dropped)
            found, support = found[kept], support[kept]
        order = np.lexsort((self._id_rank()[found], -support))[:limit]
        return [
            (self.item_ids[row], int(total))
            for row, total in zip(found[order].tolist(), support[order].tolist(), strict=True)
        ]

    def _id_rank(self) -> np.ndarray:
        """Each row's position in item-id order (ties between equal supports go by id)."""
        rank = self.__dict__.get("_rank")
        if rank is None:
            order = np.argsort(np.asarray(self.item_ids, dtype=str), kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            object.__setattr__(self, "_rank", rank)
        return rank


def compute(
    user: np.ndarray, item: np.ndarray, item_ids: Sequence[str], k: int, *, block: int = BLOCK
) -> ItemNeighbours:
    """Top-``k`` cosine neighbours of every item from (linker, item) row pairs; the linker is a
    user (interactions) or a KG entity (triples)."""
    n_items = len(item_ids)
    user = np.asarray(user, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    n_users = int(user.max()) + 1 if user.size else 0
    matrix = sparse.csr_matrix(
        (np.ones(user.size, dtype=np.float32), (user, item)), shape=(n_users, n_items)
    )
    matrix.data[:] = 1.0  # repeated pairs count once
    by_item = matrix.T.tocsr()
    popularity = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    scale = 1.0 / np.sqrt(np.where(popularity > 0, popularity, np.inf))
    k = max(0, min(k, n_items - 1))
    rows = np.full((n_items, k), -1, dtype=np.int32)
    counts = np.zeros((n_items, k), dtype=np.int32)
    if k == 0:
        return ItemNeighbours(tuple(item_ids), rows, counts)
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        co = (by_item[start:stop] @ matrix).toarray()  # (b, I) co-interaction counts
        co[np.arange(stop - start), np.arange(start, stop)] = 0.0
        score = co * scale[start:stop, None] * scale[None, :]
        top = np.argpartition(-score, k - 1, axis=1)[:, :k]
        top_score = np.take_along_axis(score, top, axis=1)
        order = np.lexsort((top, -top_score), axis=1)  # score desc, then row (deterministic)
        top = np.take_along_axis(top, order, axis=1)
        top_count = np.take_along_axis(co, top, axis=1).astype(np.int32)
        rows[start:stop] = np.where(top_count > 0, top, -1)
        counts[start:stop] = top_count
    return ItemNeighbours(tuple(item_ids), rows, counts)


def save(directory: Path, kinds: Mapping[str, ItemNeighbours]) -> Path:
    """Write ``<directory>/neighbours.npz`` (all kinds must share one item order)."""
    path = Path(directory) / FILE_NAME
    arrays: dict[str, np.ndarray] = {}
    item_ids: tuple[str, ...] | None = None
    for kind, neighbours in kinds.items():
        if item_ids is not None and neighbours.item_ids != item_ids:
            raise ArtefactError("neighbour kinds disagree on the item order")
        item_ids = neighbours.item_ids
        arrays[f"{kind}_rows"] = neighbours.rows
        arrays[f"{kind}_counts"] = neighbours.counts
    np.savez(path, item_ids=np.asarray(item_ids or (), dtype=str), **arrays)
    return path


def load(directory: Path) -> dict[str, ItemNeighbours]:
    """The neighbour kinds saved in ``directory`` ({} when there are none)."""
    path = Path(directory) / FILE_NAME
    if not path.is_file():
        return {}
    try:
        with np.load(path) as data:
            item_ids = tuple(str(i) for i in data["item_ids"])
            kinds = [name.removesuffix("_rows") for name in data.files if name.endswith("_rows")]
            return {
                kind: ItemNeighbours(item_ids, data[f"{kind}_rows"], data[f"{kind}_counts"])
                for kind in kinds
            }
    except (OSError, KeyError, ValueError) as e:
        raise ArtefactError(f"cannot read {path}: {e}") from e


def from_snapshot(snapshot: GraphSnapshot, k: int = 20) -> dict[str, ItemNeighbours]:
    """Top-``k`` ``collaborative`` (co-users over every interaction) and ``knowledge`` (shared
    KG entities, any relationship or direction) neighbours of every item in ``snapshot``."""
    inter = snapshot.interactions
    linked, entities = snapshot.item_entity_links()
    return {
        COLLABORATIVE: compute(inter.user, inter.item, snapshot.item_ids, k),
        KNOWLEDGE: compute(entities, linked, snapshot.item_ids, k),
    }
