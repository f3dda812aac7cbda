"""SearchFilters -> a LanceDB SQL ``where`` clause, applied as a prefilter to vector and full-text search.

Negative intent is a filter, never query text: ``exclude_terms=["vampire"]`` drops every book whose title,
description or genres mention "vampire" or "vampires" as a word, so "no vampires" cannot retrieve a
vampire novel however close its description is to the rest of the query.

Page bounds (``min_pages`` / ``max_pages``) compare ``num_pages``; a book without a page count fails them,
as a null fails every constraint here. A catalog with no page counts at all (goodbooks, Book-Crossing)
would then return nothing, so the tools first ask ``drop_unknowable_pages``: when the catalog has no
page counts the bounds are left out and ``NO_PAGE_COUNTS_NOTE`` tells the caller why.

Every value reaches SQL either as a number or through ``_sql_str`` (quotes doubled) and terms are reduced
to word characters before they enter a regular expression, so no filter value can change the query's
structure.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vibeshelf.retrieval.search_filters import SearchFilters
from vibeshelf.text import fold

# Language names and ISO 639-1 codes -> the codes catalogs use (goodbooks: ISO 639-2/B plus en-US etc.).
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("en", "eng", "english"),
    "fr": ("fr", "fre", "fra", "french"),
    "es": ("es", "spa", "spanish"),
    "de": ("de", "ger", "deu", "german"),
    "it": ("it", "ita", "italian"),
    "pt": ("pt", "por", "portuguese"),
    "nl": ("nl", "dut", "nld", "dutch"),
    "sv": ("sv", "swe", "swedish"),
    "da": ("da", "dan", "danish"),
    "no": ("no", "nor", "nob", "norwegian"),
    "fi": ("fi", "fin", "finnish"),
    "pl": ("pl", "pol", "polish"),
    "ru": ("ru", "rus", "russian"),
    "ja": ("ja", "jpn", "japanese"),
    "zh": ("zh", "chi", "zho", "chinese"),
    "ko": ("ko", "kor", "korean"),
    "ar": ("ar", "ara", "arabic"),
    "tr": ("tr", "tur", "turkish"),
    "el": ("el", "gre", "ell", "greek"),
    "he": ("he", "heb", "hebrew"),
    "id": ("id", "ind", "indonesian"),
    "fa": ("fa", "per", "fas", "persian"),
    "vi": ("vi", "vie", "vietnamese"),
    "ms": ("ms", "may", "msa", "malay"),
    "la": ("la", "lat", "latin"),
}
_LANGUAGE_ALIASES = {alias: code for code, aliases in _LANGUAGES.items() for alias in aliases}

_WORD = re.compile(r"\w+")
_NON_WORD_CHAR = r"[^\p{L}\p{N}_]"
_NON_WORD = _NON_WORD_CHAR + "+"

# Genre names people (and models) use for Goodreads shelves that string similarity alone misses.
GENRE_ALIASES = {
    "scifi": "science_fiction",
    "sci_fi": "science_fiction",
    "sf": "science_fiction",
    "ya": "young_adult",
    "teen": "young_adult",
    "nonfiction": "non_fiction",
    "kids": "childrens",
    "children": "childrens",
    "comic": "comics",
    "graphic_novel": "graphic_novels",
    "biographies": "biography",
    "memoirs": "memoir",
    "crime_fiction": "crime",
    "whodunit": "mystery",
    "romcom": "contemporary_romance",
    "scary": "horror",
    "self_help": "psychology",
}


def closest_genres(genre: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Known genres a misspelt or informal genre name probably means, best first."""
    known = list(known)
    alias = GENRE_ALIASES.get(genre)
    close = difflib.get_close_matches(genre, known, n=n, cutoff=0.5)
    if alias in known:
        close = [alias, *[c for c in close if c != alias]]
    return close[:n]


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(_sql_str(v) for v in values) + "]"


def _word_forms(word: str) -> str:
    """A regex alternation for a word and its simple plural/singular: vampire(s), story/stories, box(es),
    zombie(s) (an "-ies" plural may come from "-y" or from "-ie": stories, zombies, movies)."""
    if len(word) <= 2 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return f"{word[:-3]}(?:y|ies?)"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return f"{word[:-2]}(?:es)?"
    if word.endswith("s") and not word.endswith("ss"):
        return f"{word[:-1]}s?"
    if word.endswith("y") and word[-2] not in "aeiou":
        return f"{word[:-1]}(?:y|ies)"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return f"{word}(?:es)?"
    return f"{word}s?"


