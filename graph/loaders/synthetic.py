"""A seeded synthetic recommender dataset with a realistic long tail, at any scale.

The generative story: every item belongs to one topic and has a Zipf-distributed popularity;
every user has a peaked taste distribution over topics (Dirichlet) and a long-tailed activity
level. Each interaction picks a user by activity, then an item either by global popularity
or, with probability ``taste_weight``, from a topic drawn from the user's taste (popularity
weighted within the topic). Ratings are higher when the item's topic matches the user's taste.
KG entities (genres, people, places...) each belong to one relation and one topic; items link
mostly to entities of their own topic, so the KG carries taste signal. Titles and
descriptions are built from topic-specific words, so text encoders see the topic even for
items nobody has interacted with. Everything is numpy-vectorised and deterministic per seed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from tailgraph.errors import ConfigurationError
from tailgraph.graph.records import Dataset, Interaction, Triple

# theme name, genre label, adjectives, nouns, settings
_THEMES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "space",
        "Science Fiction",
        ("Stellar", "Orbital", "Quantum", "Galactic", "Cosmic", "Robotic"),
        ("Starship", "Android", "Nebula", "Colony", "Wormhole", "Planet"),
        ("aboard a failing space station", "on a distant moon", "beyond the edge of the galaxy"),
    ),
    (
        "romance",
        "Romance",
        ("Tender", "Secret", "Summer", "Forbidden", "Sweet", "Lasting"),
        ("Kiss", "Wedding", "Heart", "Letter", "Promise", "Sweetheart"),
        ("in a small seaside town", "during a Paris spring", "at a family wedding"),
    ),
    (
        "crime",
        "Crime",
        ("Dirty", "Silent", "Deadly", "Crooked", "Midnight", "Undercover"),
        ("Detective", "Heist", "Alibi", "Witness", "Gangster", "Verdict"),
        (
            "in the city's criminal underworld",
            "inside a corrupt police precinct",
            "after a bank job",
        ),
    ),
    (
        "fantasy",
        "Fantasy",
        ("Enchanted", "Ancient", "Cursed", "Mythic", "Elven", "Arcane"),
        ("Dragon", "Wizard", "Kingdom", "Sword", "Sorceress", "Prophecy"),
        ("in a realm of magic", "beneath the enchanted mountains", "in a forgotten kingdom"),
    ),
    (
        "war",
        "War",
        ("Bloody", "Last", "Frontline", "Fallen", "Brave", "Iron"),
        ("Battalion", "Soldier", "Trench", "Siege", "General", "Regiment"),
        ("on the western front", "behind enemy lines", "during the long siege"),
    ),
    (
        "comedy",
        "Comedy",
        ("Silly", "Crazy", "Awkward", "Hilarious", "Wacky", "Clumsy"),
        ("Roommate", "Road Trip", "Prank", "Party", "Bachelor", "Neighbour"),
        ("in a chaotic suburban household", "at the worst office party", "on a disastrous holiday"),
    ),
    (
        "horror",
        "Horror",
        ("Haunted", "Bloodcurdling", "Sinister", "Dark", "Possessed", "Wicked"),
        ("Ghost", "Demon", "Curse", "Cabin", "Zombie", "Nightmare"),
        (
            "in an abandoned asylum",
            "deep in the haunted woods",
            "in a house that whispers at night",
        ),
    ),
    (
        "sports",
        "Sports",
        ("Championship", "Underdog", "Winning", "Fast", "Final", "Golden"),
        ("Coach", "Team", "Quarterback", "Boxer", "Season", "Trophy"),
        ("on the road to the championship", "in the final minutes of the game", "at the olympics"),
    ),
    (
        "music",
        "Musical",
        ("Rhythmic", "Electric", "Soulful", "Jazzy", "Acoustic", "Harmonic"),
        ("Band", "Singer", "Melody", "Concert", "Guitar", "Symphony"),
        ("on a sold-out world tour", "in a smoky jazz club", "at a small-town talent show"),
    ),
    (
        "nature",
        "Documentary",
        ("Wild", "Frozen", "Tropical", "Vast", "Endangered", "Migrating"),
        ("Wilderness", "Ocean", "Glacier", "Rainforest", "Savanna", "Wildlife"),
        ("across the arctic tundra", "in the heart of the rainforest", "along the great reef"),
    ),
    (
        "history",
        "History",
        ("Imperial", "Medieval", "Royal", "Victorian", "Roman", "Forgotten"),
        ("Empire", "Emperor", "Dynasty", "Queen", "Revolution", "Crown"),
        (
            "in the court of an ancient empire",
            "during the industrial revolution",
            "in medieval europe",
        ),
    ),
    (
        "family",
        "Children's",
        ("Magical", "Little", "Friendly", "Playful", "Curious", "Sunny"),
        ("Puppy", "Toy", "Adventure", "Treehouse", "Kitten", "Birthday"),
        ("in a colourful toy town", "during the summer holidays", "at grandma's farm"),
    ),
)
_RELATIONS = (
    ("synthetic.item.genre", "genre"),
    ("synthetic.item.directed_by", "person"),
    ("synthetic.item.starring", "person"),
    ("synthetic.item.country", "place"),
    ("synthetic.item.language", "language"),
    ("synthetic.item.studio", "company"),
    ("synthetic.item.written_by", "person"),
    ("synthetic.item.subject", "subject"),
)
ENTITY_LINK_RELATION = "synthetic.entity.related_to"
_FIRST = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jun",
    "Kira",
    "Liam",
    "Maya",
    "Nico",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
_LAST = (
    "Abbott",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hale",
    "Ivanov",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Sato",
    "Tanaka",
    "Weber",
)
_PLACES = (
    "Avalon",
    "Brightwater",
    "Corvia",
    "Dunmore",
    "Eastmarch",
    "Fairhaven",
    "Glenrock",
    "Highmoor",
    "Ironvale",
    "Juniper Bay",
)
_LANGUAGES = (
    "Avalonian",
    "Brightish",
    "Corvian",
    "Dunmic",
    "Eastern",
    "Fairish",
    "Glennic",
    "Highmoric",
)
_COMPANIES = ("Pictures", "Studios", "Films", "Entertainment", "Productions", "Media")
_OCCUPATIONS = (
    "student",
    "engineer",
    "artist",
    "teacher",
    "doctor",
    "writer",
    "scientist",
    "programmer",
    "retired",
    "administrator",
    "librarian",
    "other",
)
_WORDS_PER_THEME = 6


@dataclass(frozen=True)
class SyntheticConfig:
    """Size and shape of a synthetic dataset (every field has a small, fast default)."""

    n_users: int = 300  # users, with long-tailed activity
    n_items: int = 200  # items, each in one topic
    n_interactions: int = 3000  # distinct (user, item) pairs
    n_entities: int = 60  # KG entities (genres, people, places...), each with a name
    n_relations: int = 4  # item->entity relation kinds (first 8 named, then numbered)
    n_topics: int = 6  # latent topics shared by users, items, entities and text
    n_triples: int = 400  # KG triples (at least one per item when n_triples >= n_items)
    zipf_exponent: float = 1.0  # item popularity ~ 1 / rank ** exponent
    taste_weight: float = 0.6  # share of interactions drawn from the user's taste
    taste_concentration: float = 0.3  # Dirichlet alpha; smaller = more peaked tastes
    topic_affinity: float = 0.85  # share of item->entity triples within the item's topic
    entity_link_fraction: float = 0.1  # share of triples linking two same-topic entities
    start_ts: int = 1_420_070_400  # first timestamp (2015-01-01, unix seconds)
    span_days: int = 3 * 365  # timestamps are spread over this many days
    seed: int = 0  # same seed, same dataset

    @classmethod
    def for_users(cls, n_users: int, *, seed: int = 0) -> SyntheticConfig:
        """Sizes that scale with ``n_users``: 20 interactions a user, half as many items."""
        return cls(
            n_users=n_users,
            n_items=max(50, n_users // 2),
            n_interactions=n_users * 20,
            n_entities=max(20, n_users // 5),
            n_triples=max(100, n_users * 2),
            seed=seed,
        )

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` for sizes the generator cannot honour."""
        for name in ("n_users", "n_items", "n_entities", "n_relations", "n_topics"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"SyntheticConfig.{name} must be at least 1")
        if self.n_interactions < 0 or self.n_triples < 0:
            raise ConfigurationError("SyntheticConfig counts must not be negative")
        if self.n_interactions > 0.5 * self.n_users * self.n_items:
            raise ConfigurationError(
                "n_interactions must be at most half of n_users * n_items (distinct pairs)"
            )
        for name in ("taste_weight", "topic_affinity", "entity_link_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigurationError(f"SyntheticConfig.{name} must lie in [0, 1]")


def _zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf probabilities assigned to a random permutation of ``n`` things."""
    ranks = rng.permutation(n)
    weights = 1.0 / np.power(ranks + 1.0, exponent)
    return weights / weights.sum()


def _sample_within(
    groups: np.ndarray,
    n_groups: int,
    weights: np.ndarray,
    wanted: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """For each ``wanted[k]`` group, sample one member of that group by ``weights``."""
    out = np.empty(len(wanted), dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        picks = np.flatnonzero(wanted == g)
        if len(picks) == 0:
            continue
        members = order[bounds[g] : bounds[g + 1]]
        if len(members) == 0:  # empty group: fall back to any member at all
            members = order
        cumulative = np.cumsum(weights[members])
        draws = rng.random(len(picks)) * cumulative[-1]
        index = np.minimum(np.searchsorted(cumulative, draws, side="right"), len(members) - 1)
        out[picks] = members[index]
    return out


def _categorical_rows(
    probabilities: np.ndarray, rows: np.ndarray, rng: np.random.Generator, chunk: int = 1_000_000
) -> np.ndarray:
    """One draw per entry of ``rows`` from the categorical ``probabilities[row]``."""
    out = np.empty(len(rows), dtype=np.int64)
    cumulative = np.cumsum(probabilities, axis=1)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        draws = rng.random(len(part))[:, None]
        out[start : start + chunk] = (cumulative[part] < draws).sum(axis=1)
    return np.minimum(out, probabilities.shape[1] - 1)


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + mask; several times faster than ``np.unique`` here)."""
    keys = np.sort(keys)
    if len(keys) < 2:
        return keys
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]


