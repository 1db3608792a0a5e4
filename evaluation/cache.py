"""Per-run cache: a scored (protocol, seed, model) is stored once and read back, never refitted.

An entry is keyed by everything that decides its numbers — the model, the settings, the
snapshot's fingerprint, the split statistics, the seed and :class:`CodeFingerprint` of the
modules that model's fit and scoring import — so an interrupted or extended evaluation (more
seeds, peers added) refits only what it has not scored under the same key, and editing one
model's module refits that model (and the models made from it) alone.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.evaluation.results import ModelRun, TradeoffPoint
from tailgraph.gnn.registry import DEPENDS, MODELS

PROJECT = "tailgraph"
# Fits and scores every cached run: it and what it imports (the training loop, scoring, the
# split, the registry) are in every model's fingerprint.
HARNESS = "tailgraph.evaluation.harness"
# Imports every model; the project modules it imports that are named after a model define it.
REGISTRY = "tailgraph.gnn.registry"
# Never fingerprinted: the report writer only lays out numbers already computed.
EXCLUDED = frozenset({"tailgraph.evaluation.report"})


@cache
def module_path(name: str) -> Path | None:
    """The source file of project module ``name`` (a package's ``__init__.py``); None if
    ``name`` is not a module with Python source (a class or constant imported from one)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin).resolve()


def _parents(name: str) -> Iterable[str]:
    parts = name.split(".")
    return (".".join(parts[:i]) for i in range(1, len(parts)))


def imported_modules(name: str, source: bytes) -> set[str]:
    """The project modules module ``name`` (given its ``source``) imports anywhere, inside
    functions too, with the packages above them (importing a module runs them)."""
    path = module_path(name)
    package = name if path is not None and path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # from pkg import mod
    modules = {n for n in found if n.split(".")[0] == PROJECT and module_path(n) is not None}
    return modules | {parent for n in modules for parent in _parents(n)}


class CodeFingerprint:
    """Hash, per model, of the project modules its fit and scoring import.

    A model's own modules are those the registry imports that are named after it (an ablation
    ``tailgnn-no-kg`` is ``tailgnn``'s) or after a model it is made from (:data:`DEPENDS`),
    and everything they import. The shared ones are the harness and everything it imports,
    followed into no other model's own modules. A model the registry imports no module for
    gets every module the harness reaches. ``read`` gives a source file's bytes.
    """

    def __init__(self, read: Callable[[Path], bytes] = Path.read_bytes) -> None:
        self.read = read
        self._imports: dict[str, set[str]] = {}

    def source(self, name: str) -> bytes:
        path = module_path(name)
        assert path is not None, name
        return self.read(path)

    def imports(self, name: str) -> set[str]:
        if name not in self._imports:
            self._imports[name] = imported_modules(name, self.source(name))
        return self._imports[name]

    def closure(self, roots: Iterable[str], blocked: Iterable[str] = ()) -> set[str]:
        """``roots`` and every project module they import, directly or not, but ``blocked``
        and :data:`EXCLUDED` (nor what only those import)."""
        stop = set(blocked) | EXCLUDED
        seen: set[str] = set()
        todo = [name for name in roots if name not in stop]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += [m for m in self.imports(name) if m not in stop and m not in seen]
        return seen

    def defining(self, model: str) -> set[str]:
        """The modules the registry imports that are named after ``model`` (or its base)."""
        base = model.split("-")[0]
        return {m for m in self.imports(REGISTRY) if m.rpartition(".")[2] == base}

    def modules(self, model: str) -> list[str]:
        """Every module that goes into ``model``'s fingerprint, sorted."""
        if not self.defining(model):
            return sorted(self.closure([HARNESS]))
        made_of = (model, *DEPENDS.get(model, ()))
        own = self.closure(m for name in made_of for m in self.defining(name))
        others = {m for name in MODELS if name not in made_of for m in self.defining(name)}
        return sorted(own | self.closure([HARNESS], blocked=others - own))

    def __call__(self, model: str) -> str:
        digest = hashlib.sha256()
        for name in self.modules(model):
            digest.update(name.encode() + b"\0" + self.source(name))
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
    the model's :class:`CodeFingerprint` (``code``), taken for every registered model when
    the cache is made, so edits made while an evaluation runs cannot pass for the code it
    imported.
    """

    def __init__(self, directory: Path, code: CodeFingerprint | None = None) -> None:
        self.directory = Path(directory)
        fingerprint = code or CodeFingerprint()
        self.code = {model: fingerprint(model) for model in MODELS}

    def key(self, model: str, protocol: str, seed: int, context: dict[str, Any]) -> str:
        document = {
            "model": model,
            "protocol": protocol,
            "seed": seed,
            "code": self.code[model],
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