# Catalog text keeps its accents ("Brontë") while people type without them: each plain letter of a
# pattern also accepts its accented forms.
_ACCENTED = {
    "a": "aàáâãäå",
    "e": "eèéêë",
    "i": "iìíîï",
    "o": "oòóôõöø",
    "u": "uùúûü",
    "c": "cç",
    "n": "nñ",
    "y": "yýÿ",
}


def _accent_tolerant(word: str) -> str:
    return "".join(f"[{_ACCENTED[ch]}]" if ch in _ACCENTED else ch for ch in word)


def term_pattern(term: str, *, plurals: bool = True) -> str | None:
    """A word-bounded regex (for lower-cased text) matching the term (and its plural); None if no words."""
    words = _WORD.findall(fold(term).replace("_", " "))
    if not words:
        return None
    forms = [_accent_tolerant(w) for w in words[:-1]]
    last = _word_forms(words[-1]) if plurals else words[-1]
    if plurals:
        # Accent tolerance on the stem only: the plural alternation is plain ASCII regex syntax.
        stem = re.match(r"\w+", last)
        last = _accent_tolerant(stem.group(0)) + last[stem.end() :] if stem else last
    else:
        last = _accent_tolerant(last)
    # Phrases: any run of non-word characters between the words ("time travel", "time-travel").
    # Word edges are spelled out with Unicode classes instead of \b, whose meaning differs between
    # LanceDB's Rust regex (Unicode) and Arrow's RE2 (ASCII: "é" would end a word there).
    inner = _NON_WORD.join([*forms, last])
    return f"(?:^|{_NON_WORD_CHAR})(?:{inner})(?:{_NON_WORD_CHAR}|$)"


def term_regex(term: str, *, plurals: bool = True) -> re.Pattern[str] | None:
    """``term_pattern`` compiled for Python's ``re`` (no ``\\p{..}`` classes there; its Unicode ``\\W`` is
    the same set as ``[^\\p{L}\\p{N}_]``), so Python-side checks agree with the SQL filter."""
    pattern = term_pattern(term, plurals=plurals)
    return re.compile(pattern.replace(_NON_WORD_CHAR, r"\W")) if pattern else None


def excluded_text_sql() -> str:
    """The text a term exclusion searches: title, description and genres (snake_case read as words)."""
    return (
        "lower(concat_ws(' ', title, coalesce(description, ''), "
        "replace(array_to_string(genres, ' '), '_', ' ')))"
    )


def language_codes(language: str) -> tuple[str, ...]:
    """Catalog codes that count as ``language``: 'en' -> en, eng, english (en-US etc. match by prefix)."""
    key = language.strip().lower()
    code = _LANGUAGE_ALIASES.get(key, key.split("-")[0])
    return _LANGUAGES.get(code, (key,))


NO_PAGE_COUNTS_NOTE = "This catalog has no page counts, so the page limit was not applied."


def has_page_counts(catalog: pa.Table) -> bool:
    """Whether any book in ``catalog`` has a page count (goodbooks and Book-Crossing have none)."""
    if "num_pages" not in catalog.schema.names:
        return False
    return catalog["num_pages"].null_count < catalog.num_rows


def drop_unknowable_pages(
    filters: SearchFilters | None, page_counts: bool
) -> tuple[SearchFilters | None, list[str]]:
    """``filters`` less their page bounds when the catalog has no page counts (``page_counts`` False),
    with ``NO_PAGE_COUNTS_NOTE``; otherwise ``filters`` unchanged and no note.

    Applying a page bound there would rule out every book; ignoring it, and saying so, is more useful."""
    if page_counts or filters is None or (filters.min_pages is None and filters.max_pages is None):
        return filters, []
    return filters.model_copy(update={"min_pages": None, "max_pages": None}), [NO_PAGE_COUNTS_NOTE]


# One table of limits drives all three evaluations: the SQL ``where`` (LanceDB), the in-memory mask
# (Arrow) and the check on a single book card (``admits``), so the three cannot drift apart.
LimitKind = Literal[
    "min",
    "max",
    "any_genre",
    "all_genres",
    "no_genre",
    "language",
    "not_ids",
    "any_author",
    "not_authors",
    "not_terms",
]
RATING_TOLERANCE = 1e-4  # float32 storage: 4.3 is stored as 4.2999997


@dataclass(frozen=True)
class Limit:
    field: str  # the SearchFilters field
    kind: LimitKind
    column: str  # the catalog column (and book card key) it tests


