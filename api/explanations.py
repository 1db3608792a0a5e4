"""Why an item suits a user, as a person reads it: the KG paths that say the most, first.

Paths come from :func:`tailgraph.api.candidates.kg_paths` (one per distinct seed item ×
entity) and are ranked here:

- *specificity* of the shared entity, ``1 / log(1 + items it links)`` (the weight neighbour
  transfer gives it): a shared director says more than a shared language;
- *hubs* — entities linking at least ``max(HUB_MIN_ITEMS, HUB_SHARE × catalogue)`` items
  (languages, countries, ratings, big genres) — are dropped unless nothing else links;
- among equally specific entities, seeds by their *contribution* to the score, the dot
  product of the seed's learned vector with the item's (the user vector is built from them).

An entity without a name is captioned by what it is: its relation and the two best-known
other items it links (``the “directed by” of Star Wars and American Graffiti``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.schemas import KGPath
from tailgraph.api.scoring import Scorer
from tailgraph.gnn.transfer import entity_weights
from tailgraph.graph.store import GraphStore, Row, run_query

HUB_SHARE = 0.02  # an entity linking this share of the catalogue (or more) is a hub
HUB_MIN_ITEMS = 50  # ... and at least this many items
CAPTION_SAMPLE = 50  # items of an unnamed entity read to find its best-known ones


def hub_threshold(n_items: int) -> int:
    """Items an entity must link to count as a hub."""
    return max(HUB_MIN_ITEMS, math.ceil(HUB_SHARE * n_items))


def relation_words(relation: str | None, relation_type: str) -> str:
    """``film.film.directed_by`` (or ``DIRECTED_BY``) -> ``directed by``."""
    name = (relation or relation_type).rsplit(".", 1)[-1]
    return name.replace("_", " ").lower()


def rank_paths(
    rows: Sequence[Row], scorer: Scorer, item_id: str, limit: int
) -> list[tuple[Row, float, bool, float | None]]:
    """``(row, specificity, hub, seed contribution)`` best first, hubs only if nothing else."""
    threshold = hub_threshold(scorer.n_items)
    target = scorer.item_vectors([item_id])
    seeds = list(dict.fromkeys(str(row["seed_id"]) for row in rows))
    contribution: dict[str, float] = {}
    if len(target):
        known = [s for s in seeds if scorer.has_item(s)]
        if known:
            values = scorer.item_vectors(known) @ target[0]
            contribution = dict(zip(known, values.tolist(), strict=True))
    degrees = [int(row["entity_items"] or 1) for row in rows]
    specificity = entity_weights(np.array(degrees)).tolist() if rows else []
    ranked = [
        (row, spec, degree >= threshold, contribution.get(str(row["seed_id"])))
        for row, spec, degree in zip(rows, specificity, degrees, strict=True)
    ]
    if any(not hub for _, _, hub, _ in ranked):
        ranked = [entry for entry in ranked if not entry[2]]
    ranked.sort(
        key=lambda e: (
            -round(e[1], 6),
            -(e[3] if e[3] is not None else -math.inf),
            str(e[0]["seed_id"]),
            str(e[0]["entity_id"]),
        )
    )
    return ranked[:limit]


def entity_captions(
    store: GraphStore, scorer: Scorer, rows: Sequence[Row], item_id: str
) -> dict[str, str]:
    """Entity id -> its name, or what it is when it has none (one query for all unnamed)."""
    captions = {str(r["entity_id"]): str(r["entity_name"]) for r in rows if r["entity_name"]}
    unnamed = {str(r["entity_id"]): r for r in rows if not r["entity_name"]}
    if not unnamed:
        return captions
    parameters = {"entity_ids": sorted(unnamed), "limit": CAPTION_SAMPLE}
    samples = {
        str(r["entity_id"]): r["items"]
        for r in run_query(store, "entity_item_samples", parameters, read_only=True)
    }
    for entity_id, row in unnamed.items():
        exclude = {item_id, str(row["seed_id"])}
        others = [i for i in samples.get(entity_id, []) if i["item_id"] not in exclude]
        others = [i for i in others if i["title"]]
        popularity = scorer.popularity([str(i["item_id"]) for i in others])
        best = [others[n]["title"] for n in np.argsort(-popularity, kind="stable")[:2]]
        words = relation_words(row["item_relation_name"], row["item_relation"])
        captions[entity_id] = (
            f"the “{words}” of {' and '.join(best)}" if best else (f"the “{words}”")
        )
    return captions


def explanation_paths(
    store: GraphStore,
    scorer: Scorer,
    seen: Collection[str],
    item_id: str,
    limits: ExpansionLimits,
) -> list[KGPath]:
    """The best ``limits.max_paths`` KG paths from the user's items (``seen``) to ``item_id``
    (see the module docstring); hubs are read only when no specific entity links."""
    rows = cand.kg_paths(store, seen, item_id, limits, hub_threshold(scorer.n_items))
    ranked = rank_paths(rows, scorer, item_id, limits.max_paths)
    captions = entity_captions(store, scorer, [row for row, *_ in ranked], item_id)
    paths = []
    for row, specificity, hub, contribution in ranked:
        paths.append(
            KGPath(
                item_id=item_id,
                seed_item_id=str(row["seed_id"]),
                seed_title=row["seed_title"],
                seed_relation=row["seed_relation"],
                seed_relation_name=row["seed_relation_name"],
                entity_id=str(row["entity_id"]),
                entity_name=row["entity_name"],
                entity_caption=captions.get(str(row["entity_id"])),
                entity_items=int(row["entity_items"] or 0),
                specificity=specificity,
                hub=hub,
                seed_contribution=contribution,
                item_relation=row["item_relation"],
                item_relation_name=row["item_relation_name"],
            )
        )
    return paths
