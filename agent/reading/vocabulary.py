"""What the catalog knows about words and names, for reading a reader's message against it.

Built once per catalog file (cached by path and modification time) from the catalog's own rows: the
authors with how much they are read, the shelves, and how often each word occurs in titles, authors and
descriptions. Nothing here is a hand list of phrases: a new catalog brings its own names and words.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from vibeshelf.agent.reading import cues
from vibeshelf.retrieval.title_lookup import title_key
from vibeshelf.text import fold

_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_AUTHOR_TITLES = 3  # best-known books kept per author, to stand for "books like <author>"
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
        for name in sorted(reads, key=lambda n: -reads[n]):
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
            if len(initials) >= 3 and len(parts) >= 2:  # "pkd", "grrm": readers' shorthand
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
        ranked = sorted(zip(titles or [], ratings_counts, authors, strict=False), key=lambda t: -(t[1] or 0))
        series_of = dict(zip(titles or [], series or [], strict=False))
        title_reads: dict[str, int] = {}
        for title, count, names in ranked:
            key = title_key(title or "")
            if key:
                by_title.setdefault(key, title)
                title_authors.setdefault(title, list(names or []))
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

        def opens_series(key: str, title: str | None) -> bool:
            return key not in by_series or first_volume.get(by_series[key], (0, ""))[1] == title

        for title, _, _ in ranked:
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


@lru_cache(maxsize=2)
def _load(path: str, mtime: float) -> Vocabulary:
    import pyarrow.parquet as pq

    table = pq.read_table(
        path, columns=["title", "series", "series_index", "authors", "genres", "description", "ratings_count"]
    )
    rows = table.to_pydict()
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