LIMITS: tuple[Limit, ...] = (
    Limit("year_min", "min", "year"),
    Limit("year_max", "max", "year"),
    Limit("genres_include", "any_genre", "genres"),
    Limit("genres_all", "all_genres", "genres"),
    Limit("genres_exclude", "no_genre", "genres"),
    Limit("min_average_rating", "min", "average_rating"),
    Limit("min_ratings_count", "min", "ratings_count"),
    Limit("max_ratings_count", "max", "ratings_count"),
    Limit("min_pages", "min", "num_pages"),
    Limit("max_pages", "max", "num_pages"),
    Limit("language", "language", "language"),
    Limit("exclude_ids", "not_ids", "id"),
    Limit("authors_any", "any_author", "authors"),
    Limit("exclude_authors", "not_authors", "authors"),
    Limit("exclude_terms", "not_terms", "text"),
)


def _set_limits(filters: SearchFilters | None) -> list[tuple[Limit, Any]]:
    """The limits ``filters`` sets, with their values (empty lists and nulls set nothing)."""
    if filters is None:
        return []
    out = []
    for limit in LIMITS:
        value = getattr(filters, limit.field)
        if value is not None and value != [] and value != "":
            out.append((limit, value))
    return out


def _threshold(limit: Limit, value: Any) -> float | int:
    if limit.column == "average_rating":
        return float(value) - RATING_TOLERANCE
    return int(value)


def _author_pattern(names: list[str]) -> str | None:
    patterns = [p for p in (term_pattern(a, plurals=False) for a in names) if p]
    return "|".join(patterns) or None


def _terms_pattern(terms: list[str]) -> str | None:
    patterns = [p for p in (term_pattern(t) for t in terms) if p]
    return "|".join(patterns) or None


def build_where(filters: SearchFilters | None) -> str | None:
    """The SQL ``where`` for LanceDB (DataFusion dialect), or None when nothing is constrained."""
    clauses: list[str] = []
    for limit, value in _set_limits(filters):
        kind, column = limit.kind, limit.column
        if kind == "min":
            clauses.append(f"{column} >= {_threshold(limit, value)!r}")
        elif kind == "max":
            clauses.append(f"{column} <= {_threshold(limit, value)!r}")
        elif kind == "any_genre":
            clauses.append(f"array_has_any(genres, {_sql_list(value)})")
        elif kind == "all_genres":
            clauses.append(f"array_has_all(genres, {_sql_list(value)})")
        elif kind == "no_genre":
            clauses.append(f"NOT array_has_any(genres, {_sql_list(value)})")
        elif kind == "language":
            codes = language_codes(value)
            ors = [f"lower(language) IN ({', '.join(_sql_str(c) for c in codes)})"]
            ors += [f"lower(language) LIKE {_sql_str(c + '-%')}" for c in codes if len(c) <= 3]
            clauses.append("(" + " OR ".join(ors) + ")")
        elif kind == "not_ids":
            clauses.append(f"id NOT IN ({', '.join(_sql_str(i) for i in value)})")
        elif kind in ("any_author", "not_authors") and (pattern := _author_pattern(value)):
            authors = "lower(array_to_string(authors, ' | '))"
            negation = "NOT " if kind == "not_authors" else ""
            clauses.append(f"{negation}regexp_like({authors}, {_sql_str(pattern)})")
        elif kind == "not_terms" and (pattern := _terms_pattern(value)):
            clauses.append(f"NOT regexp_like({excluded_text_sql()}, {_sql_str(pattern)})")
    return " AND ".join(clauses) or None


def admits(
    filters: SearchFilters | None, book: Mapping[str, Any], *, unknown_pages_pass: bool = False
) -> bool:
    """Whether one book card (a dict as the tools return it) passes ``filters``: the same limits as
    ``build_where`` and ``CatalogFilter.mask``. A missing value fails a limit on it, as a null does in SQL,
    except page bounds with ``unknown_pages_pass`` (catalogs without page counts; see
    ``drop_unknowable_pages``). Term exclusions read the card's title, description (or excerpt) and
    genres."""
    genres = set(book.get("genres") or [])
    return not any(
        _fails(limit, value, book, genres, unknown_pages_pass) for limit, value in _set_limits(filters)
    )


