"""One text per node, built from its properties, for the sentence encoder.

Pure and deterministic: the same properties always give the same text (attributes are read
in a fixed order), so a text's hash tells whether a stored embedding is still current.
Internal properties (``id``, vectors, hashes) never reach the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

# Properties TailGraph writes itself; they describe nothing about the node.
INTERNAL_PROPERTIES = frozenset({"id", "textEmbedding", "textHash", "embedding", "itemCount"})

_ITEM_KNOWN = ("title", "name", "year", "genres", "categories", "text")
_USER_KNOWN = ("age", "gender", "occupation")
# Profile attributes that carry no meaning a language model can use.
_USER_IGNORED = frozenset({"zip", "zip_code", "zipcode", "postcode", "postal_code"})
_GENDERS = {"m": "male", "f": "female", "male": "male", "female": "female"}
_SPACE = re.compile(r"\s+")


def _clean(value: Any) -> str:
    """A scalar as tidy text: whitespace collapsed, integral floats without ``.0``."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return _SPACE.sub(" ", str(value)).strip()


def _words(value: Any) -> list[str]:
    """A list-or-scalar attribute as a list of non-empty strings."""
    if isinstance(value, (list, tuple)):
        return [word for word in (_clean(v) for v in value) if word]
    word = _clean(value)
    return [word] if word else []


def _is_textual(value: Any) -> bool:
    """Strings and lists of strings are text; numbers, booleans and vectors are not."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(isinstance(v, str) for v in value)
    return False


def _humanise(key: str) -> str:
    """``release_date`` / ``releaseDate`` -> ``Release date``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").strip().lower()
    return spaced[:1].upper() + spaced[1:]


def _sentence(text: str) -> str:
    """End ``text`` with a full stop unless it already ends with punctuation."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _extra_attributes(props: Mapping[str, Any], skip: frozenset[str] | set[str]) -> list[str]:
    """``Key: value.`` for every other textual attribute, in key order."""
    parts = []
    for key in sorted(props):
        if key in skip or key in INTERNAL_PROPERTIES or key.startswith("_"):
            continue
        value = props[key]
        if _is_textual(value):
            parts.append(_sentence(f"{_humanise(key)}: {', '.join(_words(value))}"))
    return parts


def item_text(props: Mapping[str, Any]) -> str | None:
    """``Toy Story (1995). Genres: Animation, Comedy. <description> Director: ...``.

    Title (or name) with its year, genres/categories, the description ``text``, then any other
    textual attribute. None when the item has nothing textual at all.
    """
    parts: list[str] = []
    title = _clean(props.get("title")) or _clean(props.get("name"))
    year = _clean(props.get("year"))
    if title:
        if year and f"({year})" not in title:
            title = f"{title} ({year})"
        parts.append(_sentence(title))
    elif year:
        parts.append(f"Released in {year}.")
    for key in ("genres", "categories"):
        words = _words(props.get(key))
        if words:
            parts.append(_sentence(f"{key.capitalize()}: {', '.join(words)}"))
    description = _clean(props.get("text"))
    if description:
        parts.append(_sentence(description))
    parts.extend(_extra_attributes(props, frozenset(_ITEM_KNOWN)))
    return " ".join(parts) or None


def user_text(props: Mapping[str, Any]) -> str | None:
    """``User, age 24, male, technician.`` from profile attributes; None without a profile."""
    parts: list[str] = []
    age = _clean(props.get("age"))
    if age:
        parts.append(f"age {age}")
    gender = _clean(props.get("gender"))
    if gender:
        parts.append(_GENDERS.get(gender.lower(), gender))
    occupation = _clean(props.get("occupation"))
    if occupation:
        parts.append(occupation)
    for key in sorted(props):
        if key in _USER_KNOWN or key in INTERNAL_PROPERTIES or key.startswith("_"):
            continue
        if key.lower() in _USER_IGNORED or not _is_textual(props[key]):
            continue
        parts.append(f"{_humanise(key).lower()} {', '.join(_words(props[key]))}")
    if not parts:
        return None
    return _sentence("User, " + ", ".join(parts))


def entity_text(props: Mapping[str, Any]) -> str | None:
    """The entity's ``name`` (plus its ``description`` if any); None when it has no name."""
    name = _clean(props.get("name"))
    if not name:
        return None
    description = _clean(props.get("description"))
    return f"{_sentence(name)} {_sentence(description)}" if description else name


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "Item": item_text,
    "User": user_text,
    "Entity": entity_text,
}


def node_text(label: str, props: Mapping[str, Any]) -> str | None:
    """The text for a node of ``label`` (``Item``, ``User`` or ``Entity``); None: no text."""
    try:
        builder = _BUILDERS[label]
    except KeyError:
        known = sorted(_BUILDERS)
        raise ValueError(f"no text builder for label {label!r}; known: {known}") from None
    return builder(props)
