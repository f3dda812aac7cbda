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
import unicodedata
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vibeshelf.tools.models import SearchFilters

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


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


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
    words = _WORD.findall(_fold(term).replace("_", " "))
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


def build_where(filters: SearchFilters | None) -> str | None:
    """The SQL ``where`` for LanceDB (DataFusion dialect), or None when nothing is constrained."""
    if filters is None:
        return None
    clauses: list[str] = []
    if filters.year_min is not None:
        clauses.append(f"year >= {int(filters.year_min)}")
    if filters.year_max is not None:
        clauses.append(f"year <= {int(filters.year_max)}")
    if filters.genres_include:
        clauses.append(f"array_has_any(genres, {_sql_list(filters.genres_include)})")
    if filters.genres_all:
        clauses.append(f"array_has_all(genres, {_sql_list(filters.genres_all)})")
    if filters.genres_exclude:
        clauses.append(f"NOT array_has_any(genres, {_sql_list(filters.genres_exclude)})")
    if filters.min_average_rating is not None:
        # float32 storage: 4.3 is stored as 4.2999997; compare with a small tolerance.
        clauses.append(f"average_rating >= {float(filters.min_average_rating) - 1e-4!r}")
    if filters.min_ratings_count is not None:
        clauses.append(f"ratings_count >= {int(filters.min_ratings_count)}")
    if filters.max_ratings_count is not None:
        clauses.append(f"ratings_count <= {int(filters.max_ratings_count)}")
    if filters.min_pages is not None:
        clauses.append(f"num_pages >= {int(filters.min_pages)}")
    if filters.max_pages is not None:
        clauses.append(f"num_pages <= {int(filters.max_pages)}")
    if filters.language:
        codes = language_codes(filters.language)
        ors = [f"lower(language) IN ({', '.join(_sql_str(c) for c in codes)})"]
        ors += [f"lower(language) LIKE {_sql_str(c + '-%')}" for c in codes if len(c) <= 3]
        clauses.append("(" + " OR ".join(ors) + ")")
    if filters.exclude_ids:
        clauses.append(f"id NOT IN ({', '.join(_sql_str(i) for i in filters.exclude_ids)})")
    if filters.exclude_authors:
        patterns = [p for p in (term_pattern(a, plurals=False) for a in filters.exclude_authors) if p]
        if patterns:
            authors = "lower(array_to_string(authors, ' | '))"
            clauses.append(f"NOT regexp_like({authors}, {_sql_str('|'.join(patterns))})")
    if filters.exclude_terms:
        patterns = [p for p in (term_pattern(t) for t in filters.exclude_terms) if p]
        if patterns:
            clauses.append(f"NOT regexp_like({excluded_text_sql()}, {_sql_str('|'.join(patterns))})")
    return " AND ".join(clauses) or None


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
        if filters is None or build_where(filters) is None:
            return None
        cat = self._catalog
        conditions: list[pa.Array | pa.ChunkedArray] = []
        if filters.year_min is not None:
            conditions.append(pc.greater_equal(cat["year"], int(filters.year_min)))
        if filters.year_max is not None:
            conditions.append(pc.less_equal(cat["year"], int(filters.year_max)))
        if filters.min_average_rating is not None:
            threshold = float(filters.min_average_rating) - 1e-4  # float32 storage, as in build_where
            conditions.append(pc.greater_equal(cat["average_rating"], pa.scalar(threshold, pa.float64())))
        if filters.min_ratings_count is not None:
            conditions.append(pc.greater_equal(cat["ratings_count"], int(filters.min_ratings_count)))
        if filters.max_ratings_count is not None:
            conditions.append(pc.less_equal(cat["ratings_count"], int(filters.max_ratings_count)))
        if filters.min_pages is not None:
            conditions.append(pc.greater_equal(cat["num_pages"], int(filters.min_pages)))
        if filters.max_pages is not None:
            conditions.append(pc.less_equal(cat["num_pages"], int(filters.max_pages)))
        if filters.language:
            codes = language_codes(filters.language)
            either = pc.is_in(self._language, value_set=pa.array(codes, pa.string()))
            for code in (c for c in codes if len(c) <= 3):
                either = pc.or_(either, pc.starts_with(self._language, code + "-"))
            conditions.append(either)
        if filters.exclude_ids:
            conditions.append(
                pc.invert(pc.is_in(cat["id"], value_set=pa.array(filters.exclude_ids, pa.string())))
            )
        if filters.exclude_authors:
            patterns = [p for p in (term_pattern(a, plurals=False) for a in filters.exclude_authors) if p]
            if patterns:
                conditions.append(pc.invert(pc.match_substring_regex(self._authors, "|".join(patterns))))
        if filters.exclude_terms:
            patterns = [p for p in (term_pattern(t) for t in filters.exclude_terms) if p]
            if patterns:
                conditions.append(pc.invert(pc.match_substring_regex(self._text, "|".join(patterns))))
        out = np.ones(cat.num_rows, dtype=bool)
        for condition in conditions:
            out &= pc.fill_null(condition, False).to_numpy(zero_copy_only=False)
        if filters.genres_include:
            out &= self._any_genre(filters.genres_include)
        for genre in filters.genres_all or []:
            out &= self._any_genre([genre])
        if filters.genres_exclude:
            out &= ~self._any_genre(filters.genres_exclude)
        return out
