"""What the catalog knows about words and names, for reading a reader's message against it.

Built once per catalog file (cached by path and modification time) from the catalog's own rows: the
authors with how much they are read, the shelves, and how often each word occurs in titles, authors and
descriptions. Nothing here is a hand list of phrases: a new catalog brings its own names and words.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vibeshelf.agent.reading import cues
from vibeshelf.retrieval.title_lookup import title_key
from vibeshelf.text import fold

_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_AUTHOR_TITLES = 3  # best-known books kept per author, to stand for "books like <author>"
_MAIN_SHELVES = 3  # shelves kept per title: the ones most readers put it on, first in the catalog
# Readers abbreviate only names famous enough for the letters to be recognised ("pkd", "grrm"): initials
# stand for the most read fifth of the authors, so chat shorthand ("btw", "lmk") names no little-read one.
_INITIALISM_SHARE = 0.2
_WORD = re.compile(r"[a-z][a-z'’]*[a-z]|[a-z]")
_LOWERCASE_WORD = re.compile(r"(?<![\w'’])[a-z]{3,}(?![\w'’])")


def words(text: str) -> list[str]:
    """Folded words of ``text``, a possessive "'s" dropped ("Gaiman's" -> "gaiman")."""
    out = []
    for w in _WORD.findall(fold(text).replace("’", "'")):
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w.strip("'"))
    return [w for w in out if w]


def name_key(name: str) -> str:
    """An author's name as matched: folded words, initials run together ("J.R.R. Tolkien" -> "jrr tolkien")."""
    out: list[str] = []
    initials = False
    for part in words(name.replace(".", " ")):
        if len(part) == 1 and initials:
            out[-1] += part
        else:
            out.append(part)
        initials = len(part) == 1
    return " ".join(out)


_PIECE = 4  # characters in one indexed piece of a key (3 in keys too short for four)


class NearKeys:
    """Keys to match a near spelling against, and the few worth scoring for a given text.

    Scoring a text against every key (rapidfuzz over ~14k author names, for each pair of words of a message)
    was most of the CPU of reading a new message. A key within ``d`` edits of a text keeps at least one of
    ``d + 1`` disjoint pieces of itself unchanged in the text (each edit breaks at most one piece), so each
    key is indexed by ``d + 1`` pieces, ``d`` the most edits its length allows, and only keys sharing a
    piece with the text are scored. ``near`` keeps every key whose ``fuzz.ratio`` with the text reaches
    ``min_ratio`` or whose Levenshtein distance to it is at most 1, in the keys' order: scoring those finds
    the same best match as scoring all.
    """

    def __init__(self, keys: Iterable[str], min_ratio: float) -> None:
        self.keys = list(keys)
        # fuzz.ratio >= c means indel edits d <= r * (len(text) + len(key)), r = 1 - c/100; as the text is
        # at most len(key) + d long, d <= 2r/(1 - r) * len(key). Margins here and below cover float rounding.
        self._r = r = 1.0 - min_ratio / 100.0
        share = 2.0 * r / (1.0 - r)
        pieces: list[tuple[int, int]] = []  # (hash of a piece, position of its key)
        short: list[tuple[int, int]] = []  # (length, position) of keys too short for their pieces
        for i, key in enumerate(self.keys):
            # At least two pieces: one edit is also what a Levenshtein distance of 1 allows.
            count = max(1, math.floor(len(key) * share + 0.01)) + 1
            step = len(key) // count
            if step < 3:
                short.append((len(key), i))
                continue
            size = min(_PIECE, step)
            pieces += [(hash(key[j * step : j * step + size]), i) for j in range(count)]
        # Pieces as sorted hashes and their keys' positions (numpy, ~12 bytes a piece: a dict of strings
        # took 5 MB). Two pieces with one hash only make an extra key scored, never one missed.
        pieces.sort()
        self._hashes = np.array([h for h, _ in pieces], dtype=np.int64)
        self._owners = np.array([i for _, i in pieces], dtype=np.int32)
        short.sort()
        self._short_lengths = [length for length, _ in short]
        self._short = [i for _, i in short]

    def near(self, text: str) -> list[str]:
        """The keys that may be close enough to ``text`` (all that are, some that are not), in order."""
        # A short key is scored only when long enough: ratio needs len(key) >= len(text) * (1 - r) / (1 + r).
        shortest = min(len(text) - 1, math.ceil(len(text) * (1.0 - self._r) / (1.0 + self._r) - 0.01))
        found = self._short[bisect.bisect_left(self._short_lengths, shortest) :]
        hashes = [hash(text[a : a + size]) for size in (3, _PIECE) for a in range(len(text) - size + 1)]
        if hashes:
            wanted = np.array(hashes, dtype=np.int64)
            starts = np.searchsorted(self._hashes, wanted, "left")
            ends = np.searchsorted(self._hashes, wanted, "right")
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                if b > a:
                    found += self._owners[a:b].tolist()
        return [self.keys[i] for i in sorted(set(found))]


