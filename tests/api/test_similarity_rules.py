"""The rules behind "similar items" and free-text visitors, on planted data: a cluster stays a
cluster, co-watching lifts a sequel, text z-scores mix with learned ones, named films are found."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.api.scoring import Scorer, TextAffinity
from tailgraph.api.text_index import TextIndex
from tailgraph.api.titles import title_variants
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings

ITEMS = [f"a{n}" for n in range(5)] + [f"b{n}" for n in range(5)]


def _scorer(pairs: list[tuple[int, int]] | None = None) -> Scorer:
    rng = np.random.default_rng(3)
    centres = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]], dtype=np.float32)
    item = np.vstack([centres[n // 5] + 0.15 * rng.standard_normal(4) for n in range(10)])
    model = LearnedEmbeddings(
        "planted", "v1", ["u0"], ITEMS, np.ones((1, 4), np.float32), item.astype(np.float32),
        np.full(10, 4.0),
    )  # fmt: skip
    if pairs is None:
        return Scorer(model)
    users, items = np.array(pairs).T
    collaborative = neighbours.compute(users, items, ITEMS, 5)
    return Scorer(model, neighbours={neighbours.COLLABORATIVE: collaborative})


def test_similar_items_of_a_planted_cluster_stay_in_the_cluster() -> None:
    scorer = _scorer()
    for item_id in ITEMS:
        similar = [other for other, _ in scorer.similar_items(item_id, 4)]
        assert {s[0] for s in similar} == {item_id[0]}, (item_id, similar)


def test_co_interaction_lifts_the_co_watched_item_first() -> None:
    plain = [other for other, _ in _scorer().similar_items("a0", 4)]
    last = ITEMS.index(plain[-1])  # the cluster mate the learned vectors rank last
    # four users watched a0 together with it (and each with one film of the other cluster)
    pairs = [(u, 0) for u in range(4)] + [(u, last) for u in range(4)]
    pairs += [(u, 5 + u) for u in range(4)]
    scorer = _scorer(pairs)
    blended = [other for other, _ in scorer.similar_items("a0", 4)]
    assert blended[0] == plain[-1]  # co-watching lifted it from last to first
    # with weight 0 the rule is the learned cosine alone
    assert [o for o, _ in scorer.similar_items("a0", 4, collaborative_weight=0.0)] == plain
    assert {o[0] for o in blended} == {"a"}  # still inside the cluster


def test_text_affinity_mixes_standardised_scores() -> None:
    collab = np.array([3.0, 2.0, 1.0, 0.0])
    cosines = {"x": 0.1, "y": 0.2, "z": 0.9, "w": 0.2}
    ids = ["x", "y", "z", "w"]
    learned_only = TextAffinity.build(0.0, collab, cosines).blend(collab, ids)
    text_only = TextAffinity.build(1.0, collab, cosines).blend(collab, ids)
    assert list(np.argsort(-learned_only)) == [0, 1, 2, 3]
    assert int(np.argmax(text_only)) == 2
    assert learned_only.mean() == pytest.approx(0.0) and learned_only.std() == pytest.approx(1.0)
    half = TextAffinity.build(0.5, collab, cosines).blend(collab, ids)
    assert half == pytest.approx(0.5 * learned_only + 0.5 * text_only)
    # an item without text counts as average text (z = 0)
    assert TextAffinity.build(1.0, collab, cosines).blend(np.zeros(1), ["none"])[0] == 0.0


def test_named_items_are_found_by_title_with_moved_articles(store) -> None:
    store.run(
        "UNWIND $rows AS row CREATE (i:Item {id: row.id, title: row.title}) "
        f"SET i.textEmbedding = {store.dialect.vector_value('[1.0, 0.0]')}",
        {"rows": [{"id": "1", "title": "Godfather, The"}, {"id": "2", "title": "Heat"},
                  {"id": "3", "title": "Star Wars (1977)"}, {"id": "4", "title": "Sally..."}]},
    )  # fmt: skip
    texts = TextIndex(lambda: None)
    assert title_variants("Godfather, The") == {"godfather, the", "the godfather", "godfather"}
    assert texts.named(store, ["movies like The Godfather"]) == {"1"}
    assert texts.named(store, ["Films like Heat and Star Wars."]) == {"2", "3"}
    assert texts.named(store, ["star wars (1977), sally..."]) == {"3", "4"}
    assert texts.named(store, ["heated debates, stars"]) == set()  # whole words only
    texts.add(store, "5", np.array([0.0, 1.0]), title="Fargo")
    assert texts.named(store, ["like fargo"]) == {"5"}


def test_a_replaced_item_gets_its_new_text_and_a_deleted_one_leaves(store) -> None:
    store.run(
        "UNWIND $rows AS row CREATE (i:Item {id: row.id, title: row.title}) "
        f"SET i.textEmbedding = {store.dialect.vector_value('[1.0, 0.0]')}",
        {"rows": [{"id": "1", "title": "Heat"}, {"id": "2", "title": "Alien"}]},
    )
    texts = TextIndex(lambda: None)
    texts.add(store, "3", np.array([1.0, 0.0]), title="Fargo")
    texts.add(store, "3", np.array([0.0, 1.0]), title="Brazil")  # a PUT replaced it
    assert texts.cosines(store, np.array([0.0, 1.0]), ["1", "3"]).tolist() == [0.0, 1.0]
    assert texts.named(store, ["like brazil"]) == {"3"}
    assert texts.named(store, ["like fargo"]) == set()
    texts.remove(store, "3")  # DELETE /items/3
    assert texts.named(store, ["like brazil"]) == set()
    assert set(texts.catalogue_cosines(store, np.array([1.0, 0.0]))) == {"1", "2"}
