"""Request and response bodies of the HTTP API (pydantic models, so OpenAPI is exact)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from tailgraph.graph.records import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    string_problem,
)

Source = Literal["model", "collaborative", "knowledge", "vector", "tail", "text", "catalogue"]
"""Why an item is a candidate: the model's exact top-N by its learned vectors, co-users,
shared KG entities, nearest learned vectors in the store's vector index, the low-popularity
pool, nearest item texts to free-text interests, or the model's catalogue ranking (a fill when
the other sources give fewer than k)."""

SelectableSource = Literal["model", "collaborative", "knowledge", "vector", "tail", "text"]
"""Sources a request can switch on or off (``catalogue`` is always the fill)."""

UserVectorKind = Literal["learned", "blended", "folded_in", "average"]
"""Where the user's vector came from: trained; trained blended with interactions recorded
since training; mean of the user's (or given) items' vectors; or the mean user."""


def _checked(max_length: int, free_text: bool = False):
    """A validator applying ingest's rule for strings the stores accept (graph.records)."""

    def check(value: str) -> str:
        problem = string_problem(value, max_length, free_text=free_text)
        if problem:
            raise ValueError(f"the value {problem}")
        return value

    return AfterValidator(check)


NodeId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), _checked(MAX_ID_LENGTH)
]
"""A user, item or entity id: 1-512 characters, no control characters or lone surrogates."""

Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH),
    _checked(MAX_TITLE_LENGTH),
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH), _checked(MAX_NAME_LENGTH)
]
Text = Annotated[
    str, StringConstraints(max_length=MAX_TEXT_LENGTH), _checked(MAX_TEXT_LENGTH, free_text=True)
]
RelationType = Annotated[str, StringConstraints(min_length=1, max_length=100), _checked(100)]


def _surrogate_free(value: object, path: str = "body") -> None:
    """Raise on a lone surrogate anywhere in a parsed JSON value (UTF-8 cannot encode it)."""
    if isinstance(value, str):
        problem = string_problem(value, len(value))
        if problem and "surrogate" in problem:
            raise ValueError(f"{path} {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _surrogate_free(key, path)
            _surrogate_free(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _surrogate_free(item, f"{path}[{index}]")


class RequestBody(BaseModel):
    """A request body: unknown fields ignored, non-finite numbers and lone surrogates refused."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_surrogates(cls, data: object) -> object:
        _surrogate_free(data)
        return data


class FieldError(BaseModel):
    """One invalid part of a request (never the value itself, which may be huge)."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'interactions', 0, 'rating'].")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="Machine-readable kind, e.g. 'finite_number'.")


class ErrorBody(BaseModel):
    """Every error the API returns: one sentence, plus the invalid fields for a 422."""

    detail: str = Field(description="What went wrong, in one sentence.")
    errors: list[FieldError] | None = Field(
        default=None, description="The invalid fields (at most 20), for validation errors."
    )


class RecommendedItem(BaseModel):
    item_id: str
    title: str | None = Field(description="Item title from the graph (null when it has none).")
    score: float = Field(description="Ranking score: model_score minus the long-tail penalty.")
    model_score: float = Field(description="Learned score: user vector · item vector.")
    relevance: float = Field(
        ge=0.0,
        le=1.0,
        description="Share of the catalogue the model scores below this item for this user "
        "(1: the model's best item): comparable across users and requests, unlike the raw "
        "model_score.",
    )
    rank: int = Field(ge=1, description="1-based position in this list.")
    sources: list[Source] = Field(description="Candidate sources that proposed the item.")


class Recommendations(BaseModel):
    user_id: str | None = Field(description="The user; null for an anonymous profile.")
    model: str = Field(description="Name of the trained model that scored the items.")
    version: str = Field(description="Version of the trained model (artefact version).")
    user_vector: UserVectorKind
    tail_weight: float = Field(description="Long-tail re-ranking strength that was applied.")
    items: list[RecommendedItem]
    shortfall: str | None = Field(
        default=None,
        description="Why fewer than k items came back (null when k did): e.g. an entity filter "
        "that leaves only items the user has seen or the model does not know.",
    )


class SimilarItem(BaseModel):
    item_id: str
    title: str | None
    similarity: float = Field(
        description="Cosine of the learned item vectors plus the co-interaction cosine of "
        "the item's collaborative neighbours (docs/models.md)."
    )
    rank: int = Field(ge=1)


class SimilarItems(BaseModel):
    item_id: str
    model: str
    version: str
    items: list[SimilarItem]


class KGPath(BaseModel):
    """user -> seed item -[seed_relation]- entity -[item_relation]- recommended item: the one
    model of an explanation path (the explanation endpoint and /explore both return it)."""

    item_id: str = Field(description="The recommended item the path explains.")
    seed_item_id: str = Field(description="An item the user interacted with.")
    seed_title: str | None
    seed_relation: str = Field(description="Relationship type between seed item and entity.")
    seed_relation_name: str | None = Field(description="Original KG relation name, if stored.")
    entity_id: str
    entity_name: str | None
    entity_caption: str | None = Field(
        None, description="The entity's name, or what it is when it has none."
    )
    entity_items: int | None = Field(None, description="Items the entity links to.")
    specificity: float | None = Field(
        None, description="1 / log(1 + entity_items): higher says more (explanations rank by it)."
    )
    hub: bool = Field(False, description="A hub entity (language, country...): shown last.")
    seed_contribution: float | None = Field(
        None, description="Seed item's learned vector · the item's: its share of the score."
    )
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


