"""Runtime stand-ins that let unmodified RecBole 1.2.1 run on torch 2.13 (bench venv only).

RecBole imports three packages we do not install (README.md, "Shims"):

- ``torch.utils.tensorboard`` (needs tensorboard): imported at module load by
  ``recbole.utils.utils``; RecBole's Trainer always opens a SummaryWriter. We
  want no event files, so the writer is a no-op.
- ``torch_scatter`` (no wheels for torch 2.13): KGIN calls ``scatter_mean`` once
  per layer; a plain-torch version with the same result is provided.
- ``dgl`` (wheels are built per torch version, none for 2.13; RecBole calls its old API):
  KGAT uses it only to build its initial attention matrix, through
  ``dgl.graph``, ``edata``, ``filter_edges``, ``dgl.edge_subgraph(...,
  preserve_nodes=True)`` and ``adjacency_matrix(transpose=False,
  scipy_fmt="coo")`` (rows are sources). Exactly that subset is provided.

The tensorboard writer is always replaced; the other two stand-ins are
registered only when the real package cannot be imported.
``install_shims()`` must run before anything from ``recbole`` is imported.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch


class NullSummaryWriter:
    """No-op replacement for ``torch.utils.tensorboard.SummaryWriter``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def scatter_mean(
    src: torch.Tensor,
    index: torch.Tensor,
    dim: int = -1,
    out: torch.Tensor | None = None,
    dim_size: int | None = None,
) -> torch.Tensor:
    """``torch_scatter.scatter_mean`` for a 1-D ``index`` along ``dim``, in plain torch.

    Slices of ``src`` sharing an index are averaged; indices that receive nothing
    give zeros, as in torch_scatter. Differentiable with respect to ``src``.
    """
    if out is not None or index.dim() != 1:
        raise NotImplementedError("shim supports only a 1-D index and no out=")
    dim = dim + src.dim() if dim < 0 else dim
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() else 0
    shape = list(src.shape)
    shape[dim] = dim_size
    total = src.new_zeros(shape).index_add(dim, index, src)
    count = src.new_zeros(dim_size).index_add(0, index, src.new_ones(index.shape[0]))
    view = [1] * src.dim()
    view[dim] = dim_size
    return total / count.clamp(min=1).view(view)


class _EdgeBatch:
    """What a DGL edge predicate receives: the edge features as ``.data``."""

    def __init__(self, data: dict[str, torch.Tensor]) -> None:
        self.data = data


class MiniGraph:
    """The slice of ``dgl.DGLGraph`` RecBole's KGAT uses: a homogeneous directed multigraph."""

    def __init__(self, src: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> None:
        self._src = src
        self._dst = dst
        self._num_nodes = num_nodes
        self.edata: dict[str, torch.Tensor] = {}

    def num_nodes(self) -> int:
        """Number of nodes (DGL: largest id + 1 unless given)."""
        return self._num_nodes

    def num_edges(self) -> int:
        """Number of edges, parallel edges counted."""
        return int(self._src.shape[0])

    def filter_edges(self, predicate: Callable[[_EdgeBatch], torch.Tensor]) -> torch.Tensor:
        """Ids of the edges for which ``predicate`` (over all edges at once) is true."""
        return torch.nonzero(predicate(_EdgeBatch(self.edata)), as_tuple=False).view(-1)

    def adjacency_matrix(
        self, transpose: bool = False, ctx: Any = None, scipy_fmt: str | None = None
    ) -> sp.spmatrix:
        """Adjacency as a SciPy matrix; rows are sources unless ``transpose`` (DGL's rule)."""
        if scipy_fmt is None:
            raise NotImplementedError("shim supports only scipy_fmt=...")
        src, dst = self._src.cpu().numpy(), self._dst.cpu().numpy()
        row, col = (dst, src) if transpose else (src, dst)
        n = self._num_nodes
        matrix = sp.coo_matrix((np.ones(len(row), dtype=np.int64), (row, col)), shape=(n, n))
        return matrix.asformat(scipy_fmt)


def dgl_graph(data: Sequence[torch.Tensor], num_nodes: int | None = None, **_: Any) -> MiniGraph:
    """``dgl.graph((src, dst))``."""
    src, dst = (torch.as_tensor(t, dtype=torch.int64) for t in data)
    if num_nodes is None:
        num_nodes = int(max(src.max(), dst.max())) + 1 if src.numel() else 0
    return MiniGraph(src, dst, num_nodes)


def dgl_edge_subgraph(
    graph: MiniGraph,
    edges: torch.Tensor,
    preserve_nodes: bool = False,
    relabel_nodes: bool = True,
    **_: Any,
) -> MiniGraph:
    """``dgl.edge_subgraph`` keeping every node (old ``preserve_nodes=True``)."""
    if not preserve_nodes and relabel_nodes:
        raise NotImplementedError("shim supports only preserve_nodes=True")
    sub = MiniGraph(graph._src[edges], graph._dst[edges], graph.num_nodes())
    sub.edata = {k: v[edges] for k, v in graph.edata.items()}
    return sub


def _missing(name: str) -> bool:
    """True when ``name`` cannot be imported (and no stand-in is registered yet)."""
    if name in sys.modules:
        return False
    try:
        __import__(name)
    except ImportError:
        return True
    return False


def install_shims() -> list[str]:
    """Register the no-op writer, and stand-ins for missing packages; returns their names."""
    installed = []
    module = types.ModuleType("torch.utils.tensorboard")  # always: no event files wanted
    module.SummaryWriter = NullSummaryWriter  # type: ignore[attr-defined]
    sys.modules["torch.utils.tensorboard"] = module
    installed.append("torch.utils.tensorboard")
    if _missing("torch_scatter"):
        module = types.ModuleType("torch_scatter")
        module.scatter_mean = scatter_mean  # type: ignore[attr-defined]
        sys.modules["torch_scatter"] = module
        installed.append("torch_scatter")
    if _missing("dgl"):
        module = types.ModuleType("dgl")
        module.graph = dgl_graph  # type: ignore[attr-defined]
        module.edge_subgraph = dgl_edge_subgraph  # type: ignore[attr-defined]
        sys.modules["dgl"] = module
        installed.append("dgl")
    return installed
