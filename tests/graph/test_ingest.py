"""Ingest into a real embedded FalkorDB: counts, idempotency, KG types and validation."""

from __future__ import annotations

import pytest

from tailgraph import cypher
from tailgraph.errors import DataValidationError
from tailgraph.graph.ingest import IngestReport, counts, ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.graph.records import Dataset, Interaction, Triple
from tailgraph.graph.schema import relationship_type, relationship_types

TINY = SyntheticConfig(
    n_users=30,
    n_items=20,
    n_interactions=150,
    n_entities=12,
    n_relations=3,
    n_topics=3,
    n_triples=50,
    seed=3,
)


def small() -> Dataset:
    return Dataset(
        name="small",
        users=[{"id": "u1", "age": 30, "gender": None}, {"id": "u2"}],
        items=[
            {"id": "i1", "title": "Heat", "year": 1995, "genres": ["Crime", "Drama"]},
            {"id": "i2", "title": "Toy Story", "genres": []},
        ],
        entities=[{"id": "m.mann", "name": "Michael Mann"}, {"id": "m.crime", "name": None}],
        interactions=[
            Interaction("u1", "i1", 4.0, 100.0),
            Interaction("u2", "i1"),
            Interaction("u2", "i2", 5.0, 200.0),
        ],
        triples=[
            Triple("i1", "film.film.directed_by", "m.mann", "Item", "Entity"),
            Triple("m.crime", "film.film_genre.films_in_this_genre", "i1", "Entity", "Item"),
            Triple("i1", "film.film.genre", "m.crime", "Item", "Entity"),
            Triple("i2", "tv.tv_program.genre", "m.crime", "Item", "Entity"),
            Triple("i1", "film.film.sequel", "i2", "Item", "Item"),
        ],
    )


def test_synthetic_counts_match_the_dataset(store) -> None:
    dataset = generate(TINY)
    report = ingest(store, dataset, batch_size=40, progress=False)

    assert isinstance(report, IngestReport)
    assert report.nodes == {"User": 30, "Item": 20, "Entity": 12}
    assert report.relationships.pop("INTERACTED") == 150
    assert sum(report.relationships.values()) == len(dataset.triples)
    assert report.rows_written == 30 + 20 + 12 + 150 + len(dataset.triples)
    assert report.seconds > 0 and report.rows_per_second > 0


def test_every_entity_knows_how_many_items_it_links(store) -> None:
    dataset = generate(TINY)
    ingest(store, dataset, progress=False)
    rows = store.run(
        "MATCH (e:Entity) OPTIONAL MATCH (e)--(i:Item) "
        "RETURN e.id AS id, e.itemCount AS stored, count(DISTINCT i) AS counted"
    )
    assert len(rows) == 12 and any(row["counted"] > 1 for row in rows)
    assert all(row["stored"] == row["counted"] for row in rows)


def test_ingest_twice_leaves_identical_counts(store) -> None:
    dataset = generate(TINY)
    first = ingest(store, dataset, batch_size=64, progress=False)
    second = ingest(store, dataset, batch_size=7, progress=False)
    assert (second.nodes, second.relationships) == (first.nodes, first.relationships)


def test_kg_types_and_relation_property(store) -> None:
    ingest(store, small(), progress=False)
    rows = store.run(
        "MATCH (h)-[r]->(t) WHERE type(r) <> 'INTERACTED' "
        "RETURN h.id AS head, type(r) AS type, r.relation AS relation, t.id AS tail "
        "ORDER BY relation"
    )
    assert rows == [
        {
            "head": "i1",
            "type": "DIRECTED_BY",
            "relation": "film.film.directed_by",
            "tail": "m.mann",
        },
        {"head": "i1", "type": "FILM_GENRE", "relation": "film.film.genre", "tail": "m.crime"},
        {"head": "i1", "type": "SEQUEL", "relation": "film.film.sequel", "tail": "i2"},
        {
            "head": "m.crime",
            "type": "FILMS_IN_THIS_GENRE",
            "relation": "film.film_genre.films_in_this_genre",
            "tail": "i1",
        },
        {
            "head": "i2",
            "type": "TV_PROGRAM_GENRE",
            "relation": "tv.tv_program.genre",
            "tail": "m.crime",
        },
    ]


