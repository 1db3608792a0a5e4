"""A documented generic CSV layout (see ``docs/data-formats.md``) -> :class:`Dataset`.

A folder holds ``interactions.csv`` (required) and optionally ``items.csv``, ``users.csv``,
``entities.csv`` and ``triples.csv``: comma-separated, UTF-8, with a header row; quoting follows
RFC 4180. Unlisted columns become node attributes. Everything is validated before returning;
problems raise :class:`~tailgraph.errors.DataValidationError` naming file, line and field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tailgraph.errors import DataValidationError
from tailgraph.graph.loaders.recbole import snake_case
from tailgraph.graph.loaders.values import parse_float
from tailgraph.graph.records import NODE_LABELS, Dataset, Interaction, Triple

GENRE_SEPARATOR = "|"


def read_csv(
    path: Path,
    required: tuple[str, ...],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line_number, row)`` for each data row of a headed CSV file, checking its shape."""
    try:
        handle = path.open(newline="", encoding=encoding)
    except OSError as e:
        raise DataValidationError(f"cannot open file: {e}", source=path) from e
    with handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            header = reader.fieldnames
            if not header:
                raise DataValidationError("empty file: no header row", source=path, line=1)
            columns = [c.strip() for c in header]
            reader.fieldnames = columns
            for name in required:
                if name not in columns:
                    raise DataValidationError(
                        f"missing required column (header has {', '.join(columns)})",
                        source=path,
                        line=1,
                        field=name,
                    )
            for row in reader:
                line = reader.line_num
                if not any((v or "").strip() for k, v in row.items() if k is not None):
                    continue  # blank line
                if None in row:
                    raise DataValidationError(
                        f"expected {len(columns)} fields, found more",
                        source=path,
                        line=line,
                        field=f"#{len(columns) + 1}",
                    )
                missing = [c for c in columns if row[c] is None]
                if missing:
                    raise DataValidationError(
                        f"expected {len(columns)} fields, found {len(columns) - len(missing)}",
                        source=path,
                        line=line,
                        field=missing[0],
                    )
                yield line, {k: v.strip() for k, v in row.items()}
        except csv.Error as e:
            raise DataValidationError(
                f"malformed CSV: {e}", source=path, line=reader.line_num
            ) from e
        except UnicodeDecodeError as e:
            raise DataValidationError(
                f"not valid {encoding}: {e}", source=path, line=reader.line_num + 1
            ) from e


def require_value(row: dict[str, str], name: str, path: Path, line: int) -> str:
    """The non-empty value of column ``name``."""
    value = row.get(name, "")
    if not value:
        raise DataValidationError("value is empty", source=path, line=line, field=name)
    return value


