"""The FastAPI application factory (``uvicorn --factory tailgraph.api.app:create_app``).

Nothing happens at import time: settings are read, the store opened and the model loaded when
``create_app`` runs and its lifespan starts.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tailgraph.api.body_limit import BodyLimitMiddleware
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.deps import ServiceState
from tailgraph.api.errors import install_error_handlers
from tailgraph.api.in_flight import InFlightLimitMiddleware
from tailgraph.api.prometheus import MetricsMiddleware
from tailgraph.api.routes import docs, explore, health, items, recommendations, users
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings, get_settings

logger = logging.getLogger(__name__)

GIL_SWITCH_SECONDS = 0.001  # how long a thread holds the GIL before another may take it


def create_app(
    settings: Settings | None = None,
    *,
    store: GraphStore | None = None,
    embeddings: LearnedEmbeddings | None = None,
    models: Mapping[str, LearnedEmbeddings] | None = None,
    limits: ExpansionLimits | None = None,
    text_encoder: object | None = None,
) -> FastAPI:
    """Build the service; ``store`` / ``embeddings`` / ``models`` / ``text_encoder`` are used as
    given instead of opened/loaded (``embeddings`` is the model named ``current``)."""
    state = ServiceState(
        settings or get_settings(),
        store=store,
        embeddings=embeddings,
        models=models,
        limits=limits,
        text_encoder=text_encoder,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for problem in state.warm_up():
            logger.warning("starting without: %s", problem)
        if store is None:  # a service process (not an app embedded around a given store)
            # What start-up loaded (model, libraries) lives as long as the worker: keep it out
            # of the collector's full passes, which otherwise stall requests for tens of ms.
            gc.freeze()
            # Requests answered from memory run on the event loop while a thread parses a store
            # read; with CPython's 5 ms switch interval the loop waited that long for the GIL
            # each time, which set the p99 under load (bench/serve/README.md, "GIL").
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="TailGraph",
        summary="Knowledge-aware recommendations for the long tail.",
        description=(
            "Candidates come from the graph (co-users and shared knowledge-graph entities, "
            "bounded per hop), the store's vector index over learned item vectors, a pool of "
            "low-popularity items and, for visitors, free-text interests; they are scored with "
            "learned GNN embeddings and optionally re-ranked towards less popular items. "
            "Every response carries the serving model's version in `X-Model-Version`; "
            "`model=` or `X-Model` picks one of several loaded models (A/B tests). When API "
            "keys are configured, every endpoint except /health, /ready and /metrics needs "
            "`X-API-Key`."
        ),
        version="0.2.0",
        docs_url=None,  # /docs and /redoc come from routes/docs.py: vendored, no CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    # Added innermost first: the size limit answers inside the metrics middleware, so a 413 is
    # counted and carries X-Model-Version like every other response.
    app.add_middleware(BodyLimitMiddleware, max_bytes=state.settings.max_body_bytes)
    app.add_middleware(
        MetricsMiddleware, metrics=state.metrics, default_version=state.default_version
    )
    # Outermost: a worker past its bound refuses at once, before any other work (503 + Retry-After).
    app.add_middleware(InFlightLimitMiddleware, max_in_flight=state.settings.max_in_flight)
    app.include_router(health.router)
    app.include_router(users.router)
    app.include_router(items.router)
    app.include_router(recommendations.router)
    app.include_router(explore.router)  # page public; its JSON routes require the key
    app.include_router(docs.router)  # /docs, /redoc and their vendored assets
    return app