@dataclass
class Vocabulary:
    """Shelves, authors (with popularity) and word frequencies of one catalog."""

    shelves: frozenset[str] = frozenset()
    author_reads: dict[str, int] = field(default_factory=dict)  # display name -> ratings over their books
    word_counts: Counter[str] = field(default_factory=Counter)
    lowercase_counts: Counter[str] = field(default_factory=Counter)  # written in lower case mid-text
    by_full: dict[str, str] = field(default_factory=dict)  # name_key -> display name
    by_surname: dict[str, list[str]] = field(default_factory=dict)  # last word -> names, most read first
    titles: dict[str, str] = field(default_factory=dict)  # title_key -> the most read title with that key
    series: dict[str, str] = field(default_factory=dict)  # title_key of a series name -> the series name
    series_first: dict[str, str] = field(default_factory=dict)  # series name -> the title of its first book
    title_authors: dict[str, list[str]] = field(default_factory=dict)  # title -> its most read book's authors
    # title -> its most read book's main shelves (the first few it is shelved under)
    title_shelves: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # author -> their best-known titles, one per series
    author_titles: dict[str, list[str]] = field(default_factory=dict)
    title_reads: dict[str, int] = field(default_factory=dict)  # title -> ratings of its most read book
    shelf_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (a, b), a < b -> books on both

    @classmethod
    def build(
        cls,
        shelves: list[list[str]],
        authors: list[list[str]],
        ratings_counts: list[int | None],
        texts: list[str],
        titles: list[str] | None = None,
        series: list[str | None] | None = None,
        series_index: list[float | None] | None = None,
    ) -> Vocabulary:
        reads: dict[str, int] = defaultdict(int)
        for names, count in zip(authors, ratings_counts, strict=True):
            for name in names or []:
                reads[name] += int(count or 0)
        counts: Counter[str] = Counter()
        lowercase: Counter[str] = Counter()
        for text in texts:
            counts.update(words(text))
            lowercase.update(_LOWERCASE_WORD.findall(text))
        by_full: dict[str, str] = {}
        by_surname: dict[str, list[str]] = defaultdict(list)
        famous = max(1, int(len(reads) * _INITIALISM_SHARE))
        for rank, name in enumerate(sorted(reads, key=lambda n: -reads[n])):
            key = name_key(name)
            if not key:
                continue
            if len(key.split()) >= 3 and key.split()[-1] in _NAME_SUFFIXES:
                # "Kurt Vonnegut Jr." is "Kurt Vonnegut" and "Vonnegut" to readers.
                by_full.setdefault(key, name)
                key = key.rsplit(" ", 1)[0]
            by_full.setdefault(key, name)
            by_full.setdefault(" ".join(words(name)), name)
            parts = key.split()
            if len(parts) >= 3 and len(parts[0]) > 1:  # "Sarah J. Maas" is also "sarah maas"
                by_full.setdefault(f"{parts[0]} {parts[-1]}", name)
            if len(parts) >= 2 and len(parts[0]) > 1 and parts[0][0] not in "aio":
                # "S. King", "N Gaiman": a given name as its initial ("a", "i", "o" would be words)
                by_full.setdefault(f"{parts[0][0]} {parts[-1]}", name)
            if len(parts) >= 3:  # "McCall Smith", "Le Guin": a surname of two words
                by_full.setdefault(" ".join(parts[-2:]), name)
            # From the unmerged words, so "George R.R. Martin" gives "grrm", not "grm".
            initials = "".join(w[0] for w in words(name.replace(".", " ")))
            if len(initials) >= 3 and len(parts) >= 2 and rank < famous:  # "pkd", "grrm": readers' shorthand
                by_full.setdefault(initials, name)
            parts = key.split()
            if len(parts[-1]) >= 3:
                by_surname[parts[-1]].append(name)
            if len(parts) >= 3 and parts[-2] in cues.name_particles():  # "du maurier", "le carre"
                by_surname[" ".join(parts[-2:])].append(name)
        by_title: dict[str, str] = {}
        title_authors: dict[str, list[str]] = {}
        author_titles: dict[str, list[str]] = {}
        author_series: dict[str, set[str]] = defaultdict(set)
        title_shelves: dict[str, tuple[str, ...]] = {}
        ranked = sorted(
            zip(titles or [], ratings_counts, authors, shelves, strict=False), key=lambda t: -(t[1] or 0)
        )
        series_of = dict(zip(titles or [], series or [], strict=False))
        title_reads: dict[str, int] = {}
        for title, count, names, on in ranked:
            key = title_key(title or "")
            if key:
                by_title.setdefault(key, title)
                title_authors.setdefault(title, list(names or []))
                title_shelves.setdefault(title, tuple(sys.intern(s) for s in (on or [])[:_MAIN_SHELVES]))
                title_reads.setdefault(title, int(count or 0))
            if title and names:
                # A reader who likes an author likes their best-known books: the most read ones, one per
                # series (three Harry Potters say less than they seem). The first name is the writer.
                best = author_titles.setdefault(names[0], [])
                saga = series_of.get(title)
                if (
                    len(best) < _AUTHOR_TITLES
                    and title not in best
                    and not (saga and saga in author_series[names[0]])
                ):
                    best.append(title)
                    if saga:
                        author_series[names[0]].add(saga)
        by_series: dict[str, str] = {}
        first_volume: dict[str, tuple[float, str]] = {}
        indexes = series_index or [None] * len(series or [])
        for name, index, title in zip(series or [], indexes, titles or [], strict=False):
            key = title_key(name or "")
            if key and len(key) >= 4:
                by_series.setdefault(key, name or "")
                rank = index if index is not None else 1e9
                if name and title and (name not in first_volume or rank < first_volume[name][0]):
                    first_volume[name] = (rank, title)

        # A series is also said by its head ("percy jackson" for "Percy Jackson and the Olympians"): the words
        # before "and the" (two at least; "&" or a colon also part names: "Daughter of Smoke & Bone"), when no
        # title or other series is said so, and of the series sharing a head the one with most books.
        volumes = Counter(name for name in series or [] if name)
        heads: dict[str, str] = {}
        for name in sorted(volumes, key=lambda n: -volumes[n]):
            head = _SERIES_HEAD.split(name, maxsplit=1)[0]
            key = title_key(head)
            if head != name and len(key.split()) >= 2 and key not in by_series and key not in by_title:
                heads.setdefault(key, name)
            # ... and by what it is of ("narnia" for "The Chronicles of Narnia"; not a short word: "Nick",
            # "Blood").
            of = cues.series_of().fullmatch(name)
            key = title_key(of["of"]) if of else ""
            if len(key) >= 6 and key not in by_series and key not in by_title:
                heads.setdefault(key, name)
        for key, name in heads.items():
            by_series.setdefault(key, name)

        def opens_series(key: str, title: str | None) -> bool:
            return key not in by_series or first_volume.get(by_series[key], (0, ""))[1] == title

        for title, *_ in ranked:
            # A title is also said by its main part ("good omens" for "Good Omens: The Nice and Accurate
            # Prophecies of ..."), unless another book's whole title is that, or a series whose first volume
            # it is not ("Harry Potter" is the series, not "Harry Potter: Film Wizardry").
            main = (title or "").split(":", 1)[0]
            if main != title and (key := title_key(main)) and opens_series(key, title):
                by_title.setdefault(key, title)
            # A first volume is also said without its number ("Maus" for "Maus I: A Survivor's Tale").
            first = re.sub(r"\s+(?:i|1|one|vol 1|volume 1|volume one|book 1|book one)$", "", title_key(main))
            if first and first != title_key(main) and opens_series(first, title):
                by_title.setdefault(first, title)
        pairs: Counter[tuple[str, str]] = Counter()
        for row in shelves:
            on = sorted(set(row or []))
            pairs.update((a, b) for i, a in enumerate(on) for b in on[i + 1 :])
        return cls(
            shelf_pairs=pairs,
            titles=by_title,
            series=by_series,
            series_first={name: title for name, (_, title) in first_volume.items()},
            title_authors=title_authors,
            title_shelves=title_shelves,
            title_reads=title_reads,
            author_titles=author_titles,
            shelves=frozenset(s for row in shelves for s in row or []),
            author_reads=dict(reads),
            word_counts=counts,
            lowercase_counts=lowercase,
            by_full=by_full,
            by_surname=dict(by_surname),
        )

    def books_on_both(self, a: str, b: str) -> int:
        return self.shelf_pairs.get((a, b) if a < b else (b, a), 0)

    def shelf_words(self) -> set[str]:
        return {w for s in self.shelves for w in s.split("_") if len(w) >= 4}

    def is_common_word(self, word: str) -> bool:
        """Whether ``word`` is ordinary English in this catalog's text, i.e. often written in lower case
        (so "king" alone is not an author, while "tolkien" is)."""
        return self.lowercase_counts.get(word, 0) >= 10


