"""Title/author lookup: an exact title finds the book; a near miss gets up to 7 "did you mean" suggestions.

Titles are compared as normalised keys, precomputed once: accents folded, case folded, apostrophes
dropped, other punctuation turned into spaces, "&" read as "and", a leading article ("the", "a", "an")
dropped, and the series suffix split off ("The Hunger Games (The Hunger Games, #1)" and "hunger games"
share a key). Near misses are scored with rapidfuzz when it is installed (difflib otherwise).
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
from pydantic import BaseModel

from vibeshelf.series_title import split_series
from vibeshelf.text import fold as accent_fold

try:  # rapidfuzz is ~100x faster than difflib on a 10k-title catalog; difflib keeps it optional
    from rapidfuzz import fuzz, process
except ImportError:  # pragma: no cover - exercised only where rapidfuzz is absent
    fuzz = None
    process = None

MAX_SUGGESTIONS = 7
# Below this similarity (0-100) a title is not offered as "did you mean".
SUGGEST_CUTOFF = 60.0

_ARTICLES = ("the ", "a ", "an ")
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w]+")
_SERIES_HINT = re.compile(r"\s*(?:#\s*\d+(?:\.\d+)?|\b(?:book|vol(?:ume)?|part)\s+\d+)\s*$", re.IGNORECASE)


# Both are pure functions of the text, called for the same titles on every answer (the grounder keys each
# returned book and every line of the answer): cached, bounded.
@functools.lru_cache(maxsize=4_096)
def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free text with single spaces."""
    text = accent_fold(text).replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


@functools.lru_cache(maxsize=4_096)
def title_key(title: str) -> str:
    """The comparison key of a title: series suffix and leading article removed, folded."""
    plain = split_series(title).title
    plain = _SERIES_HINT.sub("", plain) or plain
    key = fold(plain)
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            key = key[len(article) :]
            break
    # Small numbers as words, so "Ready Player 1" and "Ready Player One" share a key.
    return _DIGIT.sub(lambda m: _NUMBER_WORDS[int(m.group(0))], key)


_EDITION_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def work_key(title: str) -> str:
    """The key of the work a title names, whatever its edition: ``title_key`` without a trailing note in
    parentheses ("The Firm (Penguin Readers, Level 5)" is "The Firm")."""
    return title_key(_EDITION_NOTE.sub("", title) or title)


_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_DIGIT = re.compile(r"(?<![\w.,])(?:1[0-2]|[0-9])(?![\w.,])")


class TitleMatch(BaseModel):
    book_id: str
    title: str
    full_title: str
    authors: list[str]
    year: int | None = None
    ratings_count: int | None = None
    score: float  # 0-100 similarity of the title (and author, when one was given)


class LookupResult(BaseModel):
    query: str
    author: str | None = None
    exact: bool  # True when the title matched a book's title exactly (after normalisation)
    matches: list[TitleMatch]  # exact matches (best first), or "did you mean" suggestions


@dataclass(slots=True)
class _Book:
    id: str
    title: str
    full_title: str
    authors: list[str]
    year: int | None
    ratings_count: int
    author_keys: list[str] = field(default_factory=list)


