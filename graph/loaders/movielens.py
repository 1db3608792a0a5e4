"""Raw GroupLens MovieLens downloads -> :class:`Dataset` (no knowledge graph).

Three layouts are recognised by their files:

- ml-100k: ``u.data`` (user, item, rating, timestamp; tab-separated), ``u.item``
  (``id|title|release date|video date|IMDb URL|19 genre flags``, Latin-1), ``u.user``
  (``id|age|gender|occupation|zip``) and ``u.genre`` (genre names in flag order);
- ml-1m: ``ratings.dat``, ``movies.dat``, ``users.dat`` (``::``-separated, Latin-1);
- ml-latest / ml-25m / ml-32m: ``ratings.csv`` and ``movies.csv`` (genres ``|``-separated).

Titles such as ``Toy Story (1995)`` are split into ``title`` and ``year``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tailgraph.errors import DataValidationError
from tailgraph.graph.loaders.csv_files import (
    parse_float,
    parse_int,
    read_csv,
    require_value,
)
from tailgraph.graph.records import Dataset, Interaction

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_TITLE_YEAR = re.compile(r"^(.*\S)\s+\((\d{4})\)\s*$")
_NO_GENRES = "(no genres listed)"


def split_title(title: str) -> tuple[str, int | None]:
    """``"Toy Story (1995)"`` -> ``("Toy Story", 1995)``; no year -> ``(title, None)``."""
    match = _TITLE_YEAR.match(title.strip())
    if match is None:
        return title.strip(), None
    return match.group(1), int(match.group(2))


def _lines(
    path: Path,
    separator: str,
    fields: tuple[str, ...],
    *,
    encoding: str = "latin-1",
    at_least: bool = False,
) -> Iterator[tuple[int, list[str]]]:
    """``(line_number, parts)`` for each non-blank line of a header-less delimited file."""
    with path.open(encoding=encoding, newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            parts = text.split(separator)
            short = len(parts) < len(fields)
            if short or (not at_least and len(parts) > len(fields)):
                raise DataValidationError(
                    f"expected {len(fields)} '{separator}'-separated fields "
                    f"({', '.join(fields)}), found {len(parts)}",
                    source=path,
                    line=number,
                    field=fields[len(parts)] if short else f"#{len(fields) + 1}",
                )
            yield number, [p.strip() for p in parts]


def _ratings(
    path: Path, separator: str, items: dict[str, Any] | None, users: dict[str, Any] | None
) -> tuple[list[Interaction], dict[str, None], dict[str, None]]:
    fields = ("user_id", "item_id", "rating", "timestamp")
    interactions: list[Interaction] = []
    seen_users: dict[str, None] = {}
    seen_items: dict[str, None] = {}
    for line, parts in _lines(path, separator, fields):
        row = dict(zip(fields, parts, strict=True))
        user = require_value(row, "user_id", path, line)
        item = require_value(row, "item_id", path, line)
        _check_known(user, users, path, line, "user_id")
        _check_known(item, items, path, line, "item_id")
        interactions.append(
            Interaction(
                user,
                item,
                parse_float(row["rating"], path, line, "rating"),
                parse_float(row["timestamp"], path, line, "timestamp"),
            )
        )
        seen_users[user] = None
        seen_items[item] = None
    return interactions, seen_users, seen_items


def _check_known(
    node: str, known: dict[str, Any] | None, path: Path, line: int, field: str
) -> None:
    if known is not None and node not in known:
        kind = field.removesuffix("_id")
        raise DataValidationError(
            f"{kind} {node!r} is not in the {kind}s file", source=path, line=line, field=field
        )


def _add_unique(
    nodes: dict[str, dict[str, Any]], node: dict[str, Any], path: Path, line: int, field: str
) -> None:
    if node["id"] in nodes:
        raise DataValidationError(
            f"duplicate id {node['id']!r}", source=path, line=line, field=field
        )
    nodes[node["id"]] = {k: v for k, v in node.items() if v not in (None, "", [])}


def _ml100k_items(path: Path, genres: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    fields = ("item_id", "title", "release_date", "video_release_date", "imdb_url", *genres)
    items: dict[str, dict[str, Any]] = {}
    for line, parts in _lines(path, "|", fields):
        row = dict(zip(fields, parts, strict=True))
        flags = parts[5:]
        for genre, flag in zip(genres, flags, strict=True):
            if flag not in ("0", "1"):
                raise DataValidationError(
                    f"genre flag must be 0 or 1, found {flag!r}",
                    source=path,
                    line=line,
                    field=genre,
                )
        title, year = split_title(row["title"])
        if year is None and row["release_date"][-4:].isdigit():
            year = int(row["release_date"][-4:])
        item = {
            "id": require_value(row, "item_id", path, line),
            "title": title,
            "year": year,
            "genres": [g for g, f in zip(genres, flags, strict=True) if f == "1"],
            "release_date": row["release_date"],
            "imdb_url": row["imdb_url"],
        }
        _add_unique(items, item, path, line, "item_id")
    return items


def _ml100k_genres(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ML100K_GENRES
    pairs = [parts for _, parts in _lines(path, "|", ("genre", "index"))]
    return tuple(name for name, _ in sorted(pairs, key=lambda p: int(p[1])))


def _users(path: Path, separator: str, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for line, parts in _lines(path, separator, fields):
        row = dict(zip(fields, parts, strict=True))
        user = {"id": require_value(row, "user_id", path, line), **row}
        del user["user_id"]
        user["age"] = parse_int(row["age"], path, line, "age")
        _add_unique(users, user, path, line, "user_id")
    return users


def _ml1m_items(path: Path) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for line, parts in _lines(path, "::", ("item_id", "title", "genres")):
        title, year = split_title(parts[1])
        genres = [] if parts[2] == _NO_GENRES else [g for g in parts[2].split("|") if g]
        item = {
            "id": require_value({"item_id": parts[0]}, "item_id", path, line),
            "title": title,
            "year": year,
            "genres": genres,
        }
        _add_unique(items, item, path, line, "item_id")
    return items


def _latest(directory: Path) -> tuple[dict[str, Any] | None, list[Interaction], dict[str, None]]:
    movies = directory / "movies.csv"
    items: dict[str, dict[str, Any]] | None = None
    if movies.is_file():
        items = {}
        for line, row in read_csv(movies, ("movieId", "title", "genres")):
            title, year = split_title(row["title"])
            genres = row["genres"]
            item = {
                "id": require_value(row, "movieId", movies, line),
                "title": title,
                "year": year,
                "genres": [] if genres == _NO_GENRES else [g for g in genres.split("|") if g],
            }
            _add_unique(items, item, movies, line, "movieId")
    ratings = directory / "ratings.csv"
    interactions: list[Interaction] = []
    seen_users: dict[str, None] = {}
    seen_items: dict[str, None] = {}
    for line, row in read_csv(ratings, ("userId", "movieId", "rating", "timestamp")):
        user = require_value(row, "userId", ratings, line)
        item = require_value(row, "movieId", ratings, line)
        if items is not None and item not in items:
            raise DataValidationError(
                f"item {item!r} is not in movies.csv", source=ratings, line=line, field="movieId"
            )
        interactions.append(
            Interaction(
                user,
                item,
                parse_float(row["rating"], ratings, line, "rating"),
                parse_float(row["timestamp"], ratings, line, "timestamp"),
            )
        )
        seen_users[user] = None
        seen_items[item] = None
    if items is None:
        items = {i: {"id": i} for i in seen_items}
    return items, interactions, seen_users


def load_movielens(directory: Path, name: str | None = None) -> Dataset:
    """Read a raw MovieLens folder (ml-100k, ml-1m or ml-latest layout, detected by files)."""
    directory = Path(directory)
    users: dict[str, dict[str, Any]] | None = None
    items: dict[str, dict[str, Any]] | None = None
    if (directory / "u.data").is_file():
        if (directory / "u.item").is_file():
            items = _ml100k_items(directory / "u.item", _ml100k_genres(directory / "u.genre"))
        if (directory / "u.user").is_file():
            users = _users(
                directory / "u.user", "|", ("user_id", "age", "gender", "occupation", "zip_code")
            )
        interactions, seen_users, seen_items = _ratings(directory / "u.data", "\t", items, users)
    elif (directory / "ratings.dat").is_file():
        if (directory / "movies.dat").is_file():
            items = _ml1m_items(directory / "movies.dat")
        if (directory / "users.dat").is_file():
            users = _users(
                directory / "users.dat",
                "::",
                ("user_id", "gender", "age", "occupation", "zip_code"),
            )
        interactions, seen_users, seen_items = _ratings(
            directory / "ratings.dat", "::", items, users
        )
    elif (directory / "ratings.csv").is_file():
        items, interactions, seen_users = _latest(directory)
        seen_items = {}
    else:
        raise DataValidationError(
            "no MovieLens ratings file (u.data, ratings.dat or ratings.csv) found",
            source=directory,
        )
    if users is None:
        users = {u: {"id": u} for u in seen_users}
    if items is None:
        items = {i: {"id": i} for i in seen_items}
    return Dataset(
        name=name or directory.name,
        users=list(users.values()),
        items=list(items.values()),
        interactions=interactions,
    )
