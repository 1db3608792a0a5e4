"""Property-based fuzzing of every operation against the app's own OpenAPI schema.

schemathesis generates requests from the schema (valid and edge-case values, derandomized so
the run is reproducible) and sends them to the app in-process over ASGI, against a real store.
The property: the service never answers 5xx (the store is up, the model loaded) and every
status it answers is one the operation documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable

from tailgraph.api.app import create_app
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

MAX_EXAMPLES = 20  # per operation and mode; the whole fuzz stays well under a minute
SKIP = {"/explore", "/explore/static/{file}"}  # the page and its files (see test_explore)


def fuzzer(
    operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode
) -> Callable[[], None]:
    """A derandomized hypothesis test sending ``operation`` generated requests (valid ones
    for ``POSITIVE``, schema-violating ones for ``NEGATIVE``)."""
    documented = set(operation.definition.raw["responses"])

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call()
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500, f"{where}: {response.text[:300]}"
        assert str(response.status_code) in documented, f"{where}: undocumented"

    return fuzz


def test_no_operation_answers_5xx(
    settings: Settings,
    text_graph: FalkorDBStore,
    embeddings: LearnedEmbeddings,
    encoder: object,
) -> None:
    app = create_app(settings, store=text_graph, embeddings=embeddings, text_encoder=encoder)
    with TestClient(app):  # runs the lifespan (model and store warm-up)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        started = time.monotonic()
        fuzzed = []
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIP:
                continue
            for mode in (
                schemathesis.GenerationMode.POSITIVE,
                schemathesis.GenerationMode.NEGATIVE,
            ):
                try:
                    fuzzer(operation, mode)()
                except Unsatisfiable:  # nothing to violate: an operation without inputs
                    assert mode == schemathesis.GenerationMode.NEGATIVE

            fuzzed.append(f"{operation.method.upper()} {operation.path}")
        elapsed = time.monotonic() - started
    assert len(fuzzed) >= 12, fuzzed
    print(f"fuzzed {len(fuzzed)} operations x 2 x {MAX_EXAMPLES} examples in {elapsed:.1f}s")
    assert elapsed < 60
