"""Titles as people read them, and the ways a text can name one (one rule for every route)."""

from __future__ import annotations

import re

ARTICLES = ("the", "a", "an", "les", "la", "le", "il", "das", "der", "die", "el")
TRAILING_ARTICLE = re.compile(r"^(?P<title>.+), (?P<article>" + "|".join(ARTICLES) + r")$", re.I)
_YEAR = re.compile(r"\s*\(\d{4}\)$")


def display_title(title: str | None, year: object = None) -> str | None:
    """MovieLens' trailing article moved to the front ("Godfather, The" -> "The Godfather")
    and the year appended unless the title already ends with it, so namesakes differ."""
    if not title:
        return title
    match = TRAILING_ARTICLE.match(title.strip())
    shown = f"{match['article']} {match['title']}" if match else title.strip()
    if year not in (None, "") and not shown.endswith(f"({year})"):
        shown = f"{shown} ({year})"
    return shown


def title_variants(title: str) -> set[str]:
    """Lower-case ways a text names a title: as stored, without a trailing year, and with a
    trailing article moved to the front or dropped ("godfather, the" -> "the godfather")."""
    base = title.strip().lower()
    variants = {base, _YEAR.sub("", base)}
    for variant in list(variants):
        moved = TRAILING_ARTICLE.match(variant)
        if moved:
            variants |= {f"{moved['article']} {moved['title']}", moved["title"]}
    return {v for v in variants if len(v) >= 3}
