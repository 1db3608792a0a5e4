"""The product runs with its runtime dependencies only: no test-only package is ever imported.

A fresh interpreter refuses to import the test extras (and the test clients that need them),
imports every module of the package, then runs the demo's stages end to end on a small
synthetic graph in a private embedded store: ingest, encode, train, baselines, recommend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("pytest", "httpx", "schemathesis", "importlinter",
               "fastapi.testclient", "starlette.testclient", "typer.testing")

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"test-only module {name} imported by product code")
            return None

    sys.meta_path.insert(0, Refuse())
    import tailgraph
    for module in pkgutil.walk_packages(tailgraph.__path__, "tailgraph."):
        importlib.import_module(module.name)
    for sub in ("graph", "encoders", "gnn", "evaluation", "api", "cypher"):
        package = importlib.import_module("tailgraph." + sub)
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)

    from tailgraph import demo, stages
    from tailgraph.graph.connect import embedded_server, open_store
    from tailgraph.settings import Settings

    settings = Settings()
    store = open_store(settings)
    try:
        data = stages.load_dataset(settings, synthetic_users=40, seed=3)
        stages.ingest(store, data)
        stages.encode(settings, store)
        outcome = stages.train(settings, store, model="lightgcn", epochs=1, recommend_k=3)
        baselines = demo._baselines(outcome, epochs=1)
        user = outcome.snapshot.user_ids[0]
        answer = stages.recommend(settings, store, user, 5)
        demo._print_samples(settings, store, users=(user,))
    finally:
        store.close()
        embedded_server(settings).stop()
    assert len(answer.items) == 5, answer
    assert sorted(baselines) == ["bpr_mf", "itemknn", "lightgcn", "mostpop"]
    leaked = [m for m in sys.modules if m.split(".")[0] in ("pytest", "httpx", "schemathesis")]
    assert not leaked, leaked
    print("RUNTIME-ONLY OK")
    """
)


def test_stages_and_demo_run_without_test_extras(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TAILGRAPH_DATA_DIR": str(tmp_path / "data"),
        "TAILGRAPH_FALKORDB_DIR": tempfile.mkdtemp(prefix="tgr"),  # short: a unix socket path
        "TAILGRAPH_ARTEFACTS_DIR": str(tmp_path / "artefacts"),
        "TAILGRAPH_GRAPH_NAME": "runtime",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "RUNTIME-ONLY OK" in done.stdout
