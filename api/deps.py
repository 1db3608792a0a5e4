"""Request dependencies: the service's store, scorer and limits as ``Annotated`` aliases.

:class:`ServiceState` lives on ``app.state.service``; it opens the store and loads models
lazily and remembers failures briefly, so a service started before its database or its first
trained model becomes ready by itself (``/ready`` says when) instead of failing to boot. Each
model it serves is kept up to date with the other workers' writes
(:mod:`tailgraph.api.catalogue_sync`). A
store that goes away later answers 503 + Retry-After (the driver reconnects by itself once it
is back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from tailgraph.api.candidates import ExpansionLimits, TitleCache
from tailgraph.api.catalogue_sync import CatalogueSync, ChangeLog, change_log_path
from tailgraph.api.errors import RETRY_AFTER_SECONDS
from tailgraph.api.model_registry import ModelRegistry
from tailgraph.api.prometheus import Metrics
from tailgraph.api.read_cache import ReadCache, WriteCounters
from tailgraph.api.schemas import Readiness
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.api.vector_source import VectorSource
from tailgraph.errors import ArtefactError, QueryError, StoreUnavailableError, TailGraphError
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings

logger = logging.getLogger(__name__)


def _encoder_factory(settings: Settings) -> Callable[[], object]:
    def load() -> object:
        from tailgraph.encoders.bert import TextEncoder

        return TextEncoder(
            settings.encoder_path, device="cpu", max_length=settings.encoder_max_length
        )

    return load


def _read_cache(settings: Settings) -> tuple[WriteCounters, ReadCache]:
    """The write counters shared by this service's workers and the reads kept under them; if
    the counters' file cannot be opened, private counters and no kept reads (another worker's
    writes would go unseen)."""
    try:
        counters = WriteCounters(settings.write_counters_path)
        max_age = settings.read_cache_seconds
    except OSError as e:
        logger.warning("read cache off: cannot open %s: %s", settings.write_counters_path, e)
        counters, max_age = WriteCounters(), 0.0
    return counters, ReadCache(counters, max_age=max_age, max_users=settings.read_cache_users)


class ServiceState:
    """The store, models, text index and metrics one app serves from; injected ones as given."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: GraphStore | None = None,
        embeddings: LearnedEmbeddings | None = None,
        models: Mapping[str, LearnedEmbeddings] | None = None,
        limits: ExpansionLimits | None = None,
        text_encoder: object | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits or ExpansionLimits()
        self._store = store
        self._owns_store = store is None
        given = dict(models or {})
        if embeddings is not None:
            given = {"current": embeddings, **given}
        self.models = ModelRegistry(settings, given or None)
        factory = (lambda: text_encoder) if text_encoder is not None else None
        self.texts = TextIndex(factory or _encoder_factory(settings))
        self.vectors = VectorSource()
        self.counters, self.reads = _read_cache(settings)
        self._aside: set[asyncio.Task] = set()
        self.titles = TitleCache(counters=self.counters)
        log_path = change_log_path(self.counters.path) if self.counters.path else None
        self.sync = CatalogueSync(
            self.counters,
            ChangeLog(log_path),
            store=self.store,
            models=self.models,
            texts=self.texts,
            limits=self.limits,
        )
        self.metrics = Metrics()
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

    def scorer(self, name: str | None = None) -> Scorer:
        """The named (default: default) model; loads it on first use (ArtefactError if absent)
        and brings it up to date with the writes of this service's other workers."""
        scorer = self.models.get(name)
        self.sync.ensure(scorer)
        return scorer

    def opened_store(self) -> GraphStore | None:
        """The store if it is open already (never opens it)."""
        return self._store

    def current_scorer(self, name: str | None = None) -> Scorer | None:
        """The named model if it is loaded and up to date with the other workers' writes,
        so serving it needs no I/O; None otherwise (then :meth:`scorer`)."""
        scorer = self.models.loaded(name)
        return scorer if scorer is not None and self.sync.up_to_date(scorer) else None

    def default_version(self) -> str | None:
        """Version of the default model if it is loaded (never loads it)."""
        scorer = self.models.loaded()
        return scorer.version if scorer is not None else None

    def readiness(self) -> Readiness:
        """Whether the store answers and the default model loads (loading it if need be)."""
        problems: list[str] = []
        store_ok = False
        try:
            store_ok = self.store().ping()
            if not store_ok:
                problems.append("the graph store does not answer")
        except StoreUnavailableError as e:
            problems.append(str(e))
        version = None
        try:
            version = self.scorer().version
        except ArtefactError as e:
            problems.append(str(e))
        return Readiness(
            status="ready" if not problems else "not_ready",
            store=store_ok,
            model=version is not None,
            model_version=version,
            detail="; ".join(problems) or None,
        )

    def warm_up(self) -> list[str]:
        """Try to open the store and load the default model now; return what failed."""
        problems = []
        for step in (self.store, self.scorer, self._load_titles):
            try:
                step()
            except (StoreUnavailableError, ArtefactError) as e:
                problems.append(str(e))
        return problems

    def _load_titles(self) -> None:
        """Every item title into memory, so responses name items without a round trip."""
        try:
            self.titles.load(self.store())
        except QueryError as e:
            raise StoreUnavailableError(f"cannot read item titles: {e}") from e

    @contextlib.contextmanager
    def writing(self, users: Iterable[str] = (), catalogue: bool = False) -> Iterator[None]:
        """Around a write route: afterwards (even if it failed part-way) the reads kept for
        ``users``, or for everyone when the catalogue changed, are stale in every worker."""
        try:
            yield
        finally:
            if catalogue:
                self.counters.bump_catalogue()
            else:
                self.counters.bump_users(users)

    def aside(self, work: Callable[[], object]) -> None:
        """Run ``work`` in a worker thread after the current request, its outcome only logged
        (a read renewed ahead of its expiry; the request that triggered it does not wait)."""

        async def run() -> None:
            try:
                await run_in_threadpool(work)
            except TailGraphError as e:
                logger.info("work aside failed: %s", e)
            except Exception:
                logger.exception("work aside failed")

        task = asyncio.get_running_loop().create_task(run())
        self._aside.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._aside.discard)

    def close(self) -> None:
        """Close the store if this state opened it (an injected store belongs to the caller)."""
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None


# The dependencies are coroutines: FastAPI runs a plain function dependency in a worker thread,
# and a thread hop per dependency cost more than the recommendation itself. What may block
# (opening the store, loading or updating a model) still runs in a worker thread.


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_store(state: StateDep) -> GraphStore:
    store = state.opened_store()
    return store if store is not None else await run_in_threadpool(state.store)


async def get_scorer(
    request: Request,
    state: StateDep,
    model: Annotated[
        str | None,
        Query(max_length=100, description="Model to serve this request (A/B tests)."),
    ] = None,
    x_model: Annotated[
        str | None,
        Header(max_length=100, description="Model to serve this request, if no model= given."),
    ] = None,
) -> Scorer:
    """The model chosen by ``model=`` or ``X-Model`` (default model otherwise).

    Its version is noted on the request so the ``X-Model-Version`` header reports it.
    """
    name = model or x_model
    scorer = state.current_scorer(name)
    if scorer is None:
        scorer = await run_in_threadpool(state.scorer, name)
    request.scope.setdefault("state", {})["model_version"] = scorer.version
    return scorer


async def get_limits(state: StateDep) -> ExpansionLimits:
    return state.limits


StoreDep = Annotated[GraphStore, Depends(get_store)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
LimitsDep = Annotated[ExpansionLimits, Depends(get_limits)]