def test_properties_are_null_free_and_typed(store) -> None:
    ingest(store, small(), progress=False)
    users = store.run("MATCH (u:User) RETURN u.id AS id, u.age AS age, keys(u) AS keys ORDER BY id")
    for user in users:
        user["keys"] = sorted(user["keys"])  # keys() has no defined order (Neo4j's differs)
    assert users == [
        {"id": "u1", "age": 30, "keys": ["age", "id"]},
        {"id": "u2", "age": None, "keys": ["id"]},
    ]
    item = store.run("MATCH (i:Item {id: 'i1'}) RETURN i.genres AS genres, i.year AS year")
    assert item == [{"genres": ["Crime", "Drama"], "year": 1995}]
    edges = store.run(
        "MATCH (:User)-[r:INTERACTED]->(i:Item) "
        "RETURN i.id AS item, r.rating AS rating, r.ts AS ts ORDER BY item, rating"
    )
    assert edges == [
        {"item": "i1", "rating": 4.0, "ts": 100.0},
        {"item": "i1", "rating": None, "ts": None},
        {"item": "i2", "rating": 5.0, "ts": 200.0},
    ]
    entity = store.run("MATCH (e:Entity {id: 'm.mann'}) RETURN e.name AS name")
    assert entity == [{"name": "Michael Mann"}]


def test_reingest_updates_properties_in_place(store) -> None:
    ingest(store, small(), progress=False)
    changed = small()
    changed.items[0]["title"] = "Heat (1995)"
    changed.interactions[0] = Interaction("u1", "i1", 2.0, 300.0)
    report = ingest(store, changed, progress=False)

    assert report.nodes["Item"] == 2 and report.relationships["INTERACTED"] == 3
    assert store.run("MATCH (i:Item {id: 'i1'}) RETURN i.title AS t") == [{"t": "Heat (1995)"}]
    assert store.run("MATCH (:User {id: 'u1'})-[r:INTERACTED]->() RETURN r.rating AS r") == [
        {"r": 2.0}
    ]


def test_unique_id_constraints_exist(store) -> None:
    ingest(store, small(), progress=False)
    unique = {c["label"] for c in store.list_constraints() if c.get("type") == "UNIQUE"}
    assert {"User", "Item", "Entity"} <= unique


def test_replace_clears_what_was_there(store) -> None:
    ingest(store, generate(TINY), progress=False)
    report = ingest(store, small(), progress=False, replace=True)
    assert report.nodes == {"User": 2, "Item": 2, "Entity": 2}
    assert report.relationships["INTERACTED"] == 3


def _bad(change: str) -> Dataset:
    dataset = small()
    if change == "interaction user":
        dataset.interactions.append(Interaction("ghost", "i1"))
    elif change == "interaction item":
        dataset.interactions.append(Interaction("u1", "ghost"))
    elif change == "triple tail":
        dataset.triples.append(Triple("i1", "film.film.genre", "ghost", "Item", "Entity"))
    elif change == "triple label":
        dataset.triples.append(Triple("i1", "x.y", "u1", "Item", "Person"))
    elif change == "duplicate id":
        dataset.items.append({"id": "i1"})
    elif change == "bad property":
        dataset.items[1]["meta"] = {"nested": 1}
    elif change == "missing id":
        dataset.entities.append({"name": "nameless"})
    elif change == "NUL in an id":
        dataset.users.append({"id": "u\x00x"})
    elif change == "control character in an id":
        dataset.items.append({"id": "i\x01"})
    elif change == "over-long id":
        dataset.users.append({"id": "u" * 5000})
    elif change == "lone surrogate":
        dataset.items[0]["title"] = "bad \ud800"
    elif change == "huge title":
        dataset.items[0]["title"] = "t" * 600
    elif change == "NUL in text":
        dataset.items[0]["text"] = "a\x00b"
    elif change == "control character in a relation":
        dataset.triples.append(Triple("i1", "film.\x02genre", "i2", "Item", "Item"))
    return dataset


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("interaction user", r"small\.interactions, field '\[3\]\.user': unknown user 'ghost'"),
        ("interaction item", r"small\.interactions, field '\[3\]\.item': unknown item 'ghost'"),
        ("triple tail", r"small\.triples, field '\[5\]\.tail': unknown Entity 'ghost'"),
        ("triple label", r"small\.triples, field '\[5\]\.tail_label': label 'Person'"),
        ("duplicate id", r"small\.items, field '\[2\]\.id': duplicate id 'i1'"),
        ("bad property", r"small\.items, field '\[1\]\.meta': property value"),
        ("missing id", r"small\.entities, field '\[2\]\.id': id must be a non-empty string"),
        ("NUL in an id", r"small\.users, field '\[2\]\.id': id .* control character '\\x00'"),
        ("control character in an id", r"field '\[2\]\.id': id .* control character '\\x01'"),
        ("over-long id", r"field '\[2\]\.id': id 'u+\.\.\. \(5,002 characters\) is 5,000"),
        ("lone surrogate", r"field '\[0\]\.title': value .* lone surrogate"),
        ("huge title", r"field '\[0\]\.title': value .* is 600 characters long \(at most 500\)"),
        ("NUL in text", r"field '\[0\]\.text': value .* control character"),
        ("control character in a relation", r"small\.triples, field '\[5\]\.relation'"),
    ],
)
def test_invalid_dataset_writes_nothing(store, change: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        ingest(store, _bad(change), progress=False)
    assert counts(store) == ({}, {})


def test_invalid_dataset_leaves_existing_graph_unchanged(store) -> None:
    before = ingest(store, small(), progress=False)
    with pytest.raises(DataValidationError, match="unknown item"):
        ingest(store, _bad("interaction item"), progress=False, replace=True)
    assert counts(store) == (before.nodes, before.relationships)


@pytest.mark.parametrize(
    "identifier", ["Item) DETACH DELETE (n", "Item`", "Item {id: 1}", "1Item", "", "Item\nX"]
)
def test_render_rejects_injection_shaped_identifiers(store, identifier: str) -> None:
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        cypher.render("merge_nodes", store.dialect, label=identifier)
    with pytest.raises(ValueError, match="not a valid Cypher identifier"):
        cypher.render(
            "merge_triples",
            store.dialect,
            head_label="Item",
            tail_label="Entity",
            rel_type=identifier,
        )


def test_render_rejects_labels_outside_the_allowed_set(store) -> None:
    with pytest.raises(ValueError, match="not one of the validated names"):
        cypher.render("merge_nodes", store.dialect, {"User", "Item", "Entity"}, label="Admin")


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        ("film.film.directed_by", "DIRECTED_BY"),
        ("people.person.placeOfBirth", "PLACE_OF_BIRTH"),
        ("0", "R_0"),
        ("x.2nd-unit", "R_2ND_UNIT"),
        ("kg.interacted", "KG_INTERACTED"),
        ("...", "RELATED_TO"),
    ],
)
def test_relationship_type_of_one_relation(relation: str, expected: str) -> None:
    assert relationship_type(relation) == expected


