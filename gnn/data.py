"""From a :class:`GraphSnapshot` and a split to PyG ``HeteroData`` and sparse adjacencies.

Node types ``user``, ``item``, ``entity`` carry ``x`` (the text embedding, zeros where absent)
and ``has_text``. Edge types: ``('user', 'interacts', 'item')`` from TRAIN pairs only, one
edge type per KG pattern (``('item', 'DIRECTED_BY', 'entity')``...), and a ``rev_`` reverse
type for every one of them (``ToUndirected``'s naming).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

with warnings.catch_warnings():  # PyG 2.8 calls the deprecated torch.jit.script at import
    warnings.filterwarnings("ignore", message=".*torch.jit.script", category=DeprecationWarning)
    from torch_geometric.data import HeteroData
    from torch_geometric.transforms import ToUndirected

from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot

NodeType = str
EdgeType = tuple[str, str, str]
NODE_TYPES: tuple[NodeType, ...] = ("user", "item", "entity")
LABEL_TO_TYPE = {"User": "user", "Item": "item", "Entity": "entity"}
INTERACTS: EdgeType = ("user", "interacts", "item")


def build_hetero_data(snapshot: GraphSnapshot, split: InteractionSplit) -> HeteroData:
    """HeteroData with train interactions, KG relations and reverse edges for all."""
    data = HeteroData()
    for label, node_type in LABEL_TO_TYPE.items():
        n = len(snapshot.ids(label))
        data[node_type].num_nodes = n
        data[node_type].x = torch.from_numpy(snapshot.text[label]).float()
        data[node_type].has_text = torch.from_numpy(snapshot.has_text[label])
    data[INTERACTS].edge_index = torch.from_numpy(split.train.T.copy()).long()
    for (head, rel, tail), (src, dst) in snapshot.kg_edges.items():
        edge_index = torch.from_numpy(np.stack([src, dst])).long()
        data[LABEL_TO_TYPE[head], rel, LABEL_TO_TYPE[tail]].edge_index = edge_index
    data["item"].train_popularity = torch.from_numpy(split.item_popularity())
    return ToUndirected(merge=False)(data)


def kg_edge_types(data: HeteroData) -> list[EdgeType]:
    """KG edge types (forward and reverse), i.e. everything but the interaction edges."""
    skip = {INTERACTS, ("item", "rev_interacts", "user")}
    return [edge_type for edge_type in data.edge_types if edge_type not in skip]


def sparse_csr(
    rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    """A coalesced CSR tensor (the layout PyG's ``spmm`` / ``LGConv`` take without converting)."""
    coo = torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, size, check_invariants=False
    ).coalesce()
    with warnings.catch_warnings():  # torch flags CSR as "beta"; it is PyG's documented path
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return coo.to_sparse_csr()


def bipartite_adjacency(edge_index: torch.Tensor, n_users: int, n_items: int) -> torch.Tensor:
    """LightGCN's D^-1/2 A D^-1/2 over users then items, shape (U + I, U + I), CSR.

    ``edge_index`` is (2, E) of [user, item] (train pairs); both directions are added.
    """
    users, items = edge_index[0].long(), edge_index[1].long() + n_users
    rows = torch.cat([users, items])
    cols = torch.cat([items, users])
    n = n_users + n_items
    degree = torch.bincount(rows, minlength=n).float()
    inv_sqrt = degree.pow(-0.5)
    inv_sqrt[torch.isinf(inv_sqrt)] = 0.0
    values = inv_sqrt[rows] * inv_sqrt[cols]
    return sparse_csr(rows, cols, values, (n, n))


@dataclass
class KGEdges:
    """All KG edges of a HeteroData in one global node space (users, items, entities).

    ``weight`` makes the aggregation a mean over relations of a mean over neighbours:
    w(dst, r, src) = 1 / (|R(dst)| * |N_r(dst)|).
    """

    src: torch.Tensor  # (E,) global index of the message source
    dst: torch.Tensor  # (E,) global index of the receiving node
    relation: torch.Tensor  # (E,) relation id, index into ``relations``
    weight: torch.Tensor  # (E,) float
    relations: list[EdgeType]
    offsets: dict[NodeType, int]
    num_nodes: int

    def to(self, device: torch.device | str) -> KGEdges:
        return KGEdges(
            self.src.to(device),
            self.dst.to(device),
            self.relation.to(device),
            self.weight.to(device),
            self.relations,
            self.offsets,
            self.num_nodes,
        )


def node_offsets(data: HeteroData) -> dict[NodeType, int]:
    """Start of each node type in the global order user, item, entity."""
    offsets, start = {}, 0
    for node_type in NODE_TYPES:
        offsets[node_type] = start
        start += int(data[node_type].num_nodes)
    return offsets


def kg_edges(data: HeteroData) -> KGEdges:
    """Every KG edge type (both directions) as one flat edge list with mean weights."""
    offsets = node_offsets(data)
    num_nodes = sum(int(data[t].num_nodes) for t in NODE_TYPES)
    relations = kg_edge_types(data)
    src_parts, dst_parts, rel_parts = [], [], []
    for rel_id, edge_type in enumerate(relations):
        src_type, _, dst_type = edge_type
        edge_index = data[edge_type].edge_index
        src_parts.append(edge_index[0] + offsets[src_type])
        dst_parts.append(edge_index[1] + offsets[dst_type])
        rel_parts.append(torch.full((edge_index.shape[1],), rel_id, dtype=torch.long))
    empty = torch.zeros(0, dtype=torch.long)
    src = torch.cat(src_parts) if src_parts else empty
    dst = torch.cat(dst_parts) if dst_parts else empty
    relation = torch.cat(rel_parts) if rel_parts else empty
    n_rel = max(len(relations), 1)
    pair = dst * n_rel + relation  # neighbours of dst under relation r
    _, pair_inverse, pair_count = torch.unique(pair, return_inverse=True, return_counts=True)
    per_pair = torch.zeros(num_nodes * n_rel, dtype=torch.bool)
    per_pair[pair] = True
    relations_per_node = per_pair.view(num_nodes, n_rel).sum(1)
    weight = 1.0 / (pair_count[pair_inverse].float() * relations_per_node[dst].float())
    return KGEdges(src, dst, relation, weight, relations, offsets, num_nodes)
