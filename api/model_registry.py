"""The trained models one service can serve, by name, for A/B tests.

``TAILGRAPH_MODELS="a=/models/run1,b=/models/run2"`` names the candidates (default: one model,
``current`` = ``<artefacts_dir>/current``, what training writes). A request picks one with the
``model`` query parameter or the ``X-Model`` header; otherwise ``TAILGRAPH_DEFAULT_MODEL`` (or
the first name) serves it. Each model loads lazily on first use, so a model saved after the
service started is picked up by itself.

Erasure: :meth:`ModelRegistry.erase_user` drops a deleted user's learned vector from every
loaded model at once and records the erasure in each model directory (``erased_users.json``),
so loading that model again leaves the vector out too; a model trained after the erasure never
saw the user's data and keeps its vector (a re-created user who was trained on again). The
service's other workers drop it from their loaded models through the change log
(:mod:`tailgraph.api.catalogue_sync`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from tailgraph.api.schemas import ModelInfo, ModelList
from tailgraph.api.scoring import Scorer
from tailgraph.errors import ConfigurationError, NotFoundError
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings, load_embeddings
from tailgraph.settings import Settings

DEFAULT_NAME = "current"
ERASURES_FILE = "erased_users.json"  # {user_id: epoch seconds of the erasure}


def read_erasures(directory: Path) -> dict[str, float]:
    """The erasures recorded in a model directory (empty when none or unreadable)."""
    try:
        data = json.loads((directory / ERASURES_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record_erasure(directory: Path, user_id: str, when: float) -> None:
    """Add one erasure to a model directory's record (written whole, then renamed into place)."""
    if not directory.is_dir():
        return
    erasures = read_erasures(directory)
    erasures[user_id] = when
    staging = directory / f".{ERASURES_FILE}.tmp"
    staging.write_text(json.dumps(erasures, sort_keys=True))
    os.chmod(staging, 0o600)
    os.replace(staging, directory / ERASURES_FILE)


def parse_model_dirs(settings: Settings) -> dict[str, Path]:
    """``name=dir`` pairs from ``settings.models`` (comma-separated); default ``current``."""
    text = settings.models.strip()
    if not text:
        return {DEFAULT_NAME: settings.artefacts_dir / DEFAULT_NAME}
    dirs: dict[str, Path] = {}
    for pair in text.split(","):
        name, sep, directory = pair.partition("=")
        name, directory = name.strip(), directory.strip()
        if not sep or not name or not directory:
            raise ConfigurationError(f"TAILGRAPH_MODELS entry {pair!r} is not name=directory")
        if name in dirs:
            raise ConfigurationError(f"TAILGRAPH_MODELS names {name!r} twice")
        dirs[name] = Path(directory)
    return dirs


def _trained_at(directory: Path) -> float | None:
    """The model's creation time from ``meta.json`` (epoch seconds), if readable."""
    import calendar
    import time

    try:
        created = json.loads((directory / "meta.json").read_text())["created"]
        return float(calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")))
    except (OSError, KeyError, ValueError, TypeError):
        return None


class ModelRegistry:
    """Named model slots: directories to load from, or embeddings given directly (tests)."""

    def __init__(
        self,
        settings: Settings,
        given: Mapping[str, LearnedEmbeddings] | None = None,
    ) -> None:
        self._dirs = {} if given else parse_model_dirs(settings)
        self._scorers: dict[str, Scorer] = {
            name: Scorer(embeddings) for name, embeddings in (given or {}).items()
        }
        self.names = list(given) if given else list(self._dirs)
        default = settings.default_model or self.names[0]
        if default not in self.names:
            raise ConfigurationError(
                f"TAILGRAPH_DEFAULT_MODEL {default!r} is not one of {self.names}"
            )
        self.default = default
        self._lock = threading.Lock()

    def get(self, name: str | None = None) -> Scorer:
        """The scorer for ``name`` (default model when None); loads it on first use.

        NotFoundError for a name that is not configured; ArtefactError when its directory holds
        no readable model (yet).
        """
        name = name or self.default
        if name not in self.names:
            raise NotFoundError(f"no model named {name!r}; available: {', '.join(self.names)}")
        scorer = self._scorers.get(name)
        if scorer is not None:
            return scorer
        with self._lock:
            if name not in self._scorers:
                directory = self._dirs[name]
                trained_at = _trained_at(directory)
                scorer = Scorer(
                    load_embeddings(directory),
                    trained_at=trained_at,
                    neighbours=neighbours.load(directory),
                )
                for user_id, erased_at in read_erasures(directory).items():
                    if trained_at is None or erased_at >= trained_at:
                        scorer.forget_user(user_id)
                self._scorers[name] = scorer
            return self._scorers[name]

    def erase_user(self, user_id: str) -> float:
        """Drop ``user_id``'s learned vector from every loaded model now and record the erasure
        in every model directory, so no later load brings it back; the erasure's time."""
        when = time.time()
        with self._lock:
            for directory in self._dirs.values():
                record_erasure(directory, user_id, when)
            for scorer in self._scorers.values():
                scorer.forget_user(user_id)
        return when

    def loaded(self, name: str | None = None) -> Scorer | None:
        """The scorer if already loaded (never loads)."""
        return self._scorers.get(name or self.default)

    def all_loaded(self) -> list[Scorer]:
        return list(self._scorers.values())

    def describe(self) -> ModelList:
        """Every configured model, whether it is loaded and, if so, what it is (never loads)."""
        out = []
        for name in self.names:
            scorer = self.loaded(name)
            out.append(
                ModelInfo(
                    name=name,
                    default=name == self.default,
                    loaded=scorer is not None,
                    model=scorer.model_name if scorer else None,
                    version=scorer.version if scorer else None,
                )
            )
        return ModelList(models=out)
