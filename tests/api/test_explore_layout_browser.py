"""/explore on a neighbourhood too big to draw whole, in headless Chromium: columns of the most
relevant neighbours, the rest behind "show more", and no two node labels overlapping.

The screenshot goes to the test's own temporary directory (the test output), never the
repository; its path is printed for a person to look at.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tailgraph.api.routes.explore import find_library
from tailgraph.graph.falkordb_store import FalkorDBStore
from tests.api.test_docs_browser import server, store  # noqa: F401 (fixtures)
from tests.api.test_explore_browser import CHROMIUM, _chromium, _Page

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed"),
    pytest.mark.skipif(find_library() is None, reason="cytoscape.js is not vendored: make assets"),
]

# u0 interacted with 30 items (ratings 1-5), each linked to 2 of 20 unnamed entities and 1 of
# 3 named genres; 15 recommendations share those entities: 69 nodes, far beyond one screen.
HAIRBALL = """
CREATE (u:User {id: 'u0', zip_code: '12345', age: 33})
WITH u
UNWIND range(1, 20) AS e
CREATE (:Entity {id: 'm.0' + toString(e)})
WITH DISTINCT u
UNWIND ['Drama', 'Comedy', 'Horror'] AS g
CREATE (:Entity {id: 'g.' + g, name: g})
WITH DISTINCT u
UNWIND range(1, 45) AS n
CREATE (i:Item {id: 'i' + toString(n), title: 'A rather long film title number ' + toString(n)})
WITH u, i, n
MATCH (e1:Entity {id: 'm.0' + toString(n % 20 + 1)}),
      (e2:Entity {id: 'm.0' + toString((n * 7) % 20 + 1)}),
      (g:Entity {id: 'g.' + ['Drama', 'Comedy', 'Horror'][n % 3]})
CREATE (i)-[:FILM_GENRE {relation: 'film.film.genre'}]->(g),
       (i)-[:DIRECTED_BY {relation: 'film.film.directed_by'}]->(e1),
       (i)-[:STARRING {relation: 'film.film.starring'}]->(e2)
FOREACH (_ IN CASE WHEN n <= 30 THEN [1] ELSE [] END |
  CREATE (u)-[:INTERACTED {rating: toFloat(n % 5 + 1), ts: n}]->(i))
FOREACH (_ IN CASE WHEN n > 30 THEN [1] ELSE [] END |
  CREATE (u)-[:RECOMMENDED {rank: n - 30, score: 1.0 / n, model: 'tailgnn'}]->(i))
"""


def test_big_neighbourhood_is_columns_without_overlapping_labels(
    server: str,  # noqa: F811
    store: FalkorDBStore,  # noqa: F811
    tmp_path: Path,
) -> None:
    store.run(HAIRBALL)
    started = time.perf_counter()
    api = httpx.get(f"{server}/explore/graph", params={"kind": "user", "id": "u0"}, timeout=60)
    print(f"graph answered in {time.perf_counter() - started:.1f}s")
    api = api.json()
    assert len(api["nodes"]) > 50
    assert next(n for n in api["nodes"] if n["id"] == "user:u0")["props"] == {"id": "u0"}

    url = f"{server}/explore?kind=user&id=u0"
    page = _Page()
    page.feed(_chromium(url, tmp_path / "profile", "--dump-dom"))
    status = page.status
    assert status.get("data-state") == "ready", status
    drawn, hidden = int(status["data-nodes"]), int(status["data-hidden"])
    assert drawn <= 1 + 3 * 12 and drawn + hidden == len(api["nodes"])
    assert hidden > 0
    assert status["data-overlaps"] == "0", "node labels overlap"
    assert any(n.startswith("entity: m.0") for n in page.nodes)  # listed under its id

    shot = tmp_path / "explore-columns.png"
    _chromium(url, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