def _fails(
    limit: Limit, value: Any, book: Mapping[str, Any], genres: set[str], unknown_pages_pass: bool
) -> bool:
    kind, column = limit.kind, limit.column
    if kind in ("min", "max"):
        have = book.get(column)
        if have is None:
            return not (unknown_pages_pass and column == "num_pages")
        return have < _threshold(limit, value) if kind == "min" else have > _threshold(limit, value)
    if kind == "any_genre":
        return not genres & set(value)
    if kind == "all_genres":
        return not set(value) <= genres
    if kind == "no_genre":
        return bool(genres & set(value))
    if kind == "language":
        lang = str(book.get("language") or "").lower()
        codes = language_codes(value)
        return not (lang in codes or any(lang.startswith(c + "-") for c in codes if len(c) <= 3))
    if kind == "not_ids":
        return book.get("id") in set(value)
    if kind in ("any_author", "not_authors"):
        pattern = _author_pattern(value)
        by = bool(pattern and _python_regex(pattern).search(fold(" | ".join(book.get("authors") or []))))
        return by if kind == "not_authors" else not by
    pattern = _terms_pattern(value)  # not_terms
    text = " ".join(
        [
            str(book.get("title") or ""),
            str(book.get("description") or book.get("excerpt") or ""),
            " ".join(g.replace("_", " ") for g in genres),
        ]
    )
    return bool(pattern and _python_regex(pattern).search(fold(text)))


def _python_regex(pattern: str) -> re.Pattern[str]:
    """A ``term_pattern`` alternation for Python's ``re`` (see ``term_regex``)."""
    return re.compile(pattern.replace(_NON_WORD_CHAR, r"\W"))


class CatalogFilter:
    """Evaluates SearchFilters over the in-memory catalog with Arrow compute: one bool per row.

    Same semantics as ``build_where`` (the tests check both on the same cases), about 5x faster than
    LanceDB evaluating the SQL (the term exclusion regex dominates: ~6 ms vs ~25 ms on 10k books), and
    the lower-cased texts it searches are prepared once. A null in a constrained column fails the
    constraint, as in SQL. ``page_counts`` says whether the catalog has any page count at all (see
    ``drop_unknowable_pages``), computed once here.
    """

    def __init__(self, catalog: pa.Table) -> None:
        self._catalog = catalog
        self.page_counts = has_page_counts(catalog)
        genres_text = pc.replace_substring(pc.binary_join(catalog["genres"], " "), "_", " ")
        description = pc.fill_null(catalog["description"], "")
        self._text = pc.utf8_lower(
            pc.binary_join_element_wise(catalog["title"], description, genres_text, " ")
        )
        self._authors = pc.utf8_lower(pc.binary_join(catalog["authors"], " | "))
        self._language = pc.utf8_lower(catalog["language"])
        # Row index of every (book, genre) pair, for any-of genre tests without a Python loop.
        self._genre_rows = pc.list_parent_indices(catalog["genres"]).to_numpy()
        self._genre_values = pc.list_flatten(catalog["genres"])

    def _any_genre(self, genres: list[str]) -> np.ndarray:
        hit = pc.is_in(self._genre_values, value_set=pa.array(genres, pa.string())).to_numpy(
            zero_copy_only=False
        )
        out = np.zeros(self._catalog.num_rows, dtype=bool)
        out[self._genre_rows[hit]] = True
        return out

    def mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Rows passing ``filters``; None when nothing is constrained."""
        limits = _set_limits(filters)
        if not limits:
            return None
        cat = self._catalog
        out = np.ones(cat.num_rows, dtype=bool)
        for limit, value in limits:
            kind, column = limit.kind, limit.column
            condition: pa.Array | pa.ChunkedArray | None = None
            if kind == "min":
                condition = pc.greater_equal(cat[column], pa.scalar(_threshold(limit, value)))
            elif kind == "max":
                condition = pc.less_equal(cat[column], pa.scalar(_threshold(limit, value)))
            elif kind == "any_genre":
                out &= self._any_genre(value)
            elif kind == "all_genres":
                for genre in value:
                    out &= self._any_genre([genre])
            elif kind == "no_genre":
                out &= ~self._any_genre(value)
            elif kind == "language":
                codes = language_codes(value)
                condition = pc.is_in(self._language, value_set=pa.array(codes, pa.string()))
                for code in (c for c in codes if len(c) <= 3):
                    condition = pc.or_(condition, pc.starts_with(self._language, code + "-"))
            elif kind == "not_ids":
                condition = pc.invert(pc.is_in(cat["id"], value_set=pa.array(value, pa.string())))
            elif kind == "any_author" and (pattern := _author_pattern(value)):
                condition = pc.match_substring_regex(self._authors, pattern)
            elif kind == "not_authors" and (pattern := _author_pattern(value)):
                condition = pc.invert(pc.match_substring_regex(self._authors, pattern))
            elif kind == "not_terms" and (pattern := _terms_pattern(value)):
                condition = pc.invert(pc.match_substring_regex(self._text, pattern))
            if condition is not None:
                out &= pc.fill_null(condition, False).to_numpy(zero_copy_only=False)
        return out
