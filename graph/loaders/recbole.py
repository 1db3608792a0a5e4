"""RecBole atomic files (``.inter``, ``.item``, ``.user``, ``.kg``, ``.link``) -> :class:`Dataset`.

Each file is tab-separated with a typed header (``item_id:token``, ``rating:float``,
``class:token_seq``; token sequences are space-separated). Only ``<name>.inter`` is required.
Everything is read and validated before a :class:`Dataset` is returned, so a malformed file
never leaves a half-written graph: every problem raises
:class:`~tailgraph.errors.DataValidationError` naming the file, 1-based line and field.

KG entities listed in ``.link`` are the items themselves: triples touching them become
``Item``-ended triples; every other entity becomes an ``Entity`` node.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tailgraph.errors import DataValidationError
from tailgraph.graph.loaders.values import parse_float
from tailgraph.graph.records import (
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    Dataset,
    Interaction,
    Triple,
    string_problem,
)

FIELD_TYPES = ("token", "token_seq", "float", "float_seq")

# Source column -> Dataset key, for the names RecBole's example datasets use.
ITEM_FIELDS = {
    "movie_title": "title",
    "title": "title",
    "name": "title",
    "release_year": "year",
    "year": "year",
    "class": "genres",
    "genre": "genres",
    "genres": "genres",
    "description": "text",
    "text": "text",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


def snake_case(name: str) -> str:
    """``movieTitle`` / ``Movie Title`` -> ``movie_title`` (attribute keys on nodes)."""
    return _NON_WORD.sub("_", _CAMEL.sub("_", name)).strip("_").lower() or "field"


@dataclass(frozen=True)
class Column:
    """One typed header entry, e.g. ``rating:float``."""

    name: str
    kind: str


class AtomicFile:
    """One atomic file: its typed header and an iterator over parsed, validated rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            first = handle.readline()
        header = _decode(first, path, 1).removeprefix("\ufeff").rstrip("\r\n")  # BOM
        if not header:
            raise DataValidationError("empty file: no header line", source=path, line=1)
        self.columns = [_column(entry, path) for entry in header.split("\t")]
        names = [c.name for c in self.columns]
        for name in names:
            if names.count(name) > 1:
                raise DataValidationError("column appears twice", source=path, line=1, field=name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def require(self, *names: str) -> None:
        """Raise unless every column in ``names`` is in the header."""
        for name in names:
            if name not in self.names:
                raise DataValidationError(
                    f"missing required column (header has {', '.join(self.names)})",
                    source=self.path,
                    line=1,
                    field=name,
                )

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line_number, {column: value})`` for every non-blank data line."""
        columns = self.columns
        width = len(columns)
        with self.path.open("rb") as handle:
            handle.readline()
            for number, raw in enumerate(handle, start=2):
                text = _decode(raw, self.path, number).rstrip("\r\n")
                if not text.strip():
                    continue
                parts = text.split("\t")
                if len(parts) != width:
                    field = columns[len(parts)].name if len(parts) < width else f"#{width + 1}"
                    raise DataValidationError(
                        f"expected {width} tab-separated fields "
                        f"({', '.join(self.names)}), found {len(parts)}",
                        source=self.path,
                        line=number,
                        field=field,
                    )
                yield (
                    number,
                    {
                        c.name: _value(v, c, self.path, number)
                        for c, v in zip(columns, parts, strict=True)
                    },
                )


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataValidationError(f"not valid UTF-8: {e}", source=path, line=line) from e


def _column(entry: str, path: Path) -> Column:
    name, sep, kind = entry.strip().partition(":")
    if not sep or not name or kind not in FIELD_TYPES:
        raise DataValidationError(
            f"header entry must be name:type with type one of {', '.join(FIELD_TYPES)}",
            source=path,
            line=1,
            field=entry,
        )
    return Column(name, kind)


def _float(text: str, column: Column, path: Path, line: int) -> float:
    """A finite float from a non-empty cell (the same rule as the CSV and MovieLens loaders)."""
    value = parse_float(text, path, line, column.name)
    if value is None:
        raise DataValidationError("value is empty", source=path, line=line, field=column.name)
    return value


def _value(text: str, column: Column, path: Path, line: int) -> Any:
    text = text.strip()
    if column.kind in ("token", "token_seq"):
        limit = MAX_ID_LENGTH if column.kind == "token" else MAX_TEXT_LENGTH
        problem = string_problem(text, limit)
        if problem:
            shown = text if len(text) <= 40 else f"{text[:40]}..."
            raise DataValidationError(
                f"value {shown!r} {problem}", source=path, line=line, field=column.name
            )
    if column.kind == "token":
        return text or None
    if column.kind == "token_seq":
        return text.split()
    if column.kind == "float":
        return _float(text, column, path, line) if text else None
    return [_float(t, column, path, line) for t in text.split()]


def _required_token(row: dict[str, Any], name: str, path: Path, line: int) -> str:
    value = row[name]
    if value is None:
        raise DataValidationError("value is empty", source=path, line=line, field=name)
    return str(value)


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is one (``"1995"``, ``1995.0``), else None."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


def _read_items(path: Path) -> list[dict[str, Any]]:
    table = AtomicFile(path)
    table.require("item_id")
    items: dict[str, dict[str, Any]] = {}
    for line, row in table.rows():
        item_id = _required_token(row, "item_id", path, line)
        if item_id in items:
            raise DataValidationError(
                f"duplicate item id {item_id!r}", source=path, line=line, field="item_id"
            )
        item: dict[str, Any] = {"id": item_id}
        for column in table.columns:
            value = row[column.name]
            if column.name == "item_id" or value is None or value == []:
                continue
            key = ITEM_FIELDS.get(column.name, snake_case(column.name))
            if key in ("title", "text") and isinstance(value, list):
                value = " ".join(value)
            elif key == "year":
                # Real files hold placeholders such as "unkonwn" (ml-100k line 268): keep the
                # raw token as an attribute instead of inventing a year.
                year = _integer(value)
                if year is None:
                    key = snake_case(column.name)
                else:
                    value = year
            elif key == "genres" and not isinstance(value, list):
                value = str(value).split()
            item.setdefault(key, value)
        items[item_id] = item
    return list(items.values())


def _read_users(path: Path) -> list[dict[str, Any]]:
    table = AtomicFile(path)
    table.require("user_id")
    users: dict[str, dict[str, Any]] = {}
    for line, row in table.rows():
        user_id = _required_token(row, "user_id", path, line)
        if user_id in users:
            raise DataValidationError(
                f"duplicate user id {user_id!r}", source=path, line=line, field="user_id"
            )
        user: dict[str, Any] = {"id": user_id}
        for column in table.columns:
            value = row[column.name]
            if column.name == "user_id" or value is None or value == []:
                continue
            key = snake_case(column.name)
            if key == "age" and _integer(value) is not None:
                value = _integer(value)
            user.setdefault(key, value)
        users[user_id] = user
    return list(users.values())


def _read_interactions(
    path: Path, users: dict[str, dict[str, Any]] | None, items: dict[str, dict[str, Any]] | None
) -> tuple[list[Interaction], list[str], list[str]]:
    """Interactions plus the user and item ids they mention (first-seen order)."""
    table = AtomicFile(path)
    table.require("user_id", "item_id")
    for name in ("rating", "timestamp"):
        kind = next((c.kind for c in table.columns if c.name == name), "float")
        if kind not in ("float", "token"):
            raise DataValidationError(
                f"must be a float column, found {kind}", source=path, line=1, field=name
            )
    has_rating = "rating" in table.names
    has_ts = "timestamp" in table.names
    interactions: list[Interaction] = []
    seen_users: dict[str, None] = {}
    seen_items: dict[str, None] = {}
    for line, row in table.rows():
        user = _required_token(row, "user_id", path, line)
        item = _required_token(row, "item_id", path, line)
        if users is not None and user not in users:
            raise DataValidationError(
                f"user {user!r} is not in the .user file", source=path, line=line, field="user_id"
            )
        if items is not None and item not in items:
            raise DataValidationError(
                f"item {item!r} is not in the .item file", source=path, line=line, field="item_id"
            )
        rating = _optional_float(row, "rating", path, line) if has_rating else None
        ts = _optional_float(row, "timestamp", path, line) if has_ts else None
        interactions.append(Interaction(user, item, rating, ts))
        seen_users[user] = None
        seen_items[item] = None
    return interactions, list(seen_users), list(seen_items)


def _optional_float(row: dict[str, Any], name: str, path: Path, line: int) -> float | None:
    value = row[name]
    if value is None or isinstance(value, float):
        return value
    return _float(str(value), Column(name, "float"), path, line)


def _read_links(path: Path, known_items: set[str]) -> dict[str, str]:
    """``entity_id -> item_id`` from a ``.link`` file."""
    table = AtomicFile(path)
    table.require("item_id", "entity_id")
    entity_to_item: dict[str, str] = {}
    linked_items: set[str] = set()
    for line, row in table.rows():
        item = _required_token(row, "item_id", path, line)
        entity = _required_token(row, "entity_id", path, line)
        if item not in known_items:
            raise DataValidationError(
                f"links unknown item {item!r}", source=path, line=line, field="item_id"
            )
        if item in linked_items:
            raise DataValidationError(
                f"item {item!r} is linked twice", source=path, line=line, field="item_id"
            )
        if entity in entity_to_item:
            raise DataValidationError(
                f"entity {entity!r} is already linked to item {entity_to_item[entity]!r}",
                source=path,
                line=line,
                field="entity_id",
            )
        entity_to_item[entity] = item
        linked_items.add(item)
    return entity_to_item


def _read_kg(
    path: Path, entity_to_item: dict[str, str]
) -> tuple[list[Triple], list[dict[str, Any]]]:
    table = AtomicFile(path)
    table.require("head_id", "relation_id", "tail_id")
    triples: list[Triple] = []
    entities: dict[str, dict[str, Any]] = {}
    for line, row in table.rows():
        head = _required_token(row, "head_id", path, line)
        relation = _required_token(row, "relation_id", path, line)
        tail = _required_token(row, "tail_id", path, line)
        head_item = entity_to_item.get(head)
        tail_item = entity_to_item.get(tail)
        for entity, item in ((head, head_item), (tail, tail_item)):
            if item is None and entity not in entities:
                entities[entity] = {"id": entity, "name": None}
        triples.append(
            Triple(
                head_item if head_item is not None else head,
                relation,
                tail_item if tail_item is not None else tail,
                "Item" if head_item is not None else "Entity",
                "Item" if tail_item is not None else "Entity",
            )
        )
    return triples, list(entities.values())


def load_atomic(directory: Path, name: str) -> Dataset:
    """Read ``<directory>/<name>.{inter,item,user,kg,link}`` (only ``.inter`` is required)."""
    directory = Path(directory)
    inter_path = directory / f"{name}.inter"
    if not inter_path.is_file():
        raise DataValidationError("required RecBole .inter file not found", source=inter_path)
    item_path, user_path = directory / f"{name}.item", directory / f"{name}.user"
    kg_path, link_path = directory / f"{name}.kg", directory / f"{name}.link"

    items = {i["id"]: i for i in _read_items(item_path)} if item_path.is_file() else None
    users = {u["id"]: u for u in _read_users(user_path)} if user_path.is_file() else None
    interactions, seen_users, seen_items = _read_interactions(inter_path, users, items)
    if users is None:
        users = {u: {"id": u} for u in seen_users}
    if items is None:
        items = {i: {"id": i} for i in seen_items}

    entity_to_item: dict[str, str] = {}
    if link_path.is_file():
        entity_to_item = _read_links(link_path, set(items))
    triples: list[Triple] = []
    entities: list[dict[str, Any]] = []
    if kg_path.is_file():
        triples, entities = _read_kg(kg_path, entity_to_item)

    return Dataset(
        name=name,
        users=list(users.values()),
        items=list(items.values()),
        entities=entities,
        interactions=interactions,
        triples=triples,
    )