def parse_timestamp(text: str, path: Path, line: int, field: str) -> float | None:
    """Unix seconds, or an ISO 8601 date/time (naive times are taken as UTC)."""
    if not text:
        return None
    try:
        return parse_float(text, path, line, field)
    except DataValidationError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataValidationError(
            f"expected unix seconds or an ISO 8601 time, found {text!r}",
            source=path,
            line=line,
            field=field,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_int(text: str, path: Path, line: int, field: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise DataValidationError(
            f"expected an integer, found {text!r}", source=path, line=line, field=field
        ) from None


def _nodes(
    path: Path, id_column: str, label: str, special: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Node records from ``items.csv`` / ``users.csv`` / ``entities.csv``."""
    nodes: dict[str, dict[str, Any]] = {}
    for line, row in read_csv(path, (id_column,)):
        node_id = require_value(row, id_column, path, line)
        if node_id in nodes:
            raise DataValidationError(
                f"duplicate {label} id {node_id!r}", source=path, line=line, field=id_column
            )
        node: dict[str, Any] = {"id": node_id}
        for column, value in row.items():
            if column == id_column or not value:
                continue
            key = special.get(column, snake_case(column))
            if key == "genres":
                node[key] = [g.strip() for g in value.split(GENRE_SEPARATOR) if g.strip()]
            elif key in ("year", "age"):
                node[key] = parse_int(value, path, line, column)
            else:
                node.setdefault(key, value)
        nodes[node_id] = node
    return nodes


def _triples(
    path: Path, items: set[str], entities: dict[str, dict[str, Any]], strict_entities: bool
) -> list[Triple]:
    triples: list[Triple] = []
    for line, row in read_csv(path, ("head", "relation", "tail")):
        ends = []
        for end in ("head", "tail"):
            node = require_value(row, end, path, line)
            label = row.get(f"{end}_type", "") or ("Item" if node in items else "Entity")
            label = label[:1].upper() + label[1:].lower()
            if label not in ("Item", "Entity"):
                raise DataValidationError(
                    f"must be Item or Entity (of {', '.join(NODE_LABELS)}), found {label!r}",
                    source=path,
                    line=line,
                    field=f"{end}_type",
                )
            if label == "Item" and node not in items:
                raise DataValidationError(
                    f"unknown item {node!r}", source=path, line=line, field=end
                )
            if label == "Entity" and node not in entities:
                if strict_entities:
                    raise DataValidationError(
                        f"entity {node!r} is not in entities.csv",
                        source=path,
                        line=line,
                        field=end,
                    )
                entities[node] = {"id": node, "name": None}
            ends.append((node, label))
        relation = require_value(row, "relation", path, line)
        (head, head_label), (tail, tail_label) = ends
        triples.append(Triple(head, relation, tail, head_label, tail_label))
    return triples


def load_csv(directory: Path, name: str | None = None) -> Dataset:
    """Read the CSV layout in ``directory`` (only ``interactions.csv`` is required)."""
    directory = Path(directory)
    inter_path = directory / "interactions.csv"
    if not inter_path.is_file():
        raise DataValidationError("required interactions.csv not found", source=inter_path)
    items_path, users_path = directory / "items.csv", directory / "users.csv"
    entities_path, triples_path = directory / "entities.csv", directory / "triples.csv"

    item_fields = {
        "title": "title",
        "text": "text",
        "description": "text",
        "genres": "genres",
        "year": "year",
    }
    items = _nodes(items_path, "item_id", "item", item_fields) if items_path.is_file() else None
    users = _nodes(users_path, "user_id", "user", {"age": "age"}) if users_path.is_file() else None
    entities = (
        _nodes(entities_path, "entity_id", "entity", {"name": "name"})
        if entities_path.is_file()
        else {}
    )

    interactions: list[Interaction] = []
    seen_users: dict[str, dict[str, Any]] = {}
    seen_items: dict[str, dict[str, Any]] = {}
    for line, row in read_csv(inter_path, ("user_id", "item_id")):
        user = require_value(row, "user_id", inter_path, line)
        item = require_value(row, "item_id", inter_path, line)
        if users is not None and user not in users:
            raise DataValidationError(
                f"user {user!r} is not in users.csv",
                source=inter_path,
                line=line,
                field="user_id",
            )
        if items is not None and item not in items:
            raise DataValidationError(
                f"item {item!r} is not in items.csv",
                source=inter_path,
                line=line,
                field="item_id",
            )
        rating = parse_float(row.get("rating", ""), inter_path, line, "rating")
        ts = parse_timestamp(row.get("timestamp", ""), inter_path, line, "timestamp")
        interactions.append(Interaction(user, item, rating, ts))
        seen_users.setdefault(user, {"id": user})
        seen_items.setdefault(item, {"id": item})
    users = users if users is not None else seen_users
    items = items if items is not None else seen_items

    strict = entities_path.is_file()
    triples = _triples(triples_path, set(items), entities, strict) if triples_path.is_file() else []
    return Dataset(
        name=name or directory.name,
        users=list(users.values()),
        items=list(items.values()),
        entities=list(entities.values()),
        interactions=interactions,
        triples=triples,
    )
