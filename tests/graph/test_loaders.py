"""RecBole atomic loader: field mapping, KG linking and one error per kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tailgraph.errors import DataValidationError
from tailgraph.graph.ingest import counts, ingest
from tailgraph.graph.loaders.csv_files import load_csv
from tailgraph.graph.loaders.kgat import load_kgat, load_kgat_split
from tailgraph.graph.loaders.movielens import load_movielens
from tailgraph.graph.loaders.recbole import load_atomic
from tailgraph.graph.records import Interaction, Triple

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t4\t881250949\n"
    "2\t10\t3\t881250950\n"
    "2\t11\t5\t881250951\n"
)
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\tbudgetUSD:float\n"
    "10\tToy Story\t1995\tAnimation Children's Comedy\t30000000\n"
    "11\tHeat\tunknown\tCrime\t\n"
    "12\tNever Rated\t2001\tDrama\t1.5\n"
)
USER = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "1\t24\tM\ttechnician\t85711\n"
    "2\t53\tF\tother\t94043\n"
)
KG = (
    "head_id:token\trelation_id:token\ttail_id:token\n"
    "m.toy\tfilm.film.directed_by\tm.lasseter\n"
    "m.genre_crime\tfilm.film_genre.films_in_this_genre\tm.heat\n"
    "m.toy\tfilm.film.sequel\tm.heat\n"
    "m.lasseter\tpeople.person.nationality\tm.usa\n"
)
LINK = "item_id:token\tentity_id:token\n10\tm.toy\n11\tm.heat\n"


def write(directory: Path, name: str = "tiny", **files: str) -> Path:
    for suffix, text in files.items():
        (directory / f"{name}.{suffix}").write_text(text, encoding="utf-8")
    return directory


def full(directory: Path, **overrides: str) -> Path:
    files = {"inter": INTER, "item": ITEM, "user": USER, "kg": KG, "link": LINK}
    files.update(overrides)
    return write(directory, **files)


def test_full_dataset_maps_fields(tmp_path: Path) -> None:
    dataset = load_atomic(full(tmp_path), "tiny")

    assert dataset.name == "tiny"
    assert dataset.summary() == {
        "users": 2,
        "items": 3,
        "entities": 3,
        "interactions": 3,
        "triples": 4,
        "relations": 4,
    }
    toy, heat, never = dataset.items
    assert toy == {
        "id": "10",
        "title": "Toy Story",
        "year": 1995,
        "genres": ["Animation", "Children's", "Comedy"],
        "budget_usd": 30000000.0,
    }
    # A non-numeric year is kept as the raw attribute, not invented; empty floats are dropped.
    assert heat == {"id": "11", "title": "Heat", "release_year": "unknown", "genres": ["Crime"]}
    assert never["year"] == 2001
    assert dataset.users[1] == {
        "id": "2",
        "age": 53,
        "gender": "F",
        "occupation": "other",
        "zip_code": "94043",
    }
    assert dataset.interactions[0] == Interaction("1", "10", 4.0, 881250949.0)


def test_linked_entities_become_items(tmp_path: Path) -> None:
    dataset = load_atomic(full(tmp_path), "tiny")

    assert dataset.triples == [
        Triple("10", "film.film.directed_by", "m.lasseter", "Item", "Entity"),
        Triple("m.genre_crime", "film.film_genre.films_in_this_genre", "11", "Entity", "Item"),
        Triple("10", "film.film.sequel", "11", "Item", "Item"),
        Triple("m.lasseter", "people.person.nationality", "m.usa", "Entity", "Entity"),
    ]
    # Linked entities (m.toy, m.heat) are the items themselves; the rest, first-seen order.
    assert dataset.entities == [
        {"id": "m.lasseter", "name": None},
        {"id": "m.genre_crime", "name": None},
        {"id": "m.usa", "name": None},
    ]


def test_only_inter_creates_bare_nodes(tmp_path: Path) -> None:
    dataset = load_atomic(write(tmp_path, inter=INTER), "tiny")

    assert dataset.users == [{"id": "1"}, {"id": "2"}]
    assert dataset.items == [{"id": "10"}, {"id": "11"}]
    assert dataset.triples == [] and dataset.entities == []


def test_inter_without_rating_or_timestamp(tmp_path: Path) -> None:
    dataset = load_atomic(write(tmp_path, inter="user_id:token\titem_id:token\n1\t10\n"), "tiny")
    assert dataset.interactions == [Interaction("1", "10", None, None)]


def test_missing_inter_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"tiny\.inter: required"):
        load_atomic(tmp_path, "tiny")


BAD_CASES = {
    "missing required column": (
        {"inter": "user_id:token\trating:float\n1\t4\n"},
        r"tiny\.inter, line 1, field 'item_id': missing required column",
    ),
    "too few fields": (
        {"inter": INTER + "3\t10\n"},
        r"tiny\.inter, line 5, field 'rating': expected 4 tab-separated fields",
    ),
    "too many fields": (
        {"inter": INTER + "3\t10\t4\t1\t9\n"},
        r"tiny\.inter, line 5, field '#5': expected 4 tab-separated fields",
    ),
    "non-numeric float": (
        {"inter": INTER.replace("\t3\t", "\tthree\t")},
        r"tiny\.inter, line 3, field 'rating': expected a finite number, found 'three'",
    ),
    "non-finite float": (
        {"inter": INTER.replace("\t3\t", "\tnan\t")},
        r"tiny\.inter, line 3, field 'rating': expected a finite number",
    ),
    "kg line with two fields": (
        {"kg": KG + "m.toy\tfilm.film.genre\n"},
        r"tiny\.kg, line 6, field 'tail_id': expected 3 tab-separated fields",
    ),
    "link to unknown item": (
        {"link": LINK + "99\tm.ghost\n"},
        r"tiny\.link, line 4, field 'item_id': links unknown item '99'",
    ),
    "unknown user": (
        {"inter": INTER + "7\t10\t4\t1\n"},
        r"tiny\.inter, line 5, field 'user_id': user '7' is not in the \.user file",
    ),
    "unknown item": (
        {"inter": INTER + "1\t99\t4\t1\n"},
        r"tiny\.inter, line 5, field 'item_id': item '99' is not in the \.item file",
    ),
    "bad header type": (
        {"item": "item_id:token\ttitle:text\n10\tx\n"},
        r"tiny\.item, line 1, field 'title:text': header entry must be name:type",
    ),
    "duplicate item": (
        {"item": ITEM + "10\tAgain\t1999\tDrama\t1\n"},
        r"tiny\.item, line 5, field 'item_id': duplicate item id '10'",
    ),
    "empty id": (
        {"inter": INTER + "\t10\t4\t1\n"},
        r"tiny\.inter, line 5, field 'user_id': value is empty",
    ),
    "control character in an id": (
        {"inter": INTER + "3\x01x\t10\t4\t1\n"},
        r"tiny\.inter, line 5, field 'user_id': value '3\\x01x' contains the control character",
    ),
    "NUL in a relation name": (
        {"kg": KG + "m.toy\tfilm.\x00genre\tm.lasseter\n"},
        r"tiny\.kg, line 6, field 'relation_id': value .* contains the control character '\\x00'",
    ),
    "over-long id": (
        {"inter": INTER + "u" * 5000 + "\t10\t4\t1\n"},
        r"tiny\.inter, line 5, field 'user_id': value 'u+\.\.\.' is 5,000 characters long",
    ),
    "field of several MB": (
        {"item": ITEM + "13\t" + "word " * 400_000 + "\t2000\tDrama\t1\n"},
        r"tiny\.item, line 5, field 'movie_title': value .* characters long \(at most 10,000\)",
    ),
    "entity linked twice": (
        {"link": LINK + "12\tm.toy\n"},
        r"tiny\.link, line 4, field 'entity_id': entity 'm.toy' is already linked",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_line_field_and_writes_nothing(
    case: str, tmp_path: Path, store
) -> None:
    overrides, message = BAD_CASES[case]
    directory = full(tmp_path, **overrides)

    with pytest.raises(DataValidationError, match=message) as raised:
        dataset = load_atomic(directory, "tiny")
        ingest(store, dataset, progress=False)  # never reached: nothing may be written

    assert raised.value.source is not None and raised.value.source.startswith(str(tmp_path))
    assert raised.value.field is not None
    assert counts(store) == ({}, {})


def test_a_byte_order_mark_before_the_header_is_ignored(tmp_path: Path) -> None:
    full(tmp_path)
    (tmp_path / "tiny.inter").write_text("\ufeff" + INTER, encoding="utf-8")
    assert len(load_atomic(tmp_path, "tiny").interactions) == INTER.count("\n") - 1


def test_invalid_utf8_is_reported_with_line(tmp_path: Path) -> None:
    full(tmp_path)
    (tmp_path / "tiny.item").write_bytes(ITEM.encode() + b"13\t\xff\xfe\t2000\tDrama\t1\n")
    with pytest.raises(DataValidationError, match=r"tiny\.item, line 5: not valid UTF-8"):
        load_atomic(tmp_path, "tiny")


def test_blank_lines_and_crlf_are_tolerated(tmp_path: Path) -> None:
    write(tmp_path, inter=INTER.replace("\n", "\r\n") + "\r\n\n")
    dataset = load_atomic(tmp_path, "tiny")
    assert len(dataset.interactions) == 3
    assert dataset.interactions[-1] == Interaction("2", "11", 5.0, 881250951.0)


# -- KGAT / KGIN --------------------------------------------------------------------------------
def kgat_dir(directory: Path, **overrides: str) -> Path:
    files = {
        "train.txt": "0 0 1 2\n1 2\n\n",
        "test.txt": "0 3\n1 1\n",
        "kg_final.txt": "0 0 4\n3 1 5\n4 2 5\n1 0 2\n",
        "item_list.txt": "org_id remap_id freebase_id\n"
        "100 0 m.a\n101 1 m.b\n102 2 m.c\n103 3 m.d\n",
        "relation_list.txt": "org_id remap_id\nfilm.film.genre 0\nfilm.film.country 1\nx.y.z 2\n",
        "entity_list.txt": "org_id remap_id\nm.a 0\nm.b 1\nm.c 2\nm.d 3\nm.g 4\nm.us 5\n",
    }
    files.update(overrides)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_kgat_split_and_item_entities(tmp_path: Path) -> None:
    dataset, train, test = load_kgat_split(kgat_dir(tmp_path))

    assert train == [
        Interaction("0", "0"),
        Interaction("0", "1"),
        Interaction("0", "2"),
        Interaction("1", "2"),
    ]
    assert test == [Interaction("0", "3"), Interaction("1", "1")]
    assert dataset.interactions == train + test
    assert [u["id"] for u in dataset.users] == ["0", "1"]
    assert dataset.items[0] == {"id": "0", "org_id": "100", "freebase_id": "m.a"}
    assert len(dataset.items) == 4
    assert dataset.entities == [
        {"id": "4", "name": None, "org_id": "m.g"},
        {"id": "5", "name": None, "org_id": "m.us"},
    ]
    assert dataset.triples == [
        Triple("0", "film.film.genre", "4", "Item", "Entity"),
        Triple("3", "film.film.country", "5", "Item", "Entity"),
        Triple("4", "x.y.z", "5", "Entity", "Entity"),
        Triple("1", "film.film.genre", "2", "Item", "Item"),
    ]
    assert load_kgat(tmp_path) == dataset


def test_kgat_without_lists_names_relations_by_id(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 0 1\n")
    (tmp_path / "kg_final.txt").write_text("1 3 7\n")
    dataset = load_kgat(tmp_path)
    assert [i["id"] for i in dataset.items] == ["0", "1"]
    assert dataset.triples == [Triple("1", "r3", "7", "Item", "Entity")]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kg_final.txt": "0 0 4\n3 1\n"}, r"kg_final\.txt, line 2, field 'tail': expected 3"),
        ({"kg_final.txt": "0 x 4\n"}, r"kg_final\.txt, line 1, field 'relation': expected a"),
        ({"train.txt": "0 0 1\n1 2 b\n"}, r"train\.txt, line 2, field 'item #2': expected a"),
        ({"test.txt": "0 9\n"}, r"test\.txt, line 1, field 'item #1': item 9 is not below"),
        (
            {"user_list.txt": "org_id remap_id\nalice 0\n"},
            r"train\.txt, line 2, field 'user': user 1 is not in user_list\.txt",
        ),
        (
            {"relation_list.txt": "org_id remap_id\ngenre 0\ncountry 0\n"},
            r"relation_list\.txt, line 3, field 'remap_id': remap_id 0 appears twice",
        ),
    ],
)
def test_kgat_bad_input(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        load_kgat(kgat_dir(tmp_path, **overrides))


# -- MovieLens ------------------------------------------------------------------------------------
U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://imdb/1|0|0|0|1|1|1" + "|0" * 13 + "\n"
    "267|unknown||||1" + "|0" * 18 + "\n"
)


def test_movielens_100k_raw(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t1\t5\t874965758\n2\t267\t3\t876893171\n")
    (tmp_path / "u.item").write_text(U_ITEM, encoding="latin-1")
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    dataset = load_movielens(tmp_path)

    toy, unknown = dataset.items
    assert toy["title"] == "Toy Story" and toy["year"] == 1995
    assert toy["genres"] == ["Animation", "Children's", "Comedy"]
    assert unknown == {"id": "267", "title": "unknown", "genres": ["unknown"]}
    assert dataset.users[0] == {
        "id": "1",
        "age": 24,
        "gender": "M",
        "occupation": "technician",
        "zip_code": "85711",
    }
    assert dataset.interactions[0] == Interaction("1", "1", 5.0, 874965758.0)


def test_movielens_1m_and_latest(tmp_path: Path) -> None:
    one_m = tmp_path / "ml-1m"
    one_m.mkdir()
    (one_m / "ratings.dat").write_text("1::1193::5::978300760\n")
    (one_m / "movies.dat").write_text("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n")
    (one_m / "users.dat").write_text("1::F::1::10::48067\n")
    dataset = load_movielens(one_m)
    assert dataset.items == [
        {
            "id": "1193",
            "title": "One Flew Over the Cuckoo's Nest",
            "year": 1975,
            "genres": ["Drama"],
        }
    ]
    assert dataset.users[0]["gender"] == "F" and dataset.users[0]["age"] == 1

    latest = tmp_path / "ml-latest-small"
    latest.mkdir()
    (latest / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    (latest / "movies.csv").write_text(
        'movieId,title,genres\n1,"American President, The (1995)",Comedy|Drama|Romance\n'
        "2,Untitled,(no genres listed)\n"
    )
    dataset = load_movielens(latest)
    assert dataset.items[0] == {
        "id": "1",
        "title": "American President, The",
        "year": 1995,
        "genres": ["Comedy", "Drama", "Romance"],
    }
    assert dataset.items[1] == {"id": "2", "title": "Untitled"}
    assert dataset.users == [{"id": "1"}] and dataset.name == "ml-latest-small"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"u.data": "1\t1\t5\n"}, r"u\.data, line 1, field 'timestamp': expected 4"),
        ({"u.data": "1\t1\tfive\t0\n"}, r"u\.data, line 1, field 'rating': expected a finite"),
        ({"u.data": "1\t2\t5\t0\n", "u.item": U_ITEM}, r"u\.data, line 1, field 'item_id': item"),
        (
            {"u.data": "1\t1\t5\t0\n", "u.item": U_ITEM.replace("|0|0|0|1", "|0|0|0|x")},
            r"u\.item, line 1, field 'Animation': genre flag",
        ),
        (
            {"ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0\n"},
            r"ratings\.csv, line 2, field 'timestamp': expected 4 fields, found 3",
        ),
        (
            {"ratings.csv": "userId,movieId,rating\n1,1,4.0\n"},
            r"ratings\.csv, line 1, field 'timestamp': missing required column",
        ),
        (
            {
                "ratings.dat": "1::1::5::0\n",
                "users.dat": "1::F::old::10::48067\n",
                "movies.dat": "1::A (1990)::Drama\n",
            },
            r"users\.dat, line 1, field 'age': expected an integer",
        ),
    ],
)
def test_movielens_bad_input(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="latin-1")
    with pytest.raises(DataValidationError, match=message):
        load_movielens(tmp_path)


def test_movielens_needs_a_ratings_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no MovieLens ratings file"):
        load_movielens(tmp_path)


# -- generic CSV ----------------------------------------------------------------------------------
def csv_dir(directory: Path, **overrides: str) -> Path:
    files = {
        "interactions.csv": "user_id,item_id,rating,timestamp\n"
        "ann,heat,4.5,2024-01-02T03:04:05Z\nbob,heat,,1700000000\n"
        "bob,alien,3,\n",
        "items.csv": "item_id,title,text,genres,year,studio\n"
        'heat,Heat,"A thief, a cop.",Crime|Drama,1995,Warner\n'
        "alien,Alien,,Horror|Sci-Fi,1979,\nnew,Brand New,Never seen.,,,\n",
        "triples.csv": "head,relation,tail,head_type,tail_type\n"
        "heat,film.film.directed_by,m.mann,,\n"
        "m.scott,film.director.film,alien,Entity,Item\n"
        "heat,film.film.sequel,alien,,\n",
    }
    files.update(overrides)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_csv_layout(tmp_path: Path) -> None:
    dataset = load_csv(csv_dir(tmp_path), "films")

    assert dataset.name == "films"
    assert dataset.items[0] == {
        "id": "heat",
        "title": "Heat",
        "text": "A thief, a cop.",
        "genres": ["Crime", "Drama"],
        "year": 1995,
        "studio": "Warner",
    }
    assert dataset.items[2] == {"id": "new", "title": "Brand New", "text": "Never seen."}
    assert dataset.users == [{"id": "ann"}, {"id": "bob"}]
    assert dataset.interactions == [
        Interaction("ann", "heat", 4.5, 1704164645.0),
        Interaction("bob", "heat", None, 1700000000.0),
        Interaction("bob", "alien", 3.0, None),
    ]
    assert dataset.triples == [
        Triple("heat", "film.film.directed_by", "m.mann", "Item", "Entity"),
        Triple("m.scott", "film.director.film", "alien", "Entity", "Item"),
        Triple("heat", "film.film.sequel", "alien", "Item", "Item"),
    ]
    assert [e["id"] for e in dataset.entities] == ["m.mann", "m.scott"]


def test_csv_entities_file_names_entities(tmp_path: Path) -> None:
    csv_dir(
        tmp_path, **{"entities.csv": "entity_id,name\nm.mann,Michael Mann\nm.scott,Ridley Scott\n"}
    )
    dataset = load_csv(tmp_path)
    assert dataset.entities == [
        {"id": "m.mann", "name": "Michael Mann"},
        {"id": "m.scott", "name": "Ridley Scott"},
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"interactions.csv": "user,item_id\nann,heat\n"},
            r"interactions\.csv, line 1, field 'user_id': missing required column",
        ),
        (
            {"interactions.csv": "user_id,item_id,rating\nann,heat,lots\n"},
            r"interactions\.csv, line 2, field 'rating': expected a finite number",
        ),
        (
            {"interactions.csv": "user_id,item_id,timestamp\nann,heat,yesterday\n"},
            r"interactions\.csv, line 2, field 'timestamp': expected unix seconds or an ISO",
        ),
        (
            {"interactions.csv": "user_id,item_id\nann,ghost\n"},
            r"interactions\.csv, line 2, field 'item_id': item 'ghost' is not in items\.csv",
        ),
        (
            {"interactions.csv": "user_id,item_id\nann,heat,extra\n"},
            r"interactions\.csv, line 2, field '#3': expected 2 fields, found more",
        ),
        (
            {"items.csv": "item_id,title\nheat,Heat\nheat,Again\n"},
            r"items\.csv, line 3, field 'item_id': duplicate item id 'heat'",
        ),
        (
            {"triples.csv": "head,relation,tail\nheat,film.film.genre\n"},
            r"triples\.csv, line 2, field 'tail': expected 3 fields, found 2",
        ),
        (
            {"triples.csv": "head,relation,tail,head_type\nghost,x.y,m.a,Item\n"},
            r"triples\.csv, line 2, field 'head': unknown item 'ghost'",
        ),
        (
            {"triples.csv": "head,relation,tail,tail_type\nheat,x.y,u1,User\n"},
            r"triples\.csv, line 2, field 'tail_type': must be Item or Entity",
        ),
        (
            {"entities.csv": "entity_id,name\nm.mann,Michael Mann\n"},
            r"triples\.csv, line 3, field 'head': entity 'm.scott' is not in entities\.csv",
        ),
    ],
)
def test_csv_bad_input(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        load_csv(csv_dir(tmp_path, **overrides))
