"""Where one recommendation request's time goes, measured in-process on the benchmark store.

Runs ``recommender.recommend`` (the route's whole body) for sampled users with every store
query timed by its ``cypher/`` file name, then the response serialisation; prints JSON: mean
milliseconds per phase (each Cypher query, Python/numpy scoring and merging = the rest,
serialisation), once reading the store on every request and once with every sampled user's
read kept (:mod:`tailgraph.api.read_cache`, as in a warmed-up worker), and the top functions
of a cProfile of the first kind. Reads settings from
the ``TAILGRAPH_*`` environment (``run.py`` sets it).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import json
import pstats
import time
from pathlib import Path

from tailgraph import cypher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()

    from tailgraph.api import recommender
    from tailgraph.api.deps import ServiceState
    from tailgraph.settings import get_settings

    state = ServiceState(get_settings())
    store, scorer = state.store(), state.scorer()
    names = {cypher.load(name): name for name in cypher.available()}
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    run = store.run

    def timed(query, parameters=None, *, read_only=False):
        started = time.perf_counter()
        try:
            return run(query, parameters, read_only=read_only)
        finally:
            name = names.get(query, "vector_index" if "vector" in query.lower() else "other")
            spent[name] += time.perf_counter() - started
            calls[name] += 1

    store.run = timed  # type: ignore[method-assign]
    users = json.loads(args.users.read_text())
    state.vectors.ready(store, scorer.dimension)
    state.titles.load(store)

    def one(user_id: str, reads=None) -> bytes:
        result = recommender.recommend(
            store,
            scorer,
            user_id,
            args.k,
            limits=state.limits,
            vectors=state.vectors,
            metrics=state.metrics,
            titles=state.titles,
            reads=reads,
        )
        started = time.perf_counter()
        body = result.model_dump_json().encode()
        spent["serialisation"] += time.perf_counter() - started
        return body

    for user_id in users[:20]:  # warm-up
        one(user_id)
    sample = users[: args.requests]

    def phases_of(reads) -> tuple[dict[str, float], dict[str, float]]:
        """Mean milliseconds per phase over ``sample``, and store calls per request."""
        spent.clear()
        calls.clear()
        started = time.perf_counter()
        for user_id in sample:
            one(user_id, reads)
        total = time.perf_counter() - started
        n = len(sample)
        cypher_ms = sum(v for k, v in spent.items() if k != "serialisation") * 1000 / n
        phases = {
            f"cypher:{k}": round(v * 1000 / n, 3)
            for k, v in spent.most_common()
            if k != "serialisation"
        }
        phases["cypher_total"] = round(cypher_ms, 3)
        phases["serialisation"] = round(spent["serialisation"] * 1000 / n, 3)
        phases["python_scoring_merge"] = round(
            total * 1000 / n - cypher_ms - phases["serialisation"], 3
        )
        phases["request_total"] = round(total * 1000 / n, 3)
        return phases, {k: v / n for k, v in calls.items()}

    phases, per_request_calls = phases_of(None)  # the store read on every request
    for user_id in sample:  # keep every sampled user's read, as a warmed-up worker has
        one(user_id, state.reads)
    kept_phases, kept_calls = phases_of(state.reads)

    profiler = cProfile.Profile()
    profiler.enable()
    for user_id in users[:50]:
        one(user_id)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    print(
        json.dumps(
            {
                "requests": len(sample),
                "phases_ms": phases,
                "query_calls_per_request": per_request_calls,
                "phases_ms_kept_reads": kept_phases,
                "query_calls_per_request_kept_reads": kept_calls,
                "cprofile_top_cumulative_50_requests": text.getvalue().splitlines()[:60],
            }
        )
    )
    state.close()


if __name__ == "__main__":
    main()
