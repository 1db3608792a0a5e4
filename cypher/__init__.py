"""One ``.cypher`` file per query, loaded by name.

Files hold plain Cypher with values only as ``$parameters``. Two kinds of placeholder are
filled in by :func:`render`, never from request data:

- ``{{name}}``: a label or relationship type, checked against an identifier pattern and the
  caller's validated set;
- ``{{vector: expr}}``: the dialect's way of storing the list ``expr`` as a vector.

A file may start with ``//`` comment lines describing purpose, parameters and returns.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from tailgraph.errors import UnknownQueryError
from tailgraph.graph.dialect import Dialect, check_identifier

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^}]+?))?\s*\}\}")


def available() -> list[str]:
    """Names of every query shipped in this folder."""
    return sorted(
        entry.name.removesuffix(".cypher")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".cypher")
    )


@cache
def load(name: str) -> str:
    """Raw text of ``<name>.cypher``."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise UnknownQueryError(f"bad query name {name!r}")
    path = resources.files(__name__) / f"{name}.cypher"
    if not path.is_file():
        raise UnknownQueryError(f"no query named {name!r}; available: {', '.join(available())}")
    return path.read_text(encoding="utf-8")


def header(name: str) -> str:
    """The leading ``//`` comment block of a query (its documentation)."""
    lines = []
    for line in load(name).splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].strip())
    return "\n".join(lines)


LIBRARY_PREFIX = "lib_"  # the data engineers' queries; every other file is internal to the code

_COMMENT = re.compile(r"//[^\n]*")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def library() -> list[str]:
    """Names of the library queries (``lib_*``), the ones written for people to run."""
    return [name for name in available() if name.startswith(LIBRARY_PREFIX)]


def summary(name: str) -> str:
    """The first sentence of a query's ``Purpose:`` header, joined across its lines."""
    text = " ".join(header(name).split())
    text = text.removeprefix("Purpose:").strip()
    for marker in (" Parameters:", " Returns:"):
        text = text.split(marker)[0]
    match = re.search(r"^(.+?\.)(\s|$)", text)
    return (match.group(1) if match else text).strip()


def query_parameters(text: str) -> set[str]:
    """``$parameters`` a query text uses (comments and string literals ignored)."""
    return set(_PARAMETER.findall(_STRING.sub("''", _COMMENT.sub("", text))))


def parameters(name: str) -> set[str]:
    """``$parameters`` the named query needs."""
    return query_parameters(load(name))


def placeholders(name: str) -> set[str]:
    """Identifier placeholders (``{{label}}``) a query needs."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(load(name)) if m.group(1) != "vector"}


def render(
    name: str,
    dialect: Dialect,
    allowed: set[str] | frozenset[str] | None = None,
    **identifiers: str,
) -> str:
    """Query text with placeholders filled; identifiers must be valid (and in ``allowed``)."""

    def substitute(match: re.Match[str]) -> str:
        key, argument = match.group(1), match.group(2)
        if key == "vector":
            if argument is None:
                raise ValueError(f"{name}.cypher: {{{{vector: expr}}}} needs an expression")
            return dialect.vector_value(argument.strip())
        if key not in identifiers:
            raise UnknownQueryError(f"{name}.cypher needs identifier {key!r}")
        return check_identifier(identifiers[key], allowed=allowed)

    return _PLACEHOLDER.sub(substitute, load(name))
