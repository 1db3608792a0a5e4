"""Request and response bodies of the HTTP API (pydantic models, so OpenAPI is exact)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Source = Literal["collaborative", "knowledge", "catalogue"]
"""Why an item is a candidate: co-users, shared KG entities, or the model's catalogue ranking."""

UserVectorKind = Literal["learned", "folded_in", "average"]
"""Where the user's vector came from: trained, mean of their items' vectors, or mean user."""


class ErrorBody(BaseModel):
    """Every error the API returns on purpose."""

    detail: str = Field(description="What went wrong, in one sentence.")


class RecommendedItem(BaseModel):
    item_id: str
    title: str | None = Field(description="Item title from the graph (null when it has none).")
    score: float = Field(description="Ranking score: model_score minus the long-tail penalty.")
    model_score: float = Field(description="Learned score: user vector · item vector.")
    rank: int = Field(ge=1, description="1-based position in this list.")
    sources: list[Source] = Field(description="Candidate sources that proposed the item.")


class Recommendations(BaseModel):
    user_id: str
    model: str = Field(description="Name of the trained model that scored the items.")
    version: str = Field(description="Version of the trained model (artefact version).")
    user_vector: UserVectorKind
    tail_weight: float = Field(description="Long-tail re-ranking strength that was applied.")
    items: list[RecommendedItem]


class SimilarItem(BaseModel):
    item_id: str
    title: str | None
    similarity: float = Field(description="Cosine similarity of the learned item vectors.")
    rank: int = Field(ge=1)


class SimilarItems(BaseModel):
    item_id: str
    model: str
    version: str
    items: list[SimilarItem]


class KGPath(BaseModel):
    """user -> seed item -[seed_relation]- entity -[item_relation]- recommended item."""

    seed_item_id: str = Field(description="An item the user interacted with.")
    seed_title: str | None
    seed_relation: str = Field(description="Relationship type between seed item and entity.")
    seed_relation_name: str | None = Field(description="Original KG relation name, if stored.")
    entity_id: str
    entity_name: str | None
    item_relation: str = Field(description="Relationship type between entity and the item.")
    item_relation_name: str | None


class Explanation(BaseModel):
    user_id: str
    item_id: str
    title: str | None
    model: str
    version: str
    score: float | None = Field(description="user · item, or null if the model lacks the item.")
    seen: bool = Field(description="The user already interacted with this item.")
    kg_paths: list[KGPath] = Field(description="Shared KG entities (bounded list).")
    co_users: int = Field(
        ge=0, description="Raters of the item who also interacted with one of the user's items."
    )
    raters_examined: int = Field(
        ge=0, description="Raters of the item that were examined (bounded for hub items)."
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    store: bool = Field(description="The graph store answers a ping.")
    model: bool = Field(description="Learned embeddings are loaded.")
    model_version: str | None = None
    detail: str | None = Field(default=None, description="Why the service is not ready.")