class TitleLookup:
    """Precomputed keys over a catalog; ``find`` and ``autocomplete`` are read-only and thread-safe."""

    def __init__(self, books: Iterable[_Book]) -> None:
        self._books: list[_Book] = list(books)
        self._by_key: dict[str, list[int]] = {}
        self._keys: list[str] = []  # one entry per distinct key, for fuzzy matching
        self._key_books: list[list[int]] = []
        for i, book in enumerate(self._books):
            book.author_keys = [fold(a) for a in book.authors]
            for key in {title_key(book.title), title_key(book.full_title)}:
                if key:
                    self._by_key.setdefault(key, []).append(i)
        for key, idx in self._by_key.items():
            idx.sort(key=lambda i: -self._books[i].ratings_count)
            self._keys.append(key)
            self._key_books.append(idx)
        # Sorted (key, book, score) triples for prefix autocomplete: a title or author name starting
        # with the text scores 100, a later word of the title (or an author surname) 90.
        triples = [(k, i, 100.0) for k, idx in self._by_key.items() for i in idx]
        triples += [(a, i, 100.0) for i, b in enumerate(self._books) for a in b.author_keys if a]
        for i, b in enumerate(self._books):
            words = title_key(b.title).split(" ")
            triples += [(" ".join(words[w:]), i, 90.0) for w in range(1, len(words)) if len(words[w]) > 3]
            triples += [(a.split(" ")[-1], i, 90.0) for a in b.author_keys if " " in a]
        triples.sort()
        # Typed arrays, not lists of ints and floats: the server keeps this for its lifetime.
        self._prefix_keys = [t[0] for t in triples]
        self._prefix_books = array("i", (t[1] for t in triples))
        self._prefix_scores = array("f", (t[2] for t in triples))

    @classmethod
    def from_table(cls, table: pa.Table) -> TitleLookup:
        """Build from a catalog table (``CATALOG_SCHEMA`` columns; extra columns are ignored)."""
        cols = table.select(["id", "title", "full_title", "authors", "year", "ratings_count"]).to_pydict()
        books = (
            _Book(
                id=cols["id"][i],
                title=cols["title"][i] or "",
                full_title=cols["full_title"][i] or cols["title"][i] or "",
                authors=list(cols["authors"][i] or []),
                year=cols["year"][i],
                ratings_count=int(cols["ratings_count"][i] or 0),
            )
            for i in range(table.num_rows)
        )
        return cls(books)

    def __len__(self) -> int:
        return len(self._books)

    def keys(self) -> list[str]:
        """The distinct normalised title keys."""
        return list(self._keys)

    def _match(self, i: int, score: float) -> TitleMatch:
        b = self._books[i]
        return TitleMatch(
            book_id=b.id,
            title=b.title,
            full_title=b.full_title,
            authors=b.authors,
            year=b.year,
            ratings_count=b.ratings_count,
            score=round(score, 1),
        )

    def _author_score(self, i: int, author_key: str) -> float:
        keys = self._books[i].author_keys
        if not keys:
            return 0.0
        if fuzz is not None:
            return max(fuzz.token_set_ratio(author_key, k) for k in keys)
        return max(100 * difflib.SequenceMatcher(None, author_key, k).ratio() for k in keys)

    def find(self, title: str, author: str | None = None, limit: int = MAX_SUGGESTIONS) -> LookupResult:
        """Exact title (narrowed by author, if given) -> those books; else up to ``limit`` suggestions."""
        key = title_key(title)
        author_key = fold(author) if author else ""
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        if not key:
            return LookupResult(query=title, author=author, exact=False, matches=[])

        exact = self._by_key.get(key, [])
        if author_key:
            exact = [i for i in exact if self._author_score(i, author_key) >= 80]
        if exact:
            return LookupResult(
                query=title,
                author=author,
                exact=True,
                matches=[self._match(i, 100.0) for i in exact[:limit]],
            )

        scored: dict[int, float] = {}
        for cand_key, similarity in self._similar_keys(key):
            for i in self._key_books[cand_key]:
                score = similarity
                if author_key:
                    # Title and author weigh equally once the user names an author.
                    score = 0.5 * similarity + 0.5 * self._author_score(i, author_key)
                if score >= SUGGEST_CUTOFF and score > scored.get(i, -1.0):
                    scored[i] = score
        if author_key:
            # A right author with a vague title still deserves a suggestion: their best-known books.
            for i, b in enumerate(self._books):
                if i not in scored and any(a == author_key for a in b.author_keys):
                    scored[i] = 50.0 + 0.5 * self._title_similarity(key, title_key(b.title))
        ranked = sorted(scored, key=lambda i: (-scored[i], -self._books[i].ratings_count))
        return LookupResult(
            query=title,
            author=author,
            exact=False,
            matches=[self._match(i, scored[i]) for i in ranked[:limit]],
        )

    @staticmethod
    def _title_similarity(query: str, candidate: str) -> float:
        """0-100: edit similarity, or word-set overlap when the query's words are all in the candidate.

        A candidate that covers the query ("harry potter" -> "harry potter and the ...") scores up to 95;
        one that only covers part of it ("hunger games" -> "hunger") at most 80.
        """
        if fuzz is None:
            return 100 * difflib.SequenceMatcher(None, query, candidate).ratio()
        overlap = fuzz.token_set_ratio(query, candidate) * (0.95 if len(candidate) >= len(query) else 0.8)
        return max(fuzz.ratio(query, candidate), fuzz.token_sort_ratio(query, candidate), overlap)

    def _similar_keys(self, key: str, top: int = 40) -> list[tuple[int, float]]:
        """(index into the distinct keys, similarity 0-100) of the keys nearest ``key``."""
        if process is not None:
            # Two fast native passes find candidates (word overlap, typos); the finer score ranks them.
            found = {
                i for _, _, i in process.extract(key, self._keys, scorer=fuzz.token_set_ratio, limit=top)
            }
            found |= {i for _, _, i in process.extract(key, self._keys, scorer=fuzz.ratio, limit=top // 2)}
            scored = [(i, self._title_similarity(key, self._keys[i])) for i in found]
            return [(i, s) for i, s in scored if s >= SUGGEST_CUTOFF]
        close = difflib.get_close_matches(key, self._keys, n=top, cutoff=SUGGEST_CUTOFF / 100)
        index = {k: i for i, k in enumerate(self._keys)}
        return [(index[k], 100 * difflib.SequenceMatcher(None, key, k).ratio()) for k in close]

    def autocomplete(self, text: str, limit: int = 10) -> list[TitleMatch]:
        """Books whose title, author or author surname starts with ``text``, most-rated first."""
        q = fold(text)
        if not q:
            return []
        qk = title_key(text) or q
        found: dict[int, float] = {}
        for prefix in {q, qk}:
            lo = bisect.bisect_left(self._prefix_keys, prefix)
            hi = bisect.bisect_right(self._prefix_keys, prefix + "\uffff")
            for j in range(lo, hi):
                i = self._prefix_books[j]
                found[i] = max(found.get(i, 0.0), self._prefix_scores[j])
        ranked = sorted(found, key=lambda i: (-found[i], -self._books[i].ratings_count))
        return [self._match(i, found[i]) for i in ranked[:limit]]
