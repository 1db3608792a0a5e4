"""KGAT / KGIN text files -> :class:`Dataset`, keeping the published train/test split.

Layout (whitespace-separated integers, remapped ids):

- ``train.txt`` / ``test.txt``: ``user item item ...`` — one line per user;
- ``kg_final.txt``: ``head relation tail``; entity ids below ``n_items`` *are* items;
- optional ``user_list.txt``, ``item_list.txt``, ``entity_list.txt``, ``relation_list.txt``:
  a header line, then ``org_id remap_id [freebase_id]`` mapping remapped ids to source ids.

``n_items`` is the number of rows of ``item_list.txt`` when present, else one more than the
largest item id in the interaction files. Relations are named by ``relation_list.txt``'s
``org_id`` when present, else ``r<id>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tailgraph.errors import DataValidationError
from tailgraph.graph.records import Dataset, Interaction, Triple


def _integer(text: str, path: Path, line: int, field: str) -> int:
    if not text.isdigit():
        raise DataValidationError(
            f"expected a non-negative integer id, found {text!r}",
            source=path,
            line=line,
            field=field,
        )
    return int(text)


def _read_lists(path: Path) -> list[tuple[int, int, list[int]]]:
    """``(line, user, [items])`` per line of ``train.txt`` / ``test.txt``."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.split()
            if not parts:
                continue
            user = _integer(parts[0], path, number, "user")
            items = [
                _integer(p, path, number, f"item #{k}") for k, p in enumerate(parts[1:], start=1)
            ]
            rows.append((number, user, items))
    return rows


def _read_mapping(path: Path) -> dict[int, list[str]]:
    """``remap_id -> [org_id, extra...]`` from a ``*_list.txt`` file (header line skipped)."""
    mapping: dict[int, list[str]] = {}
    if not path.is_file():
        return mapping
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.split()
            if not parts or (number == 1 and "remap_id" in parts):
                continue
            if len(parts) < 2:
                raise DataValidationError(
                    f"expected 'org_id remap_id', found {len(parts)} field(s)",
                    source=path,
                    line=number,
                    field="remap_id",
                )
            remap = _integer(parts[1], path, number, "remap_id")
            if remap in mapping:
                raise DataValidationError(
                    f"remap_id {remap} appears twice", source=path, line=number, field="remap_id"
                )
            mapping[remap] = [parts[0], *parts[2:]]
    return mapping


def _read_kg(path: Path) -> list[tuple[int, int, int, int]]:
    """``(line, head, relation, tail)`` per line of ``kg_final.txt``."""
    triples = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 3:
                names = ("head", "relation", "tail")
                raise DataValidationError(
                    f"expected 3 fields (head relation tail), found {len(parts)}",
                    source=path,
                    line=number,
                    field=names[len(parts)] if len(parts) < 3 else "#4",
                )
            head, relation, tail = (
                _integer(p, path, number, f)
                for p, f in zip(parts, ("head", "relation", "tail"), strict=True)
            )
            triples.append((number, head, relation, tail))
    return triples


def load_kgat_split(directory: Path) -> tuple[Dataset, list[Interaction], list[Interaction]]:
    """The whole dataset (train + test interactions) plus the train and test interactions."""
    directory = Path(directory)
    train_path, test_path = directory / "train.txt", directory / "test.txt"
    if not train_path.is_file():
        raise DataValidationError("required KGAT train.txt not found", source=train_path)
    train_rows = _read_lists(train_path)
    test_rows = _read_lists(test_path) if test_path.is_file() else []

    user_map = _read_mapping(directory / "user_list.txt")
    item_map = _read_mapping(directory / "item_list.txt")
    entity_map = _read_mapping(directory / "entity_list.txt")
    relation_map = _read_mapping(directory / "relation_list.txt")

    largest = max((i for _, _, items in train_rows + test_rows for i in items), default=-1)
    n_items = len(item_map) if item_map else largest + 1
    for path, rows in ((train_path, train_rows), (test_path, test_rows)):
        for line, user, items in rows:
            if user_map and user not in user_map:
                raise DataValidationError(
                    f"user {user} is not in user_list.txt", source=path, line=line, field="user"
                )
            for k, item in enumerate(items, start=1):
                if item >= n_items:
                    raise DataValidationError(
                        f"item {item} is not below n_items={n_items} (item_list.txt)",
                        source=path,
                        line=line,
                        field=f"item #{k}",
                    )

    users: dict[str, dict[str, Any]] = {}
    for remap, (org, *_rest) in sorted(user_map.items()):
        users[str(remap)] = {"id": str(remap), "org_id": org}
    items: dict[str, dict[str, Any]] = {}
    for remap in range(n_items):
        item: dict[str, Any] = {"id": str(remap)}
        if remap in item_map:
            org, *rest = item_map[remap]
            item["org_id"] = org
            if rest:
                item["freebase_id"] = rest[0]
        items[str(remap)] = item

    def interactions(rows: list[tuple[int, int, list[int]]]) -> list[Interaction]:
        out = []
        for _line, user, user_items in rows:
            users.setdefault(str(user), {"id": str(user)})
            out.extend(Interaction(str(user), str(i)) for i in user_items)
        return out

    train = interactions(train_rows)
    test = interactions(test_rows)

    entities: dict[str, dict[str, Any]] = {}
    triples: list[Triple] = []
    kg_path = directory / "kg_final.txt"
    for _line, head, relation, tail in _read_kg(kg_path) if kg_path.is_file() else []:
        ends = []
        for node in (head, tail):
            if node < n_items:
                ends.append((str(node), "Item"))
                continue
            key = str(node)
            if key not in entities:
                entities[key] = {"id": key, "name": None}
                if node in entity_map:
                    entities[key]["org_id"] = entity_map[node][0]
            ends.append((key, "Entity"))
        name = relation_map[relation][0] if relation in relation_map else f"r{relation}"
        triples.append(Triple(ends[0][0], name, ends[1][0], ends[0][1], ends[1][1]))

    dataset = Dataset(
        name=directory.name,
        users=list(users.values()),
        items=list(items.values()),
        entities=list(entities.values()),
        interactions=train + test,
        triples=triples,
    )
    return dataset, train, test


def load_kgat(directory: Path) -> Dataset:
    """The whole KGAT/KGIN dataset (train and test interactions together)."""
    return load_kgat_split(directory)[0]
