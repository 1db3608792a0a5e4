"""The planted snapshot of the GNN tests, shared so evaluation is judged on the same data."""

from tests.gnn.conftest import planted  # noqa: F401
