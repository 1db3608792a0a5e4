"""POST /recommendations: visitors described by liked items and/or free-text interests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_liked_items_give_a_folded_in_vector(text_client: TestClient) -> None:
    response = text_client.post("/recommendations", json={"item_ids": ["i1"], "k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] is None and body["user_vector"] == "folded_in"
    assert (body["model"], body["version"]) == ("hand-made", "test-1")
    assert response.headers["X-Model-Version"] == "test-1"
    items = body["items"]
    # The vector is i1's (0.1, 1, 0, 0): i6 (0.5, 0.5, 0, 0) leads; i1 itself is excluded.
    assert items[0]["item_id"] == "i6"
    assert "knowledge" in items[0]["sources"]  # seeds work without a user node
    assert "i1" not in {item["item_id"] for item in items}


def test_free_text_interests_match_items_by_bert_similarity(text_client: TestClient) -> None:
    body = text_client.post(
        "/recommendations", json={"interests": ["seventh"], "k": 7, "sources": ["text"]}
    ).json()
    assert body["user_vector"] == "folded_in"
    ids = [item["item_id"] for item in body["items"]]
    assert "i7" in ids
    text = {item["item_id"] for item in body["items"] if "text" in item["sources"]}
    assert "i7" in text


def test_items_named_in_the_interests_are_not_recommended_back(text_client: TestClient) -> None:
    body = text_client.post(
        "/recommendations", json={"interests": ["something like Seven"], "k": 7}
    ).json()
    assert "i7" not in {item["item_id"] for item in body["items"]}
    assert len(body["items"]) == 6  # the rest of the model's seven items


def test_text_weight_one_ranks_by_text_similarity(text_client: TestClient) -> None:
    body = text_client.post(
        "/recommendations",
        json={"interests": ["seventh"], "k": 3, "text_weight": 1.0, "sources": ["text"]},
    ).json()
    assert body["items"][0]["item_id"] == "i7"
    low = text_client.post(
        "/recommendations", json={"interests": ["seventh"], "k": 3, "text_weight": 1.5}
    )
    assert low.status_code == 422


def test_entity_filter_applies_to_visitors(text_client: TestClient) -> None:
    body = text_client.post(
        "/recommendations", json={"item_ids": ["i2"], "entity_id": "e_dir", "k": 5}
    ).json()
    assert {item["item_id"] for item in body["items"]} <= {"i1", "i6"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"item_ids": [], "interests": []}, 422),
        ({"item_ids": ["nope"]}, 404),
        ({"item_ids": ["i1"], "entity_id": "nope"}, 404),
        ({"item_ids": ["i1"], "k": 0}, 422),
    ],
)
def test_profile_errors(text_client: TestClient, body: dict, status: int) -> None:
    assert text_client.post("/recommendations", json=body).status_code == status