def _distinct(
    draw: Callable[[int], np.ndarray],
    target: int,
    rng: np.random.Generator,
    forced: np.ndarray | None = None,
) -> np.ndarray:
    """``target`` distinct int64 keys in random order: all of ``forced`` plus keys drawn
    (oversampled, deduplicated, then subsampled uniformly) from ``draw(size)``."""
    forced = _unique(forced) if forced is not None else np.empty(0, dtype=np.int64)
    keys = np.empty(0, dtype=np.int64)
    for _ in range(50):
        missing = target - len(forced) - len(keys)
        if missing <= 0:
            break
        keys = _unique(np.concatenate([keys, draw(int(missing * 1.3) + 16)]))
        if len(forced):
            keys = keys[~np.isin(keys, forced, assume_unique=True)]
    else:
        raise ConfigurationError(
            f"could not draw {target} distinct pairs; lower the count or raise the pool sizes"
        )
    wanted = max(0, target - len(forced))
    if len(keys) > wanted:
        keys = keys[np.sort(rng.choice(len(keys), size=wanted, replace=False))]
    return rng.permutation(np.concatenate([forced, keys]))


def _interactions(
    config: SyntheticConfig,
    item_topic: np.ndarray,
    popularity: np.ndarray,
    taste: np.ndarray,
    activity: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, item) index pairs, in random order."""

    def draw(size: int) -> np.ndarray:
        users = rng.choice(config.n_users, size=size, p=activity)
        items = rng.choice(config.n_items, size=size, p=popularity)
        by_taste = np.flatnonzero(rng.random(size) < config.taste_weight)
        topics = _categorical_rows(taste, users[by_taste], rng)
        items[by_taste] = _sample_within(item_topic, config.n_topics, popularity, topics, rng)
        return users * config.n_items + items

    keys = _distinct(draw, config.n_interactions, rng)
    return keys // config.n_items, keys % config.n_items


def _entity_names(
    config: SyntheticConfig,
    entity_kind: list[str],
    entity_topic: np.ndarray,
    rng: np.random.Generator,
) -> list[str]:
    n = config.n_entities
    first = rng.integers(len(_FIRST), size=n)
    last = rng.integers(len(_LAST), size=n)
    word = rng.integers(_WORDS_PER_THEME, size=n)
    names = []
    for e in range(n):
        theme = _THEMES[entity_topic[e] % len(_THEMES)]
        kind = entity_kind[e]
        if kind == "person":
            name = f"{_FIRST[first[e]]} {_LAST[last[e]]}"
        elif kind == "genre":
            name = f"{theme[2][word[e]]} {theme[1]}"
        elif kind == "place":
            name = _PLACES[(e // config.n_relations) % len(_PLACES)]
        elif kind == "language":
            name = _LANGUAGES[(e // config.n_relations) % len(_LANGUAGES)]
        elif kind == "company":
            name = f"{theme[3][word[e]]} {_COMPANIES[first[e] % len(_COMPANIES)]}"
        else:
            name = f"{theme[2][word[e]]} {theme[3][last[e] % _WORDS_PER_THEME]}".lower()
        names.append(name)
    return names


def _items(
    config: SyntheticConfig,
    item_topic: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    n = config.n_items
    words = rng.integers(_WORDS_PER_THEME, size=(n, 4))
    settings = rng.integers(3, size=n)
    years = rng.integers(1950, 2025, size=n).tolist()
    second = rng.integers(len(_THEMES), size=n)
    has_second = rng.random(n) < 0.3
    items = []
    for i in range(n):
        _, genre, adjectives, nouns, places = _THEMES[item_topic[i] % len(_THEMES)]
        a, b, c, d = words[i]
        d = (b + 1 + d % (_WORDS_PER_THEME - 1)) % _WORDS_PER_THEME  # a second, different noun
        genres = [genre]
        if has_second[i] and _THEMES[second[i]][1] != genre:
            genres.append(_THEMES[second[i]][1])
        items.append(
            {
                "id": f"i{i}",
                "title": f"The {adjectives[a]} {nouns[b]}",
                "text": (
                    f"{_article(adjectives[c])} {adjectives[c].lower()} story of a "
                    f"{nouns[b].lower()} and a {nouns[d].lower()} {places[settings[i]]}. "
                    f"{genre} fans will recognise every {nouns[a].lower()}."
                ),
                "year": years[i],
                "genres": genres,
            }
        )
    return items


def _article(word: str) -> str:
    return "An" if word[0].lower() in "aeiou" else "A"


def _users(config: SyntheticConfig, rng: np.random.Generator) -> list[dict[str, Any]]:
    n = config.n_users
    ages = np.clip(rng.normal(34, 12, size=n), 13, 80).astype(int).tolist()
    genders = np.where(rng.random(n) < 0.5, "F", "M").tolist()
    jobs = rng.integers(len(_OCCUPATIONS), size=n).tolist()
    return [
        {"id": f"u{u}", "age": ages[u], "gender": genders[u], "occupation": _OCCUPATIONS[jobs[u]]}
        for u in range(n)
    ]


def _relation_names(n: int) -> list[tuple[str, str]]:
    named = list(_RELATIONS[:n])
    named += [(f"synthetic.item.attribute_{k}", "subject") for k in range(len(named), n)]
    return named


def _triples(
    config: SyntheticConfig,
    item_topic: np.ndarray,
    entity_topic: np.ndarray,
    entity_relation: np.ndarray,
    relations: list[str],
    rng: np.random.Generator,
) -> list[Triple]:
    n_links = int(round(config.n_triples * config.entity_link_fraction))
    n_item = config.n_triples - n_links
    n_rel, n_topics, n_entities = config.n_relations, config.n_topics, config.n_entities
    # Pools are (relation, topic) pairs; entity popularity inside a pool is Zipf (hub actors).
    entity_pool = entity_relation * n_topics + entity_topic
    entity_weight = _zipf_weights(n_entities, config.zipf_exponent, rng)

    def item_triples(heads: np.ndarray) -> np.ndarray:
        """Keys ((item * n_rel + relation) * n_entities + entity) for the given items."""
        rel = rng.integers(n_rel, size=len(heads))
        same_topic = rng.random(len(heads)) < config.topic_affinity
        topic = np.where(same_topic, item_topic[heads], rng.integers(n_topics, size=len(heads)))
        tails = _sample_within(
            entity_pool, n_rel * n_topics, entity_weight, rel * n_topics + topic, rng
        )
        return (heads * n_rel + rel) * n_entities + tails

    def entity_links(size: int) -> np.ndarray:
        heads = rng.integers(n_entities, size=size)
        tails = _sample_within(entity_topic, n_topics, entity_weight, entity_topic[heads], rng)
        keep = heads != tails
        return heads[keep] * n_entities + tails[keep]

    # Every item gets one triple first, so cold items still sit in the KG.
    covering = item_triples(rng.permutation(config.n_items)[:n_item])
    item_keys = _distinct(
        lambda size: item_triples(rng.integers(config.n_items, size=size)),
        n_item,
        rng,
        forced=covering,
    )
    link_keys = _distinct(entity_links, n_links, rng)
    entity_ids = [f"e{e}" for e in range(n_entities)]
    head_rel, tails = np.divmod(item_keys, n_entities)
    heads, rels = np.divmod(head_rel, n_rel)
    triples = [
        Triple(f"i{h}", relations[r], entity_ids[t], "Item", "Entity")
        for h, r, t in zip(heads.tolist(), rels.tolist(), tails.tolist(), strict=True)
    ]
    link_heads, link_tails = np.divmod(link_keys, n_entities)
    triples += [
        Triple(entity_ids[h], ENTITY_LINK_RELATION, entity_ids[t])
        for h, t in zip(link_heads.tolist(), link_tails.tolist(), strict=True)
    ]
    return triples


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of tuples (they hold no
    cycles, yet each allocation burst triggers full collections: ~2.5x slower)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate(config: SyntheticConfig | None = None) -> Dataset:
    """Generate a dataset; the same config (seed included) always gives the same dataset."""
    config = config or SyntheticConfig()
    config.validate()
    rng = np.random.default_rng(config.seed)
    item_topic = rng.integers(config.n_topics, size=config.n_items)
    popularity = _zipf_weights(config.n_items, config.zipf_exponent, rng)
    taste = rng.dirichlet(np.full(config.n_topics, config.taste_concentration), size=config.n_users)
    activity = rng.lognormal(0.0, 1.0, size=config.n_users)
    activity /= activity.sum()

    users_idx, items_idx = _interactions(config, item_topic, popularity, taste, activity, rng)
    match = taste[users_idx, item_topic[items_idx]]
    noise = rng.normal(0.0, 0.8, size=len(users_idx))
    ratings = np.clip(np.rint(2.6 + 2.4 * np.sqrt(match) + noise), 1, 5).tolist()
    ts = config.start_ts + rng.integers(config.span_days * 86_400, size=len(users_idx))
    user_ids = np.array([f"u{u}" for u in range(config.n_users)], dtype=object)
    item_ids = np.array([f"i{i}" for i in range(config.n_items)], dtype=object)
    with _gc_paused():
        interactions = list(
            map(
                Interaction._make,
                zip(
                    user_ids[users_idx].tolist(),
                    item_ids[items_idx].tolist(),
                    ratings,
                    ts.astype(float).tolist(),
                    strict=True,
                ),
            )
        )

    relations = _relation_names(config.n_relations)
    entity_relation = np.arange(config.n_entities) % config.n_relations
    entity_topic = (np.arange(config.n_entities) // config.n_relations) % config.n_topics
    kinds = [relations[r][1] for r in entity_relation]
    names = _entity_names(config, kinds, entity_topic, rng)
    entities = [
        {"id": f"e{e}", "name": names[e], "kind": kinds[e]} for e in range(config.n_entities)
    ]
    with _gc_paused():
        triples = _triples(
            config, item_topic, entity_topic, entity_relation, [name for name, _ in relations], rng
        )
    return Dataset(
        name=f"synthetic-{config.seed}",
        users=_users(config, rng),
        items=_items(config, item_topic, rng),
        entities=entities,
        interactions=interactions,
        triples=triples,
    )
