"""What training leaves behind and serving loads: learned embeddings plus metadata.

Layout of an artefacts directory (one per trained model version)::

    <dir>/embeddings.npz   user/item ids, user/item vectors, item training popularity
    <dir>/meta.json        model name, version, dimension, created time
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.errors import ArtefactError


@dataclass
class LearnedEmbeddings:
    """Final user and item vectors of one trained model; score = user · item."""

    model_name: str
    version: str
    user_ids: list[str]
    item_ids: list[str]
    user: np.ndarray  # (n_users, d) float32
    item: np.ndarray  # (n_items, d) float32
    item_popularity: np.ndarray  # (n_items,) training interactions per item
    extra: dict[str, Any] = field(default_factory=dict)  # free-form metadata (config, metrics)

    @property
    def dimension(self) -> int:
        return int(self.item.shape[1])


def save_embeddings(directory: Path, embeddings: LearnedEmbeddings) -> Path:
    """Write ``embeddings`` into ``directory`` (created); return the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "embeddings.tmp.npz"
    np.savez(
        tmp,
        user_ids=np.array(embeddings.user_ids, dtype=object),
        item_ids=np.array(embeddings.item_ids, dtype=object),
        user=embeddings.user.astype(np.float32),
        item=embeddings.item.astype(np.float32),
        item_popularity=embeddings.item_popularity.astype(np.int64),
    )
    tmp.replace(directory / "embeddings.npz")
    meta = {
        "model_name": embeddings.model_name,
        "version": embeddings.version,
        "dimension": embeddings.dimension,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "extra": embeddings.extra,
    }
    (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return directory


def load_embeddings(directory: Path) -> LearnedEmbeddings:
    """Read what :func:`save_embeddings` wrote; ArtefactError if missing or corrupt."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / "meta.json").read_text())
        with np.load(directory / "embeddings.npz", allow_pickle=True) as data:
            return LearnedEmbeddings(
                model_name=meta["model_name"],
                version=meta["version"],
                user_ids=[str(x) for x in data["user_ids"]],
                item_ids=[str(x) for x in data["item_ids"]],
                user=data["user"].astype(np.float32),
                item=data["item"].astype(np.float32),
                item_popularity=data["item_popularity"],
                extra=meta.get("extra", {}),
            )
    except FileNotFoundError as e:
        raise ArtefactError(f"no trained model in {directory} (run `tailgraph train`): {e}") from e
    except (KeyError, ValueError, OSError) as e:
        raise ArtefactError(f"unreadable artefacts in {directory}: {e}") from e
