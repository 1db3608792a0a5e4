"""From a snapshot to a trained, saved model: split, build, train, evaluate, save.

Reading the store and writing back are the caller's (:mod:`tailgraph.stages`); this module
never touches a store. Artefacts directory (one per run)::

    embeddings.npz, meta.json   LearnedEmbeddings (gnn.artefacts) — what serving loads
    config.json                 the TrainConfig used
    metrics.json                test metrics (plus subsets), best epoch, history, timings
    model.pt                    the model's state_dict (graph buffers excluded)
    neighbours.npz              serving neighbours (gnn.neighbours)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.evaluate import top_k_unseen
from tailgraph.gnn.models.base import Recommender
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import InteractionSplit, split_interactions
from tailgraph.gnn.train import TrainResult, train
from tailgraph.graph.snapshot import GraphSnapshot


@dataclass
class TrainedRun:
    """One trained model with the split and config it was trained on."""

    version: str
    config: TrainConfig
    split: InteractionSplit
    model: Recommender
    result: TrainResult


def split_snapshot(snapshot: GraphSnapshot, protocol: str, seed: int) -> InteractionSplit:
    """Split the snapshot's interactions with ``protocol`` (see :mod:`gnn.split`)."""
    inter = snapshot.interactions
    return split_interactions(
        inter.user,
        inter.item,
        len(snapshot.user_ids),
        len(snapshot.item_ids),
        protocol=protocol,
        ts=inter.ts,
        seed=seed,
    )


def model_version(config: TrainConfig, snapshot: GraphSnapshot) -> str:
    """``<model>-<UTC timestamp>-<hash of config and data sizes>``."""
    digest = hashlib.sha1(
        json.dumps([config.to_dict(), snapshot.summary()], sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    return f"{config.model}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{digest}"


def save_run(
    directory: Path,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    config: TrainConfig,
    result: TrainResult,
    model: Recommender,
    version: str,
) -> dict[str, Any]:
    """Write embeddings, config, metrics and checkpoint into ``directory``; return metrics."""
    metrics = {
        "version": version,
        "protocol": split.protocol,
        "test": result.test.flat(),
        "best_epoch": result.best_epoch,
        "best_valid": result.best_valid,
        "seconds_per_epoch": result.seconds_per_epoch,
        "training": result.extra,
        "split": split.summary(),
        "data": snapshot.summary(),
        "history": result.history,
    }
    save_embeddings(
        directory,
        LearnedEmbeddings(
            model_name=config.model,
            version=version,
            user_ids=snapshot.user_ids,
            item_ids=snapshot.item_ids,
            user=result.user_embeddings,
            item=result.item_embeddings,
            item_popularity=split.item_popularity(),
            extra={
                "config": config.to_dict(),
                "test": result.test.flat(),
                **model.serving_settings(),
            },
        ),
    )
    (directory / "config.json").write_text(json.dumps(config.to_dict(), indent=2, default=str))
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, directory / "model.pt")
    return metrics


def train_snapshot(
    snapshot: GraphSnapshot,
    config: TrainConfig,
    *,
    protocol: str = "random",
    progress: Callable[[str], None] | None = None,
) -> TrainedRun:
    """Split ``snapshot`` with ``protocol``, build ``config.model`` and train it."""
    split = split_snapshot(snapshot, protocol, config.seed)
    data = build_hetero_data(snapshot, split)
    model = build_model(data, config)
    result = train(model, data, split, config, progress=progress)
    return TrainedRun(model_version(config, snapshot), config, split, model, result)


def save_trained(
    directory: Path, snapshot: GraphSnapshot, run: TrainedRun, *, neighbours_k: int = 20
) -> dict[str, Any]:
    """Everything serving loads, in ``directory`` (created): embeddings, metrics, checkpoint
    and the serving neighbours computed from ``snapshot``. Returns the metrics written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    metrics = save_run(
        directory, snapshot, run.split, run.config, run.result, run.model, run.version
    )
    if neighbours_k > 0:  # 0: none saved, the service expands candidates with Cypher instead
        neighbours.save(directory, neighbours.from_snapshot(snapshot, neighbours_k))
    return metrics


def recommendation_lists(
    snapshot: GraphSnapshot, result: TrainResult, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's top ``k`` items by the trained vectors, every interacted item excluded:
    (U, k) item indices and scores."""
    seen = np.stack([snapshot.interactions.user, snapshot.interactions.item], axis=1)
    return top_k_unseen(result.user_embeddings, result.item_embeddings, seen, k)
