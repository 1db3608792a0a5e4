"""From the store to a trained model: export, split, build, train, evaluate, save, write back.

Artefacts directory (one per run)::

    embeddings.npz, meta.json   LearnedEmbeddings (gnn.artefacts) — what serving loads
    config.json                 the TrainConfig used
    metrics.json                test metrics (plus subsets), best epoch, history, timings
    model.pt                    the model's state_dict (graph buffers excluded)
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.models.registry import build_model
from tailgraph.gnn.split import InteractionSplit, split_interactions
from tailgraph.gnn.train import TrainResult, train
from tailgraph.gnn.writeback import write_recommendations
from tailgraph.graph.export import GraphSnapshot, export_snapshot, write_embeddings
from tailgraph.graph.store import GraphStore


@dataclass
class PipelineResult:
    """Where the artefacts went, which version, and the run's metrics."""

    artefacts_dir: Path
    version: str
    metrics: dict[str, float]
    train: TrainResult
    split: InteractionSplit
    written: dict[str, int]  # label -> nodes given `embedding`; RECOMMENDED -> edges written
    snapshot: GraphSnapshot  # what was exported (baselines can train on the very same split)


def split_snapshot(snapshot: GraphSnapshot, protocol: str, seed: int) -> InteractionSplit:
    """Split the snapshot's interactions with ``protocol`` (see :mod:`gnn.split`)."""
    inter = snapshot.interactions
    return split_interactions(
        inter.user, inter.item, len(snapshot.user_ids), len(snapshot.item_ids),
        protocol=protocol, ts=inter.ts, seed=seed,
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
    model: torch.nn.Module,
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
                # TailGNN's tuned length for borrowed vectors: the service applies it to new items
                **({"transfer_scale": float(model.transfer_scale)}
                   if hasattr(model, "transfer_scale") else {}),
            },
        ),
    )
    (directory / "config.json").write_text(json.dumps(config.to_dict(), indent=2, default=str))
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, directory / "model.pt")
    return metrics


def train_from_store(
    store: GraphStore,
    config: TrainConfig,
    artefacts_dir: Path,
    *,
    protocol: str = "random",
    progress: bool = True,
    recommend_k: int = 20,
) -> PipelineResult:
    """Export the store, train ``config.model`` on a ``protocol`` split, save and write back.

    Write-back: ``embedding`` on User and Item nodes, and each user's top ``recommend_k``
    unseen items as RECOMMENDED relationships of this model (0 disables them).
    """
    say = print if progress else None
    snapshot = export_snapshot(store, progress=say)
    split = split_snapshot(snapshot, protocol, config.seed)
    data = build_hetero_data(snapshot, split)
    model = build_model(data, config)
    result = train(model, data, split, config, progress=say)
    version = model_version(config, snapshot)
    directory = Path(artefacts_dir)
    directory.mkdir(parents=True, exist_ok=True)
    metrics = save_run(directory, snapshot, split, config, result, model, version)
    written = {
        "User": write_embeddings(store, "User", snapshot.user_ids, result.user_embeddings),
        "Item": write_embeddings(store, "Item", snapshot.item_ids, result.item_embeddings),
    }
    seen = np.stack([snapshot.interactions.user, snapshot.interactions.item], axis=1)
    written["RECOMMENDED"] = write_recommendations(
        store, snapshot.user_ids, snapshot.item_ids, result.user_embeddings,
        result.item_embeddings, seen, k=recommend_k, model=config.model, version=version,
    )
    return PipelineResult(directory, version, metrics["test"], result, split, written, snapshot)
