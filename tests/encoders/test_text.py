"""Text building from node properties: content, order, determinism, internal fields ignored."""

from __future__ import annotations

import pytest

from tailgraph.encoders.text import entity_text, item_text, node_text, user_text


def test_item_text_has_title_year_genres_description_in_order() -> None:
    props = {
        "id": "i1",
        "title": "Toy Story",
        "year": 1995,
        "genres": ["Animation", "Children's", "Comedy"],
        "text": "A cowboy doll feels threatened by a new spaceman toy.",
    }
    assert item_text(props) == (
        "Toy Story (1995). Genres: Animation, Children's, Comedy. "
        "A cowboy doll feels threatened by a new spaceman toy."
    )


def test_item_text_does_not_repeat_a_year_already_in_the_title() -> None:
    assert item_text({"title": "Toy Story (1995)", "year": 1995.0}) == "Toy Story (1995)."


def test_item_text_adds_other_textual_attributes_sorted_and_skips_internal_ones() -> None:
    props = {
        "title": "Heat",
        "textEmbedding": [0.1, 0.2],
        "textHash": "abc",
        "embedding": [0.3],
        "id": "i9",
        "popularity": 12.5,
        "director": "Michael Mann",
        "categories": "Crime",
        "original_language": "en",
    }
    text = item_text(props)
    assert text == "Heat. Categories: Crime. Director: Michael Mann. Original language: en."
    for internal in ("abc", "0.1", "i9", "12.5"):
        assert internal not in text


def test_item_text_is_deterministic_whatever_the_key_order() -> None:
    props = {"title": "Heat", "b_tag": "x", "a_tag": "y", "genres": ["Crime", "Drama"]}
    reordered = dict(reversed(list(props.items())))
    assert item_text(props) == item_text(reordered)


def test_item_without_anything_textual_has_no_text() -> None:
    assert item_text({"id": "i1", "textHash": "h", "rank": 3}) is None


def test_user_text_from_profile() -> None:
    props = {"id": "u1", "age": 24, "gender": "M", "occupation": "technician", "zip_code": "85711"}
    assert user_text(props) == "User, age 24, male, technician."


def test_user_without_profile_has_no_text() -> None:
    assert user_text({"id": "u1", "embedding": [0.0, 1.0]}) is None


def test_entity_text_is_its_name_or_none() -> None:
    assert entity_text({"id": "e1", "name": "  Tom   Hanks "}) == "Tom Hanks"
    assert entity_text({"id": "e2"}) is None
    assert entity_text({"id": "e3", "name": ""}) is None


def test_node_text_dispatches_by_label_and_rejects_unknown_labels() -> None:
    assert node_text("Entity", {"name": "Pixar"}) == "Pixar"
    assert node_text("Item", {"title": "Up"}) == "Up."
    assert node_text("User", {"gender": "F"}) == "User, female."
    with pytest.raises(ValueError, match="no text builder for label 'Genre'"):
        node_text("Genre", {"name": "Comedy"})
