"""Synthetic generator: determinism, long tail, consistency and topic signal."""

from __future__ import annotations

from collections import Counter

import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.graph.loaders.synthetic import ENTITY_LINK_RELATION, SyntheticConfig, generate

SMALL = SyntheticConfig(
    n_users=400,
    n_items=250,
    n_interactions=4000,
    n_entities=80,
    n_relations=5,
    n_topics=5,
    n_triples=600,
    seed=7,
)


def test_same_seed_same_dataset_other_seed_differs() -> None:
    assert generate(SMALL) == generate(SMALL)
    other = generate(SyntheticConfig(**{**SMALL.__dict__, "seed": 8}))
    assert other.interactions != generate(SMALL).interactions


def test_sizes_and_distinct_pairs() -> None:
    dataset = generate(SMALL)
    assert len(dataset.users) == SMALL.n_users
    assert len(dataset.items) == SMALL.n_items
    assert len(dataset.entities) == SMALL.n_entities
    assert len(dataset.interactions) == SMALL.n_interactions
    assert len(dataset.triples) == SMALL.n_triples
    assert len({(i.user, i.item) for i in dataset.interactions}) == SMALL.n_interactions
    assert len(set(dataset.triples)) == len(dataset.triples)


def test_popularity_has_a_long_tail() -> None:
    dataset = generate(SMALL)
    per_item = sorted(Counter(i.item for i in dataset.interactions).values(), reverse=True)
    head = sum(per_item[: SMALL.n_items // 5])
    assert head / len(dataset.interactions) > 0.5


def test_every_endpoint_exists_and_every_item_is_in_the_kg() -> None:
    dataset = generate(SMALL)
    ids = {
        "User": {u["id"] for u in dataset.users},
        "Item": {i["id"] for i in dataset.items},
        "Entity": {e["id"] for e in dataset.entities},
    }
    assert all(i.user in ids["User"] and i.item in ids["Item"] for i in dataset.interactions)
    assert all(t.head in ids[t.head_label] and t.tail in ids[t.tail_label] for t in dataset.triples)
    assert {t.head for t in dataset.triples if t.head_label == "Item"} == ids["Item"]
    assert any(t.relation == ENTITY_LINK_RELATION for t in dataset.triples)
    assert all(1.0 <= i.rating <= 5.0 and i.ts > 1e9 for i in dataset.interactions)


def test_records_carry_text_profiles_and_names() -> None:
    dataset = generate(SMALL)
    item = dataset.items[0]
    assert item["title"].startswith("The ") and item["text"].endswith(".")
    assert isinstance(item["year"], int) and item["genres"]
    assert set(dataset.users[0]) == {"id", "age", "gender", "occupation"}
    assert all(e["name"] for e in dataset.entities)


def test_item_text_and_kg_follow_the_item_topic() -> None:
    dataset = generate(SMALL)
    # Items sharing a primary genre share title vocabulary far more than random pairs do.
    by_genre: dict[str, set[str]] = {}
    for item in dataset.items:
        by_genre.setdefault(item["genres"][0], set()).update(item["title"].split()[1:])
    vocabularies = list(by_genre.values())
    assert len(vocabularies) == SMALL.n_topics
    assert all(len(a & b) == 0 for a in vocabularies for b in vocabularies if a is not b)
    # Most item->genre-entity links stay within the item's topic.
    genre_of = {i["id"]: i["genres"][0] for i in dataset.items}
    names = {e["id"]: e["name"] for e in dataset.entities}
    genre_links = [t for t in dataset.triples if t.relation == "synthetic.item.genre"]
    same = sum(names[t.tail].endswith(genre_of[t.head]) for t in genre_links)
    assert same / len(genre_links) > 0.7


def test_users_concentrate_on_few_topics() -> None:
    dataset = generate(SMALL)
    genre_of = {i["id"]: i["genres"][0] for i in dataset.items}
    per_user: dict[str, Counter[str]] = {}
    for interaction in dataset.interactions:
        per_user.setdefault(interaction.user, Counter())[genre_of[interaction.item]] += 1
    active = [c for c in per_user.values() if c.total() >= 10]
    top_share = sum(c.most_common(1)[0][1] / c.total() for c in active) / len(active)
    overall = Counter(genre_of[i.item] for i in dataset.interactions)
    baseline = overall.most_common(1)[0][1] / overall.total()
    assert top_share > baseline + 0.15
    assert {i.rating for i in dataset.interactions} <= {1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_items": 0}, "n_items must be at least 1"),
        ({"n_interactions": 10**9}, "at most half"),
        ({"taste_weight": 1.5}, r"taste_weight must lie in \[0, 1\]"),
    ],
)
def test_impossible_configs_are_rejected(change: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        generate(SyntheticConfig(**{**SMALL.__dict__, **change}))