def test_relationship_types_disambiguate_faithfully() -> None:
    mapping = relationship_types(
        [
            "film.film.genre",
            "tv.tv_program.genre",
            "film.film.actor",
            "film.actor.film",
            "film.director.film",
            "a.recommended",
            "b.recommended",
            "x.y",
            "x-y",
            "x_y",
        ]
    )
    assert mapping["film.film.genre"] == "FILM_GENRE"
    assert mapping["tv.tv_program.genre"] == "TV_PROGRAM_GENRE"
    assert mapping["film.film.actor"] == "ACTOR"
    assert mapping["film.actor.film"] == "ACTOR_FILM"
    assert mapping["film.director.film"] == "DIRECTOR_FILM"
    assert {mapping["a.recommended"], mapping["b.recommended"]} == {
        "A_RECOMMENDED",
        "B_RECOMMENDED",
    }
    assert len(set(mapping.values())) == len(mapping)  # one-to-one, even for x-y / x_y
    assert not {"INTERACTED", "RECOMMENDED"} & set(mapping.values())
    assert relationship_types(reversed(list(mapping))) == mapping


def test_progress_bar_reports_to_stderr(store, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(store, small(), progress=True)
    assert "ingest" in capsys.readouterr().err
    ingest(store, small(), progress=False)
    assert capsys.readouterr().err == ""


# -- one dataset per graph -------------------------------------------------------------------------
def test_a_guarded_ingest_refuses_another_dataset_in_the_same_graph(store) -> None:
    from tailgraph.graph.ingest import DifferentDatasetError, stored_dataset

    first = generate(TINY)
    report = ingest(store, first, progress=False, guard=True)
    assert report.nodes == {"User": 30, "Item": 20, "Entity": 12}  # the marker is no node type
    held = stored_dataset(store)
    assert held["name"] == first.name and held["items"] == 20 and held["stored_items"] == 20
    again = ingest(store, first, progress=False, guard=True)  # the same dataset: idempotent
    assert again.nodes == report.nodes and again.relationships == report.relationships
    with pytest.raises(DifferentDatasetError, match=rf"holds dataset '{first.name}'.*--replace"):
        ingest(store, small(), progress=False, guard=True)
    assert counts(store) == (report.nodes, report.relationships)  # nothing was written
    replaced = ingest(store, small(), progress=False, guard=True, replace=True)
    assert replaced.nodes == {"User": 2, "Item": 2, "Entity": 2}
    assert stored_dataset(store)["name"] == "small"


def test_a_guarded_ingest_refuses_items_no_ingest_recorded(store) -> None:
    from tailgraph.graph.ingest import DifferentDatasetError

    ingest(store, small(), progress=False)  # unguarded (library use): nothing recorded
    with pytest.raises(DifferentDatasetError, match="2 items that no `tailgraph ingest` recorded"):
        ingest(store, generate(TINY), progress=False, guard=True)
