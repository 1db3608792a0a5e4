"""The graph as plain numpy arrays: what training and evaluation read, with no store in sight.

A :class:`GraphSnapshot` holds sorted ids per label, text features, interactions and KG edges.
:mod:`tailgraph.graph.export` reads one out of a store; models, evaluation and benchmarks
import only this module (numpy), and :func:`save_snapshot` / :func:`load_snapshot` keep one
on disk as a single ``.npz`` without pickles.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EdgeKey = tuple[str, str, str]  # (head label, relationship type, tail label)
LABELS = ("User", "Item", "Entity")


@dataclass
class Interactions:
    """INTERACTED edges as parallel arrays (indices into the snapshot's id lists)."""

    user: np.ndarray  # (n,) int64
    item: np.ndarray  # (n,) int64
    rating: np.ndarray  # (n,) float32, NaN where absent
    ts: np.ndarray  # (n,) float64, NaN where absent

    def __len__(self) -> int:
        return int(self.user.shape[0])


@dataclass
class GraphSnapshot:
    """The graph as numpy: sorted ids per label, text features, interactions, KG edges."""

    user_ids: list[str]
    item_ids: list[str]
    entity_ids: list[str]
    text: dict[str, np.ndarray]  # label -> (n, d) float32, zero rows where has_text is False
    has_text: dict[str, np.ndarray]  # label -> (n,) bool
    interactions: Interactions
    kg_edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def ids(self, label: str) -> list[str]:
        """Ids of ``label`` ("User", "Item" or "Entity"), position = node index."""
        return {"User": self.user_ids, "Item": self.item_ids, "Entity": self.entity_ids}[label]

    @property
    def text_dim(self) -> int:
        return int(next(iter(self.text.values())).shape[1]) if self.text else 0

    def summary(self) -> dict[str, int]:
        return {
            "users": len(self.user_ids),
            "items": len(self.item_ids),
            "entities": len(self.entity_ids),
            "interactions": len(self.interactions),
            "kg_edges": int(sum(len(s) for s, _ in self.kg_edges.values())),
            "relations": len({key[1] for key in self.kg_edges}),
            "text_dim": self.text_dim,
        }

    def item_entity_links(self) -> tuple[np.ndarray, np.ndarray]:
        """(item, entity) index pairs linked by any KG relationship in either direction, each
        distinct pair once, sorted by item then entity."""
        items, entities = [], []
        for (head, _, tail), (src, dst) in self.kg_edges.items():
            if head == "Item" and tail == "Entity":
                items.append(src)
                entities.append(dst)
            elif head == "Entity" and tail == "Item":
                items.append(dst)
                entities.append(src)
        if not items:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pairs = np.unique(np.stack([np.concatenate(items), np.concatenate(entities)], 1), axis=0)
        return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def save_snapshot(snapshot: GraphSnapshot, path: Path) -> None:
    """Write ``snapshot`` to ``path`` (.npz) atomically: temp file in the same folder, rename."""
    arrays: dict[str, np.ndarray] = {}
    for label in LABELS:
        arrays[f"ids_{label}"] = np.asarray(snapshot.ids(label), dtype=str)
        arrays[f"text_{label}"] = snapshot.text[label]
        arrays[f"has_text_{label}"] = snapshot.has_text[label]
    for name in ("user", "item", "rating", "ts"):
        arrays[f"inter_{name}"] = getattr(snapshot.interactions, name)
    keys = sorted(snapshot.kg_edges)
    arrays["kg_keys"] = np.asarray(["|".join(k) for k in keys], dtype=str)
    for n, key in enumerate(keys):
        arrays[f"kg_src_{n}"], arrays[f"kg_dst_{n}"] = snapshot.kg_edges[key]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".npz", dir=path.parent)
    os.close(fd)
    np.savez(tmp, **arrays)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary data files
    os.replace(tmp, path)


def load_snapshot(path: Path) -> GraphSnapshot:
    """Inverse of :func:`save_snapshot`."""
    with np.load(Path(path), allow_pickle=False) as z:
        ids = {label: [str(x) for x in z[f"ids_{label}"]] for label in LABELS}
        kg = {}
        for n, key in enumerate(z["kg_keys"]):
            head, rel, tail = str(key).split("|")
            kg[(head, rel, tail)] = (z[f"kg_src_{n}"], z[f"kg_dst_{n}"])
        return GraphSnapshot(
            user_ids=ids["User"],
            item_ids=ids["Item"],
            entity_ids=ids["Entity"],
            text={label: z[f"text_{label}"] for label in LABELS},
            has_text={label: z[f"has_text_{label}"] for label in LABELS},
            interactions=Interactions(
                z["inter_user"], z["inter_item"], z["inter_rating"], z["inter_ts"]
            ),
            kg_edges=kg,
        )


def snapshot_fingerprint(snapshot: GraphSnapshot) -> str:
    """Hash of a snapshot's ids, interactions, KG edges and text vectors (what models see)."""
    digest = hashlib.sha256()
    for label in LABELS:
        digest.update("\n".join(snapshot.ids(label)).encode())
        digest.update(np.ascontiguousarray(snapshot.text[label]).tobytes())
        digest.update(np.ascontiguousarray(snapshot.has_text[label]).tobytes())
    for name in ("user", "item", "rating", "ts"):
        digest.update(np.ascontiguousarray(getattr(snapshot.interactions, name)).tobytes())
    for key in sorted(snapshot.kg_edges):
        digest.update("|".join(key).encode())
        for part in snapshot.kg_edges[key]:
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()