class ModelInfo(BaseModel):
    """One loadable model (A/B tests choose one per request with ``model=`` or ``X-Model``)."""

    name: str = Field(description="Name to pass as ``model=`` / ``X-Model``.")
    default: bool
    loaded: bool
    model: str | None = Field(description="Trained model's name, once loaded.")
    version: str | None = Field(description="Artefact version, once loaded.")


class ModelList(BaseModel):
    models: list[ModelInfo]


class ProfileRequest(RequestBody):
    """A visitor the system has not seen: liked items and/or free-text interests."""

    item_ids: list[NodeId] = Field(
        default_factory=list, max_length=100, description="Items the visitor liked."
    )
    interests: list[
        Annotated[str, StringConstraints(min_length=1, max_length=1000), _checked(1000, True)]
    ] = Field(
        default_factory=list,
        max_length=10,
        description="Free-text interests, matched to items by BERT text similarity.",
    )
    k: int = Field(default=10, ge=1, le=1000, description="Number of items to return.")
    tail_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    text_weight: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="With interests: share of the text match in the ranking score (0: the "
        "learned score alone, 1: text similarity alone; default: the value chosen on "
        "validation, 0 on ml-100k, see docs/models.md).",
    )
    entity_id: NodeId | None = Field(
        default=None, description="Only items linked to this KG entity."
    )
    sources: list[SelectableSource] | None = Field(
        default=None, description="Candidate sources to use (default: all)."
    )


class InteractionIn(RequestBody):
    user_id: NodeId = Field(description="Created when new.")
    item_id: NodeId = Field(description="Must exist.")
    rating: float | None = Field(default=None, ge=-1e6, le=1e6)
    ts: float | None = Field(
        default=None, ge=0, le=1e12, description="Event time (epoch s); default: now."
    )


class InteractionBatch(RequestBody):
    interactions: list[InteractionIn] = Field(min_length=1, max_length=1000)


class InteractionsRecorded(BaseModel):
    written: int = Field(ge=0, description="INTERACTED relationships created or updated.")
    created: int = Field(ge=0, description="Of those, relationships that did not exist before.")
    updated: int = Field(ge=0, description="Of those, existing relationships (re)written.")
    duplicates: int = Field(
        ge=0, description="Rows repeating a (user, item) pair earlier in the batch (not written)."
    )
    users_created: int = Field(ge=0, description="Users that did not exist before.")


class EntityLink(RequestBody):
    entity_id: NodeId = Field(description="An existing KG entity.")
    relation: RelationType = Field(
        description="A KG relationship type already in the graph, e.g. DIRECTED_BY."
    )


class NewItem(RequestBody):
    item_id: NodeId
    title: Title
    text: Text | None = None
    year: int | None = Field(default=None, ge=0, le=3000)
    genres: list[Name] = Field(default_factory=list, max_length=20)
    links: list[EntityLink] = Field(default_factory=list, max_length=100)


EmbeddingKind = Literal["text+kg", "text", "kg", "none"]
"""What an inductive item vector was built from (``none``: not recommendable until retraining)."""


class ItemCreated(BaseModel):
    item_id: str
    links: int = Field(ge=0, description="KG relationships written.")
    model: str
    version: str
    embedding: EmbeddingKind = Field(description="What the item's inductive vector came from.")
    text_neighbours: list[str] = Field(
        description="Trained items whose text is closest (they shaped the vector)."
    )


# -- /explore: a neighbourhood drawn as nodes and edges ------------------------------------------

ExploreKind = Literal["user", "item"]
"""What ``/explore/graph`` can centre on."""

Scalar = str | int | float | bool | None
PropValue = Scalar | list[Scalar]


class SearchHit(BaseModel):
    """One user or item matching the search text."""

    kind: ExploreKind
    id: str = Field(description="the node's id in the store")
    label: str = Field(description="caption: an item's title (with its year), a user's id")
    interactions: int | None = Field(
        default=None, description="an item's interaction count (the ranking's tie-break)"
    )


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class GraphNode(BaseModel):
    """A node of the drawn neighbourhood; ``id`` is unique across labels (``item:42``)."""

    id: str
    kind: Literal["user", "item", "entity"]
    key: str = Field(description="the node's id in the store")
    label: str = Field(description="caption")
    role: Literal["center", "interacted", "recommended", "user", "entity", "similar"]
    props: dict[str, PropValue] = Field(default_factory=dict)


class GraphEdge(BaseModel):
    """A relationship; ``type`` is INTERACTED, RECOMMENDED, SIMILAR or a KG relationship type."""

    id: str
    source: str
    target: str
    type: str
    path: bool = Field(False, description="part of a recommendation's explanation path")
    props: dict[str, PropValue] = Field(default_factory=dict)


class ExploreGraph(BaseModel):
    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    paths: list[KGPath] = Field(default_factory=list)
