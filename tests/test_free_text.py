"""The free-text visitor protocol: what a visitor writes, and who becomes one."""

from __future__ import annotations

import numpy as np

from tailgraph.free_text import interest_text, visitors
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.graph.export import snapshot_from_dataset
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate


def test_interest_text_names_the_films_and_their_commonest_genres() -> None:
    items = [
        {"title": "Fargo", "genres": ["Crime", "Drama", "Thriller"]},
        {"title": "Heat", "genres": ["Crime", "Thriller"]},
        {"title": "Casino", "genres": ["Crime", "Drama"]},
    ]
    assert interest_text(items) == (
        "Films like Fargo, Heat and Casino. Genres: Crime, Drama, Thriller."
    )
    assert interest_text([{"title": "Heat"}]) == "Films like Heat."


def test_visitors_name_their_own_training_items_and_are_reproducible() -> None:
    dataset = generate(SyntheticConfig(n_users=40, n_items=30, n_interactions=600, seed=2))
    snapshot = snapshot_from_dataset(dataset, {})
    split = split_snapshot(snapshot, "random", 1)
    records = {
        str(i["id"]): {"title": f"Film {i['id']}", "genres": ["Drama"]} for i in dataset.items
    }
    people = visitors(snapshot, split, records, seed=4)
    assert people and people == visitors(snapshot, split, records, seed=4)
    train = {(int(u), int(i)) for u, i in split.train}
    tested = set(np.unique(split.test[:, 0]).tolist())
    for person in people:
        assert person.user in tested and len(person.named) == 3
        assert all((person.user, item) in train for item in person.named)
        for item in person.named:
            assert f"Film {snapshot.item_ids[item]}" in person.text
