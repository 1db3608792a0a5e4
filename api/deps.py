"""Request dependencies: the service's store, scorer and limits as ``Annotated`` aliases.

:class:`ServiceState` lives on ``app.state.service``; it opens the store and loads the model
lazily and remembers failures briefly, so a service started before its database or its first
trained model becomes ready by itself (``/ready`` says when) instead of failing to boot.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.errors import RETRY_AFTER_SECONDS
from tailgraph.api.scoring import Scorer
from tailgraph.errors import ArtefactError, StoreUnavailableError, TailGraphError
from tailgraph.gnn.artefacts import LearnedEmbeddings, load_embeddings
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings


def model_directory(settings: Settings) -> Path:
    """Where serving loads the model from: ``<artefacts_dir>/current`` (what training writes)."""
    return settings.artefacts_dir / "current"


class ServiceState:
    """The store and model one app serves from; injected ones are used as given."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: GraphStore | None = None,
        embeddings: LearnedEmbeddings | None = None,
        limits: ExpansionLimits | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits or ExpansionLimits()
        self._store = store
        self._owns_store = store is None
        self._scorer = Scorer(embeddings) if embeddings is not None else None
        self._lock = threading.Lock()
        self._store_error: tuple[float, str] | None = None  # (monotonic time, message)

    def store(self) -> GraphStore:
        """The open store; opens it on first use (StoreUnavailableError if that fails)."""
        if self._store is not None:
            return self._store
        with self._lock:
            if self._store is None:
                if self._store_error and time.monotonic() - self._store_error[0] < (
                    RETRY_AFTER_SECONDS
                ):
                    raise StoreUnavailableError(self._store_error[1])
                from tailgraph.graph.connect import open_store

                try:
                    self._store = open_store(self.settings)
                except TailGraphError as e:
                    message = f"cannot open the graph store: {e}"
                    self._store_error = (time.monotonic(), message)
                    raise StoreUnavailableError(message) from e
                self._store_error = None
            return self._store

    def scorer(self) -> Scorer:
        """The loaded model; loads ``model_directory`` on first use (ArtefactError if absent)."""
        if self._scorer is not None:
            return self._scorer
        with self._lock:
            if self._scorer is None:
                self._scorer = Scorer(load_embeddings(model_directory(self.settings)))
            return self._scorer

    @property
    def model_loaded(self) -> bool:
        return self._scorer is not None

    def warm_up(self) -> list[str]:
        """Try to open the store and load the model now; return what failed (not raised)."""
        problems = []
        for step in (self.store, self.scorer):
            try:
                step()
            except (StoreUnavailableError, ArtefactError) as e:
                problems.append(str(e))
        return problems

    def close(self) -> None:
        """Close the store if this state opened it (an injected store belongs to the caller)."""
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_store(state: StateDep) -> GraphStore:
    return state.store()


def get_scorer(state: StateDep) -> Scorer:
    return state.scorer()


def get_limits(state: StateDep) -> ExpansionLimits:
    return state.limits


StoreDep = Annotated[GraphStore, Depends(get_store)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
LimitsDep = Annotated[ExpansionLimits, Depends(get_limits)]