_EMPTY = Vocabulary()


def empty_vocabulary() -> Vocabulary:
    return _EMPTY


_SERIES_HEAD = re.compile(r"\s+(?:and|&)\s+the\s+", re.IGNORECASE)
_COLUMNS = ["title", "series", "series_index", "authors", "genres", "description", "ratings_count"]
# Catalog files whose rows are already in memory: path -> (the file's sha256, the table holding its rows).
_SHARED: dict[str, tuple[str, weakref.ref[Any]]] = {}


def share_catalog(catalog: Path, table: Any, sha256: str | None) -> None:
    """Let the vocabulary of ``catalog`` be built from ``table``, its rows already in memory (the searcher's
    catalog, read from an index built from the file whose digest is ``sha256``), instead of reading the
    file again: decoding the whole Parquet file left ~40 MB more resident in the server for good.

    Used only while the file still has that digest, the same schema for the columns read and the same
    books in the same order; otherwise the file is read as before. The table is held weakly (an old index's
    catalog is not kept alive by this)."""
    if sha256:
        _SHARED[str(catalog)] = (sha256, weakref.ref(table))


def _same_type(a: Any, b: Any) -> bool:
    """Types whose values read back alike (a list's item field may be named "item" or "element")."""
    import pyarrow as pa

    if pa.types.is_list(a) and pa.types.is_list(b):
        return bool(a.value_type == b.value_type)
    return bool(a == b)


