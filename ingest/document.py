"""The text a book is embedded as: title, series, authors, genres and description in one passage.

Books without a description (63% of goodbooks) still get a text that says what the book is, so
they still have a meaningful vector. Descriptions come last: the encoder truncates at its
max_seq_len, and the short identifying fields must survive that.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

import pyarrow as pa

_SPACE = re.compile(r"\s+")
# Enough genres to say what the book is; long shelf lists mostly repeat themselves.
MAX_GENRES = 8


def _clean(text: str | None) -> str:
    return _SPACE.sub(" ", text).strip() if text else ""


def genre_label(genre: str) -> str:
    """``young_adult`` -> ``young adult`` (how genres read in documents and the FTS column)."""
    return _clean(genre.replace("_", " ").replace("-", " "))


def _series_label(series: str | None, series_index: float | None) -> str:
    series = _clean(series)
    if not series:
        return ""
    if series_index is None:
        return series
    number = int(series_index) if float(series_index).is_integer() else series_index
    return f"{series} #{number}"


def compose_document(
    title: str,
    *,
    series: str | None = None,
    series_index: float | None = None,
    authors: Sequence[str] | None = None,
    genres: Sequence[str] | None = None,
    description: str | None = None,
) -> str:
    """One passage describing the book, e.g.
    ``"Catching Fire (The Hunger Games #2) by Suzanne Collins. Genres: young adult, dystopia. <blurb>"``.
    """
    head = _clean(title) or "Untitled"
    series_text = _series_label(series, series_index)
    if series_text and series_text.lower() != head.lower():
        head = f"{head} ({series_text})"
    names = [_clean(a) for a in authors or () if _clean(a)]
    if names:
        head = f"{head} by {', '.join(names)}"
    parts = [head + "."]
    labels = list(dict.fromkeys(genre_label(g) for g in genres or () if genre_label(g)))[:MAX_GENRES]
    if labels:
        parts.append(f"Genres: {', '.join(labels)}.")
    blurb = _clean(description)
    if blurb:
        parts.append(blurb)
    return " ".join(parts)


def compose_documents(catalog: pa.Table) -> list[str]:
    """``compose_document`` for every row of a catalog table (schema ``CATALOG_SCHEMA``)."""
    columns = {
        name: catalog.column(name).to_pylist()
        for name in ("title", "series", "series_index", "authors", "genres", "description")
    }
    return [
        compose_document(
            title,
            series=series,
            series_index=series_index,
            authors=authors,
            genres=genres,
            description=description,
        )
        for title, series, series_index, authors, genres, description in zip(*columns.values(), strict=True)
    ]


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def authors_text(authors: Iterable[str] | None) -> str:
    return ", ".join(_clean(a) for a in authors or () if _clean(a))


def genres_text(genres: Iterable[str] | None) -> str:
    return " ".join(genre_label(g) for g in genres or () if genre_label(g))
