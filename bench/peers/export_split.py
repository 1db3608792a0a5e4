"""Export one fixed train/valid/test split to RecBole atomic benchmark files.

Peers (RecBole's LightGCN, KGAT, KGIN) must train and be tested on exactly the
split TailGraph uses, so the split is written out instead of letting RecBole
draw its own. Standard library only: importable from TailGraph's virtualenv and
from the RecBole one (``bench/peers/.venv``).

Files written under ``<out_dir>/<name>/`` (RecBole's ``benchmark_filename``
layout, tab-separated, one header line of ``field:type``):

- ``<name>.train.inter``, ``<name>.valid.inter``, ``<name>.test.inter``:
  ``user_id:token  item_id:token``
- ``<name>.kg``: ``head_id:token  relation_id:token  tail_id:token``
- ``<name>.link``: ``item_id:token  entity_id:token``

CLI (the handoff from TailGraph's evaluator is one JSON file, schema in
README.md)::

    python bench/peers/export_split.py split.json --out-dir bench/peers/work/data
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

INTER_HEADER = ("user_id:token", "item_id:token")
KG_HEADER = ("head_id:token", "relation_id:token", "tail_id:token")
LINK_HEADER = ("item_id:token", "entity_id:token")
PARTS = ("train", "valid", "test")

# RecBole reads atomic files with pandas.read_csv(sep="\t"): a tab or line break
# would split a field, and a leading double quote would start a quoted field.
_FORBIDDEN = ("\t", "\n", "\r", '"')


def export_recbole_benchmark(
    out_dir: Path,
    name: str,
    train: Iterable[Sequence[str]],
    valid: Iterable[Sequence[str]],
    test: Iterable[Sequence[str]],
    triples: Iterable[Sequence[str]],
    links: Iterable[Sequence[str]],
) -> Path:
    """Write the split, KG triples and item-entity links as RecBole atomic files.

    ``train``/``valid``/``test`` hold ``(user_id, item_id)`` pairs, ``triples``
    ``(head, relation, tail)`` and ``links`` ``(item_id, entity_id)``; all ids are
    strings. Returns the dataset directory ``<out_dir>/<name>``. Raises
    ``ValueError`` on a malformed row (wrong arity, empty or non-string id, or a
    character RecBole's reader cannot round-trip) or an empty train/test part.
    """
    _check_token(name, "name", 0)
    if "/" in name or name in {".", ".."}:
        raise ValueError(f"dataset name must be a plain file name, got {name!r}")
    dataset_dir = Path(out_dir) / name
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    # Written into a scratch folder first, so a bad row never leaves a half-new dataset.
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    try:
        counts = {}
        for part, rows in zip(PARTS, (train, valid, test), strict=True):
            counts[part] = _write_atomic(scratch / f"{name}.{part}.inter", INTER_HEADER, rows, part)
        for part in ("train", "test"):
            if counts[part] == 0:
                raise ValueError(f"the {part} part of split {name!r} is empty")
        _write_atomic(scratch / f"{name}.kg", KG_HEADER, triples, "triples")
        _write_atomic(scratch / f"{name}.link", LINK_HEADER, links, "links")
        dataset_dir.mkdir(exist_ok=True)
        for path in scratch.iterdir():
            path.replace(dataset_dir / path.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dataset_dir


def _write_atomic(
    path: Path, header: tuple[str, ...], rows: Iterable[Sequence[str]], what: str
) -> int:
    """Write one atomic file (header then rows) and return the number of rows."""
    width = len(header)
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(header) + "\n")
        for n, row in enumerate(rows, start=1):
            if isinstance(row, str) or len(row) != width:
                raise ValueError(f"{what} row {n}: expected {width} ids, got {row!r}")
            for value in row:
                _check_token(value, what, n)
            f.write("\t".join(row) + "\n")
    return n


def _check_token(value: object, what: str, row: int) -> None:
    """Reject ids that are not non-empty strings RecBole can read back unchanged."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"{what} row {row}: id must be a non-empty trimmed string: {value!r}")
    if any(c in value for c in _FORBIDDEN):
        raise ValueError(f"{what} row {row}: id contains a tab, line break or quote: {value!r}")


def export_from_json(split_file: Path, out_dir: Path, name: str | None = None) -> Path:
    """Export a split handed over as JSON (schema in README.md); returns the dataset dir."""
    with Path(split_file).open(encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{split_file}: top level must be a JSON object")
    missing = [k for k in ("name", *PARTS) if k not in data]
    if missing:
        raise ValueError(f"{split_file}: missing keys {missing}")
    return export_recbole_benchmark(
        out_dir,
        name or data["name"],
        data["train"],
        data["valid"],
        data["test"],
        data.get("triples", []),
        data.get("links", []),
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: JSON split file in, RecBole atomic files out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("split_json", type=Path, help="split file (schema in README.md)")
    parser.add_argument("--out-dir", type=Path, required=True, help="RecBole data_path")
    parser.add_argument("--name", help="dataset name (default: the JSON's 'name')")
    args = parser.parse_args(argv)
    dataset_dir = export_from_json(args.split_json, args.out_dir, args.name)
    for path in sorted(dataset_dir.iterdir()):
        with path.open(encoding="utf-8") as f:
            rows = sum(1 for _ in f) - 1
        print(f"{path}\t{rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
