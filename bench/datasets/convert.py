"""Convert the public datasets of bench/README (Datasets) from their mirrored Git snapshots.

Each source is read with ``git show <commit>:<path>`` from a snapshot under ``/work/.mirror``
(brought by the ``fetch`` tool), pinned to the commit below, and written into the git-ignored
``data/datasets/<name>/`` in a format ``tailgraph ingest`` / ``tailgraph evaluate --dataset``
reads. Nothing here is committed data; rerunning gives byte-identical files::

    .venv/bin/python bench/datasets/convert.py            # every dataset
    .venv/bin/python bench/datasets/convert.py lastfm-kg  # one
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIRROR = Path("/work/.mirror")
OUT = ROOT / "data" / "datasets"


@dataclass(frozen=True)
class Source:
    """One file of a mirrored repository at a pinned commit."""

    repo: str  # owner+name, as the mirror names the folder
    commit: str
    path: str

    def read(self, mirror: Path) -> bytes:
        folder = mirror / self.repo / "repo"
        git_dir = folder if (folder / "objects").is_dir() else folder / ".git"
        result = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{self.commit}:{self.path}"],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(
                f"cannot read {self.path} at {self.commit[:10]} from {git_dir}: "
                f"{result.stderr.decode().strip()} (fetch github:{self.repo.replace('+', '/')})"
            )
        return result.stdout


KGCN = ("hwwang55+KGCN", "2363ca2ddc66a79860629b2e0ec6ad23c57697c8")
HETREC = ("DarakhTech+lastfm-dataset", "bee00fcda694e80855c878307ac0e27881d31fd5")
ML_LATEST = ("IvanValBozhanin+RecSys", "e09f7c0eb90c33749e2cc198035848182393823b")


def _write(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def ml_latest_small(mirror: Path, out: Path) -> dict[str, int]:
    """MovieLens ml-latest-small (2018 release: 610 users, 9,742 movies, titles and genres, no
    KG), copied as GroupLens ships it; the MovieLens loader reads ratings.csv and movies.csv."""
    target = out / "ml-latest-small"
    for name in ("ratings.csv", "movies.csv", "README.txt"):
        _write(target, name, Source(*ML_LATEST, f"ml-latest-small/{name}").read(mirror))
    ratings = (target / "ratings.csv").read_text().splitlines()[1:]
    return {"interactions": len(ratings), "users": len({r.split(",")[0] for r in ratings})}


def lastfm_kg(mirror: Path, out: Path) -> dict[str, int]:
    """Last.fm (HetRec 2011) with KGCN's Microsoft Satori KG: KGCN's ``data/music`` (the
    user-artist listening pairs, its artist -> entity map and KG triples) with the artist names
    of HetRec's ``artists.dat`` as item titles, in the CSV layout. As in KGCN, only artists in
    its entity map are kept and every listened pair is a positive (no ratings, no times)."""
    read = {
        name: Source(*KGCN, f"data/music/{name}").read(mirror).decode("utf-8")
        for name in ("user_artists.dat", "item_index2entity_id.txt", "kg.txt")
    }
    names_file = Source(*HETREC, "hetrec2011-lastfm-2k/artists.dat").read(mirror).decode("utf-8")
    entity_of: dict[str, str] = {}  # artist id -> KG entity id
    for line in read["item_index2entity_id.txt"].splitlines():
        artist, entity = line.strip().split("\t")
        entity_of[artist] = entity
    item_of = {entity: artist for artist, entity in entity_of.items()}
    names = {}
    for line in names_file.splitlines()[1:]:
        fields = line.split("\t")
        names[fields[0]] = fields[1].strip()
    interactions = [["user_id", "item_id"]]
    pairs = set()
    for line in read["user_artists.dat"].splitlines()[1:]:
        user, artist, _weight = line.strip().split("\t")
        if artist in entity_of and (user, artist) not in pairs:
            pairs.add((user, artist))
            interactions.append([f"u{user}", artist])
    items = [["item_id", "title"]] + [[a, names.get(a, "")] for a in sorted(entity_of, key=int)]
    triples = [["head", "relation", "tail", "head_type", "tail_type"]]
    for line in read["kg.txt"].splitlines():
        head, relation, tail = line.strip().split("\t")
        ends = []
        for node in (head, tail):
            ends.append((item_of[node], "Item") if node in item_of else (f"e{node}", "Entity"))
        triples.append([ends[0][0], relation, ends[1][0], ends[0][1], ends[1][1]])
    target = out / "lastfm-kg"
    _write(target, "interactions.csv", _csv(interactions))
    _write(target, "items.csv", _csv(items))
    _write(target, "triples.csv", _csv(triples))
    return {
        "interactions": len(interactions) - 1,
        "users": len({u for u, _ in pairs}),
        "items": len(items) - 1,
        "named_items": sum(1 for _, title in items[1:] if title),
        "triples": len(triples) - 1,
    }


CONVERTERS = {"ml-latest-small": ml_latest_small, "lastfm-kg": lastfm_kg}


def digest(directory: Path) -> str:
    """sha256 over the converted files (name and bytes), to check a rerun is identical."""
    h = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(CONVERTERS)} (default all)")
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(CONVERTERS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {', '.join(CONVERTERS)}")
    for name in args.names or CONVERTERS:
        counts = CONVERTERS[name](args.mirror, args.out)
        record = {"dataset": name, **counts, "sha256": digest(args.out / name)}
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