def _shared_rows(path: str) -> dict[str, list[Any]] | None:
    import hashlib

    import pyarrow.parquet as pq

    sha256, ref = _SHARED.get(path, ("", lambda: None))
    table = ref()
    if table is None:
        return None
    try:
        if hashlib.sha256(Path(path).read_bytes()).hexdigest() != sha256:
            return None
        schema = pq.read_schema(path)
        if not all(
            c in table.column_names and _same_type(table.schema.field(c).type, schema.field(c).type)
            for c in _COLUMNS
        ):
            return None
        # The ids in the file's order, streamed on this thread (reading the column whole costs ~10 MB).
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024, columns=["id"], use_threads=False)
        if [i for batch in batches for i in batch.column(0).to_pylist()] != table["id"].to_pylist():
            return None
    except (OSError, KeyError, ValueError):
        return None
    return {c: table[c].to_pylist() for c in _COLUMNS}


@lru_cache(maxsize=2)
def _load(path: str, mtime: float) -> Vocabulary:
    rows = _shared_rows(path)
    if rows is None:
        import pyarrow.parquet as pq

        rows = pq.read_table(path, columns=_COLUMNS).to_pydict()
    texts = [
        " ".join([title or "", " ".join(names or []), desc or ""])
        for title, names, desc in zip(rows["title"], rows["authors"], rows["description"], strict=True)
    ]
    return Vocabulary.build(
        rows["genres"],
        rows["authors"],
        rows["ratings_count"],
        texts,
        rows["title"],
        rows["series"],
        rows["series_index"],
    )


def catalog_vocabulary(catalog: Path | None) -> Vocabulary:
    """The vocabulary of the catalog file (rebuilt when the file changes); empty without one."""
    if catalog is None:
        return _EMPTY
    try:
        mtime = catalog.stat().st_mtime
    except OSError:
        return _EMPTY
    return _load(str(catalog), mtime)
