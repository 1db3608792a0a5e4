"""Per-run cache: a scored (protocol, seed, model) is stored once and read back, never refitted.

An entry is keyed by everything that decides its numbers — the settings, the snapshot's
fingerprint, the split statistics and :func:`code_fingerprint` of the sources that fit and
score models — so an interrupted or extended evaluation (more seeds, peers added) refits only
what it has not scored under the same key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import tailgraph.evaluation
import tailgraph.gnn
from tailgraph.evaluation.results import ModelRun, TradeoffPoint


def _folder(package: Any) -> Path:
    return Path(package.__file__).resolve().parent


# Sources whose change invalidates cached runs: models, training, metrics, and the harness;
# not the report writer, which only lays out numbers already computed.
SOURCES = (_folder(tailgraph.gnn), _folder(tailgraph.evaluation))
EXCLUDED = (_folder(tailgraph.evaluation) / "report.py",)


def code_fingerprint(folders: Sequence[Path] = SOURCES, excluded: Sequence[Path] = EXCLUDED) -> str:
    """Hash of every ``*.py`` under ``folders`` but ``excluded`` (path within its package's
    parent folder and bytes, in sorted order)."""
    digest = hashlib.sha256()
    skip = {Path(path).resolve() for path in excluded}
    for folder in folders:
        folder = Path(folder).resolve()
        for path in sorted(folder.rglob("*.py")):
            if path.resolve() not in skip:
                name = path.relative_to(folder.parent).as_posix()
                digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays, paths and anything else (str)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


class RunCache:
    """One JSON file per (protocol, seed, model) fitted and scored, in ``directory``.

    An entry is used only if its key matches: model, protocol, seed, training config,
    :func:`tailgraph.graph.snapshot.snapshot_fingerprint`, split statistics, tail weights and
    :func:`code_fingerprint`.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.code = code_fingerprint()

    def key(self, model: str, protocol: str, seed: int, context: dict[str, Any]) -> str:
        document = {
            "model": model,
            "protocol": protocol,
            "seed": seed,
            "code": self.code,
            **context,
        }
        return hashlib.sha256(
            json.dumps(document, sort_keys=True, default=str).encode()
        ).hexdigest()

    def _path(self, model: str, protocol: str, seed: int) -> Path:
        return self.directory / f"{protocol}-s{seed}-{model}.json"

    def get(
        self, model: str, protocol: str, seed: int, key: str
    ) -> tuple[ModelRun, list[TradeoffPoint]] | None:
        path = self._path(model, protocol, seed)
        if not path.is_file():
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("key") != key:
            return None
        run = document["run"]
        run["exposure"] = np.asarray(run["exposure"], dtype=np.int64)
        return ModelRun(**run), [TradeoffPoint(**point) for point in document["tradeoff"]]

    def put(self, key: str, protocol: str, run: ModelRun, points: list[TradeoffPoint]) -> None:
        path = self._path(run.model, protocol, run.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "key": key,
            "run": vars(run) | {"exposure": run.exposure.tolist()},
            "tradeoff": [vars(point) for point in points],
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, default=json_default), encoding="utf-8")
        os.replace(tmp, path)
