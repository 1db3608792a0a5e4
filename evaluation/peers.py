"""Hand-off to and from peer libraries (RecBole's LightGCN, KGAT, KGIN in ``bench/peers/``).

Out: :func:`export_split` writes OUR split, KG triples and item links as one JSON file
(schema in ``bench/peers/README.md``)::

    {"name", "train": [[user, item], ...], "valid", "test",
     "triples": [[head, relation, tail], ...], "links": [[item, entity], ...]}

Ids are the graph's string ids. Items that have KG facts appear in ``triples`` under their
own item id and are linked to themselves in ``links`` (a faithful encoding of items as KG
nodes); relations are the graph's relationship types.

In: :func:`load_peer_results` reads the peer runner's JSON
``{model: {"topk": {user_id: [item_id, ...]}, "seconds": ..., "config": {"dataset": name}}}``
and :func:`topk_from_ids` turns one model's lists into index arrays that
:func:`tailgraph.evaluation.scoring.score_topk` scores with our metrics — after checking that
the lists were computed on exactly our split (same sizes, every test user present, no
train/valid item recommended), since scoring lists from another split would be meaningless.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.errors import ConfigurationError, DataValidationError
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot

KG_LABELS = ("Item", "Entity")
ENTITY_PREFIX = "entity:"  # added to entity ids only when some entity id equals an item id


def split_name(dataset: str, protocol: str, seed: int) -> str:
    """The name an exported split carries, and that peer results must report back."""
    return f"{dataset}-{protocol}-s{seed}"


# -- out -----------------------------------------------------------------------------------------
def split_to_json(snapshot: GraphSnapshot, split: InteractionSplit, name: str) -> dict[str, Any]:
    """The handoff document for ``split`` of ``snapshot`` (see the module docstring)."""
    users, items = snapshot.user_ids, snapshot.item_ids

    def pairs(part: np.ndarray) -> list[list[str]]:
        return [[users[u], items[i]] for u, i in part.tolist()]

    clash = bool(set(items) & set(snapshot.entity_ids))
    entities = [ENTITY_PREFIX + e if clash else e for e in snapshot.entity_ids]
    node_ids = {"Item": items, "Entity": entities}
    triples: list[list[str]] = []
    linked: set[int] = set()
    for (head, relation, tail), (src, dst) in sorted(snapshot.kg_edges.items()):
        if head not in KG_LABELS or tail not in KG_LABELS:
            continue  # RecBole's KG holds entities only (items linked to entities)
        triples.extend(
            [node_ids[head][h], relation, node_ids[tail][t]] for h, t in zip(src, dst, strict=True)
        )
        for label, ends in ((head, src), (tail, dst)):
            if label == "Item":
                linked.update(ends.tolist())
    return {
        "name": name,
        "train": pairs(split.train),
        "valid": pairs(split.valid),
        "test": pairs(split.test),
        "triples": triples,
        "links": [[items[i], items[i]] for i in sorted(linked)],
    }


def export_split(
    snapshot: GraphSnapshot, split: InteractionSplit, path: Path, name: str
) -> dict[str, int]:
    """Write :func:`split_to_json` to ``path`` atomically; return row counts per part."""
    document = split_to_json(snapshot, split, name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".split-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary data files
    os.replace(tmp, path)
    return {key: len(value) for key, value in document.items() if isinstance(value, list)}


# -- in ------------------------------------------------------------------------------------------
@dataclass
class PeerRun:
    """One peer model's per-user top-K lists (original ids) and what came with them."""

    model: str  # as shown in reports, e.g. "peer:KGAT"
    split_name: str  # the exported split it was trained and tested on ("" if not reported)
    topk: dict[str, list[str]]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def load_peer_results(path: Path) -> dict[str, PeerRun]:
    """Read a peer results JSON (``{model: {"topk": {...}, "seconds": ...}}``)."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataValidationError(f"cannot read peer results: {e}", source=source) from e
    if not isinstance(data, dict):
        raise DataValidationError("top level must be an object keyed by model", source=source)
    out = {}
    for model, entry in data.items():
        topk = entry.get("topk") if isinstance(entry, dict) else None
        if not isinstance(topk, dict) or not all(isinstance(v, list) for v in topk.values()):
            raise DataValidationError(
                f"model {model!r}: 'topk' must map user ids to lists of item ids",
                source=source,
                field="topk",
            )
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        extra = {
            key: entry[key]
            for key in ("recbole_metrics", "dataset", "timing", "environment")
            if key in entry
        }
        out[model] = PeerRun(
            model=f"peer:{model}",
            split_name=str(entry.get("split") or config.get("dataset") or ""),
            topk={str(u): [str(i) for i in items] for u, items in topk.items()},
            seconds=float(entry.get("seconds", float("nan"))),
            extra=extra | {"source": source},
        )
    return out


def topk_from_ids(
    peer: PeerRun, snapshot: GraphSnapshot, split: InteractionSplit, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted test users, (U, k) item indices) from ``peer``'s lists, checked against ``split``."""
    _check_sizes(peer, split)
    user_index = {u: n for n, u in enumerate(snapshot.user_ids)}
    item_index = {i: n for n, i in enumerate(snapshot.item_ids)}
    users = np.unique(split.test[:, 0])
    seen = np.concatenate([split.train, split.valid])
    excluded = set((seen[:, 0] * split.n_items + seen[:, 1]).tolist())
    missing = [snapshot.user_ids[u] for u in users if snapshot.user_ids[u] not in peer.topk]
    if missing:
        raise ConfigurationError(
            f"{peer.model}: no top-K list for {len(missing)} test users (e.g. {missing[:3]}); "
            "it was not computed on this split"
        )
    unknown = [u for u in peer.topk if u not in user_index]
    if unknown:
        raise ConfigurationError(f"{peer.model}: unknown user ids {unknown[:3]}")
    topk = np.zeros((len(users), k), dtype=np.int64)
    for row, u in enumerate(users):
        ids = peer.topk[snapshot.user_ids[u]]
        if len(ids) < k:
            raise ConfigurationError(
                f"{peer.model}: user {snapshot.user_ids[u]!r} has {len(ids)} items, need {k}"
            )
        try:
            items = [item_index[i] for i in ids[:k]]
        except KeyError as e:
            raise ConfigurationError(f"{peer.model}: unknown item id {e.args[0]!r}") from None
        if len(set(items)) != k:
            raise ConfigurationError(f"{peer.model}: repeated items for {snapshot.user_ids[u]!r}")
        if any(u * split.n_items + i in excluded for i in items):
            raise ConfigurationError(
                f"{peer.model}: recommends a train/valid item of {snapshot.user_ids[u]!r}; "
                "its lists were not computed on this split"
            )
        topk[row] = items
    return users, topk


def _check_sizes(peer: PeerRun, split: InteractionSplit) -> None:
    """The peer's reported dataset sizes, when present, must be our split's."""
    reported = peer.extra.get("dataset") or {}
    ours = {
        "train_interactions": len(split.train),
        "valid_interactions": len(split.valid),
        "test_interactions": len(split.test),
    }
    wrong = {k: (reported[k], v) for k, v in ours.items() if k in reported and reported[k] != v}
    if wrong:
        raise ConfigurationError(f"{peer.model}: split sizes (theirs, ours) differ: {wrong}")
