"""The FastAPI application factory (``uvicorn --factory tailgraph.api.app:create_app``).

Nothing happens at import time: settings are read, the store opened and the model loaded when
``create_app`` runs and its lifespan starts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tailgraph.api import explore, routes_health, routes_items, routes_users
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.deps import ServiceState
from tailgraph.api.errors import install_error_handlers
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    store: GraphStore | None = None,
    embeddings: LearnedEmbeddings | None = None,
    limits: ExpansionLimits | None = None,
) -> FastAPI:
    """Build the service; ``store`` / ``embeddings`` are used as given instead of opened/loaded."""
    state = ServiceState(
        settings or get_settings(), store=store, embeddings=embeddings, limits=limits
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for problem in state.warm_up():
            logger.warning("starting without: %s", problem)
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="TailGraph",
        summary="Knowledge-aware recommendations for the long tail.",
        description=(
            "Candidates are expanded in the graph (co-users and shared knowledge-graph "
            "entities, bounded per hop), scored with learned GNN embeddings and optionally "
            "re-ranked towards less popular items."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    app.include_router(routes_health.router)
    app.include_router(routes_users.router)
    app.include_router(routes_items.router)
    app.include_router(explore.router)
    return app
