"""Writes about users: record interactions (users created on the fly) and erase a user.

Each batch is one ``UNWIND ... MERGE`` statement, so the store applies it atomically and
concurrent posts cannot lose each other's writes (FalkorDB runs write queries one at a time;
Neo4j's unique constraint on ``User.id`` keeps a racing MERGE from creating a twin). There is
one INTERACTED relationship per (user, item): posting the same pair again updates its rating
and time. Every write stamps ``recorded`` (server time) on the relationship; serving uses it to
fold interactions newer than the model into the user's vector (see :mod:`tailgraph.api.scoring`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from tailgraph.api.candidates import item_titles
from tailgraph.api.schemas import InteractionBatch, InteractionsRecorded
from tailgraph.errors import NotFoundError
from tailgraph.graph.store import GraphStore, run_query

logger = logging.getLogger(__name__)


def record_interactions(store: GraphStore, batch: InteractionBatch) -> InteractionsRecorded:
    """MERGE the batch into the graph; NotFoundError (nothing written) if an item is missing.

    Rows repeating a (user, item) pair of the same batch collapse into the last of them (one
    relationship either way) and are reported as ``duplicates``; ``created`` and ``updated``
    say what the store actually did, so a retried post reports its pairs as updated.
    """
    items = list(dict.fromkeys(i.item_id for i in batch.interactions))
    known = item_titles(store, items)
    missing = [item_id for item_id in items if item_id not in known]
    if missing:
        raise NotFoundError(f"items not found: {', '.join(repr(m) for m in missing[:10])}")
    now = time.time()
    pairs: dict[tuple[str, str], dict] = {}
    for i in batch.interactions:
        pairs.pop((i.user_id, i.item_id), None)  # the last post of a pair wins, in its place
        pairs[(i.user_id, i.item_id)] = {
            "user": i.user_id,
            "item": i.item_id,
            "rating": i.rating,
            "ts": i.ts if i.ts is not None else now,
        }
    rows = list(pairs.values())
    parameters = {
        "users": sorted({row["user"] for row in rows}),
        "rows": rows,
        "recorded": now,
        "token": uuid.uuid4().hex,
    }
    result = run_query(store, "user_record_interactions", parameters)
    row = result[0] if result else {}
    written = int(row.get("written") or 0)
    created = int(row.get("created") or 0)
    return InteractionsRecorded(
        written=written,
        created=created,
        updated=written - created,
        duplicates=len(batch.interactions) - len(rows),
        users_created=int(row.get("users_created") or 0),
    )


def delete_user(store: GraphStore, user_id: str) -> int:
    """Erase the user and all their relationships; return how many relationships went.

    NotFoundError when there is no such user. The route also drops the user's learned vector
    from the loaded models (``ModelRegistry.erase_user``) and compacts the store's log.
    """
    rows = run_query(store, "user_delete", {"user_id": user_id})
    if not rows:
        raise NotFoundError(f"user {user_id!r} not found")
    return int(rows[0]["relationships"] or 0)


def compact_store_log(store: GraphStore) -> None:
    """Start a rewrite of the store's log in the background (FalkorDB), so erased data leaves
    the disk; stores without one (Neo4j manages its own transaction logs) are left alone."""
    checkpoint = getattr(store, "checkpoint", None)
    if checkpoint is None:
        return

    def run() -> None:
        try:
            checkpoint()
        except Exception:  # the erasure itself succeeded; the log is rewritten again later
            logger.warning("could not compact the store's log after an erasure", exc_info=True)

    threading.Thread(target=run, name="compact-store-log", daemon=True).start()
