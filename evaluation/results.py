"""What an evaluation produces: one record per scored run and sweep point, and their summary.

Plain data, kept apart from the harness that fills them so the report writer and the run
cache read them without importing the fitting code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class ModelRun:
    """One model on one seed's split."""

    model: str
    seed: int
    metrics: dict[str, float]
    subset_users: dict[str, int]
    decile_recall: list[float | None]
    exposure: np.ndarray
    seconds: float  # fitting: training with early stopping, or tuning on validation
    best_epoch: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    activity_recall: dict[str, float | None] = field(default_factory=dict)  # by user activity
    per_user: dict[str, Any] = field(default_factory=dict)  # "users" + paired metrics per user


@dataclass
class TradeoffPoint:
    """One model's metrics on one seed's split at one ``tail_weight``."""

    model: str
    seed: int
    tail_weight: float
    metrics: dict[str, float]


@dataclass
class ExperimentResult:
    """All runs of one protocol, with what is needed to reproduce and describe them."""

    protocol: str
    seeds: list[int]
    models: list[str]
    runs: list[ModelRun]
    dataset: dict[str, Any]  # snapshot summary
    splits: dict[int, dict[str, Any]]  # seed -> split sizes, cold items, sparse users
    config: dict[str, Any]  # TrainConfig used by trained models (seed and model vary)
    seconds: float = 0.0
    tradeoff: list[TradeoffPoint] = field(default_factory=list)  # the tail_weight sweep

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{model: {metric: {"mean", "std", "n"}}}`` over seeds (std: sample, ddof=1)."""
        return summarise(self.runs)


def summarise(runs: Sequence[ModelRun]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean and sample standard deviation (ddof=1; 0 for one seed) of every metric."""
    by_model: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        values = dict(run.metrics) | {"seconds": run.seconds}
        for key, value in values.items():
            by_model.setdefault(run.model, {}).setdefault(key, []).append(float(value))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for model, metrics in by_model.items():
        out[model] = {}
        for key, values in metrics.items():
            arr = np.asarray(values, dtype=np.float64)
            std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
            out[model][key] = {"mean": float(arr.mean()), "std": std, "n": len(arr)}
    return out
