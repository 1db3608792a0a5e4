"""Encode-stage throughput on a synthetic item graph: model texts/s and vector writes/s.

Runs the stage three times on a private embedded FalkorDB: a cold run (model + writes), a
warm run (every text unchanged: reads and hashing only) and a refill after clearing the
graph but keeping the cache (writes only). Usage:

    .venv/bin/python bench/encode_throughput.py --items 3000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from tailgraph.encoders.bert import TextEncoder
from tailgraph.encoders.cache import EmbeddingCache
from tailgraph.encoders.stage import encode_store, read_text_embeddings
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore

_WORDS = "space war love crime river city night ghost robot family music island storm".split()


def _items(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "id": f"i{i}",
            "title": " ".join(rng.choice(_WORDS, size=3)).title(),
            "year": int(rng.integers(1950, 2024)),
            "genres": sorted(set(rng.choice(["Drama", "Comedy", "Action", "Horror"], size=2))),
        }
        for i in range(n)
    ]


def _fill(store: FalkorDBStore, items: list[dict[str, object]]) -> None:
    store.run("CREATE INDEX FOR (n:Item) ON (n.id)")
    for start in range(0, len(items), 2000):
        store.run(
            "UNWIND $rows AS row CREATE (n:Item) SET n = row", {"rows": items[start : start + 2000]}
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--write-batch-size", type=int, default=256)
    args = parser.parse_args()

    import falkordb

    with tempfile.TemporaryDirectory(prefix="tgbench-") as tmp:
        server = EmbeddedFalkorDB(Path(tmp) / "db", password="bench")
        server.start()
        try:
            client = falkordb.FalkorDB(
                unix_socket_path=str(server.socket_path), password=server.password
            )
            store = FalkorDBStore(client, graph_name="bench")
            encoder = TextEncoder()
            items = _items(args.items)
            _fill(store, items)
            results = {"items": args.items, "device": str(encoder.device)}
            with EmbeddingCache(Path(tmp) / "cache.sqlite") as cache:
                kwargs = {
                    "labels": ("Item",),
                    "write_batch_size": args.write_batch_size,
                    "progress": False,
                }
                cold = encode_store(store, encoder, cache, **kwargs)
                results["cold"] = cold.summary()
                warm = encode_store(store, encoder, cache, **kwargs)
                results["warm_seconds"] = round(warm.seconds, 3)
                store.clear()
                _fill(store, items)
                refill = encode_store(store, encoder, cache, **kwargs)
                results["refill"] = refill.summary()
                tick = time.perf_counter()
                ids, matrix = read_text_embeddings(store, "Item")
                results["read_back_per_second"] = round(len(ids) / (time.perf_counter() - tick))
            store.clear()
            store.close()
        finally:
            server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
