"""Grounding: the final answer may only name books that tools returned in this conversation.

Title mentions are found two ways: formatted spans (``**bold**``, ``*italic*``, ``"quoted"``, “curly”,
``[link text](...)``, headings) and the plain ``Title by Author`` pattern. Each candidate that looks
like a title is compared, by the catalog's own title key (case, accents, articles and series suffixes
folded), with the titles, series and authors the tools returned, plus anything the reader wrote.
HTML tags are stripped first (``**<b>Title</b>**`` is the title ``Title``), and a title written with
an author ("**Dune** by Frank Herbert") must be that author's book: a returned title under another
author's name, or the reader's own words under any author they did not name, is invented. So is a
returned title on a line that states its rating, number of readers or publication year other than its
tool result did (see :func:`figure_claims`). An unknown title takes its whole list item, heading section
or paragraph with it, and is logged.

:class:`StreamingGrounder` applies the same rules to a text stream one line at a time, so the answer
still streams while nothing invented ever reaches the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from vibeshelf.agent.reading import cues
from vibeshelf.retrieval.title_lookup import fold, title_key

log = logging.getLogger(__name__)

# Formatted spans that may hold a title. Italic/underscore spans must not touch word characters, so
# snake_case genre names and "5*4" are not spans.
_SPANS = [
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])"),
    re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])"),
    re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"),
    re.compile(r'"([^"\n]{2,200})"'),
    re.compile(r"“([^”\n]{2,200})”"),
    re.compile(r"\[([^\]\n]{2,200})\]\("),
]
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d{1,2}[.)])\s+")
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*+•])\s+")


# "Title by Firstname Lastname": the author is 1-4 capitalised words (initials allowed), with the lower-case
# particles of a surname between them ("Daphne du Maurier", "Machado de Assis").
@cache
def _author() -> str:
    particle = "|".join(sorted(cues.name_particles()))
    return rf"(?:[A-Z][\w.'’\-]*\.?)(?:\s+(?:(?:{particle})\s+)*[A-Z][\w.'’\-]*){{0,3}}"


@cache
def _by_author() -> re.Pattern[str]:
    return re.compile(rf"\s+by\s+(?=[A-Z])({_author()})")


_MARKUP = re.compile(r"[*_\[\]#`]")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")


# The author written right after a formatted title: "**Dune** by Frank Herbert", "*Dune*, by F. Herbert".
@cache
def _author_after() -> re.Pattern[str]:
    return re.compile(rf"^[*_\"”’\])]*\s*,?\s*(?:—|-|–)?\s*by\s+(?=[A-Z])({_author()})")


def strip_html(text: str) -> str:
    """``text`` without HTML tags (a model's ``<b>``/``<i>``/``<br>`` around or inside a title)."""
    return _HTML_TAG.sub("", text) if "<" in text else text


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Small words a title may contain uncapitalised ("The Name of the Wind").
_MINOR = _word_set(
    "a an and as at but by for from in into nor of on or over the to up upon via with vs "
    "de la le les du des el y und der die das"
)
# Capitalised words that open a non-title bold/quoted label or a "Verb by Author" phrase.
_NOT_TITLE = _word_set(
    "note notes tip tips why what how bonus summary rating ratings genre genres theme themes author "
    "authors year years pick picks recommendation recommendations warning caveat also highly popular "
    "written published edited translated illustrated narrated followed inspired loved recommended "
    "praised beloved adored admired reviewed rated read told created penned authored co-written "
    "books book novels novel stories series fans readers everything anything something nothing "
    "classic classics fiction nonfiction non-fiction fantasy romance mystery thriller horror"
)
_BY_STOP = _word_set(
    "i you we they he she it this that these those its his her their my your our here there "
    "if when while since because although though so then try consider"
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if w]


def looks_like_title(text: str) -> bool:
    """Title Case with letters: "The Name of the Wind" yes; "cozy and sad", "Why it fits", "4.5" no."""
    text = _NUMBERING.sub("", text).strip(" \t,;.!?")
    if not re.search(r"[A-Za-z]", text) or len(text) > 150 or text.endswith(":"):
        return False
    words = _words(text)
    first = next((w for w in words if re.search(r"[A-Za-z0-9]", w)), "")
    if not first or not (first[0].isupper() or first[0].isdigit() or first[0] in "\"“'‘("):
        return False
    if len(words) == 1 and fold(first) in _NOT_TITLE:
        return False
    major = [w for w in words if w.lower().strip("\"“”'‘’(),.:;!?") not in _MINOR]
    if not major:
        return False
    capitalised = sum(1 for w in major if w.lstrip("\"“'‘(")[:1].isupper() or w[:1].isdigit())
    return capitalised / len(major) >= 0.75 and fold(words[0]) not in _NOT_TITLE - {"the"}


@dataclass
class Mention:
    text: str
    start: int
    end: int
    author: str | None = None  # the author written with it ("... by Frank Herbert"), if any


def title_mentions(line: str) -> list[Mention]:
    """Candidate title spans in one line of markdown (not yet checked against anything)."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def add(text: str, start: int, end: int, author: str | None = None) -> None:
        if any(s <= start < e or s < end <= e for s, e in taken):
            return
        taken.append((start, end))
        if author is None:
            after = _author_after().match(line[end:])
            author = after.group(1) if after else None
        found.append(Mention(text.strip(), start, end, author))

    heading = _HEADING.match(line)
    if heading:
        add(_MARKUP.sub("", heading.group(1)), heading.start(1), heading.end(1))
    for pattern in _SPANS:
        for m in pattern.finditer(line):
            add(m.group(1), m.start(), m.end())
    for m in _by_author().finditer(line):
        # Walk back from " by" over title-cased words (minor words allowed inside) to find the title.
        before = line[: m.start()]
        tokens = _words(_MARKUP.sub(" ", before))
        picked: list[str] = []
        for token in reversed(tokens):
            bare = token.strip("\"“”'‘’(),:;")
            if not bare:
                break
            if bare[0].isupper() or bare[0].isdigit() or (bare.lower() in _MINOR and picked):
                picked.append(token)
                if token.endswith((".", "!", "?", ":", ";")) and len(picked) > 1:
                    picked.pop()
                    break
            else:
                break
        while picked and picked[-1].strip("\"“”'‘’(),") in _MINOR:
            picked.pop()  # a title does not start with a lower-case "of"/"and" left over from the prose
        while picked and picked[-1].strip("\"“”'‘’(),").lower() in _BY_STOP:
            picked.pop()
        title = " ".join(reversed(picked)).strip("\"“”'‘’(),:; ")
        if not title or fold(_words(title)[0]) in _NOT_TITLE or fold(_words(title)[0]) in _BY_STOP:
            continue
        start = max(before.rfind(title), 0)
        add(title, start, m.end(), m.group(1))
    return found


def _figure_words() -> dict[str, str]:
    """Each role of ``data/figure_words.tsv`` as one regex alternation, longest phrase first."""
    text = resources.files("vibeshelf.agent").joinpath("data", "figure_words.tsv").read_text(encoding="utf-8")
    by_role: dict[str, list[str]] = {}
    for row in text.splitlines():
        if row.strip() and not row.startswith("#"):
            role, phrase = row.split("\t")
            by_role.setdefault(role, []).append(phrase.strip().lower())
    return {
        role: "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))
        for role, phrases in by_role.items()
    }


_FW = _figure_words()
# "over 200,000", "nearly 4": a bound or a rounded value rather than the figure itself.
_BOUND = rf"(?:(?P<at_least>{_FW['at_least']})|(?P<at_most>{_FW['at_most']})|(?P<about>{_FW['about']}))\s*"
_RATING_NUMBER = r"(?<![\d.,])(?P<num>[0-5](?:\.\d{1,2})?)(?!\d|[.,]\d)(?P<plus>\+)?"
_AFTER_BOUND = rf"(?:\s+(?:(?P<or_more>{_FW['or_more']})|(?P<or_less>{_FW['or_less']}))(?![\w]))?"
_RATING_CLAIMS = [
    re.compile(
        rf"(?<![\w'])(?:{_FW['rating_before']})\s*(?:{_BOUND})?{_RATING_NUMBER}(?![\w]){_AFTER_BOUND}", re.I
    ),
    re.compile(
        rf"(?:(?<![\w']){_BOUND})?{_RATING_NUMBER}\s*(?:{_FW['rating_after']})(?![\w]){_AFTER_BOUND}", re.I
    ),
]
_READERS_CLAIM = re.compile(
    rf"(?:(?<![\w']){_BOUND})?(?<![\d.,])(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?)"
    rf"(?:\s*(?P<thousand>{_FW['thousand']})|\s*(?P<million>{_FW['million']}))?(?!\w|,\d)(?P<plus>\+)?"
    rf"\s+(?:{_FW['readers_after']})(?![\w]){_AFTER_BOUND}",
    re.I,
)
_YEAR = r"(?P<year>(?:1\d|20)\d{2})"
_LAST_YEAR = r"(?:\s*[-–—]\s*(?P<last>(?:1\d|20)\d{2}))?"  # "1954–1955": a span of years
_YEAR_CLAIM = re.compile(rf"(?<![\w'])(?:{_FW['year_before']})\s+{_YEAR}{_LAST_YEAR}(?![\w])", re.I)
# A year in brackets right after a title (and its author) is that book's: "**Saturday** by Ian McEwan (2005)",
# "(1954-1955)"; a bracketed year elsewhere on the line may be another book's.
_YEAR_AFTER_TITLE = re.compile(rf"^[*_\"”’\])]*\s*,?\s*\({_YEAR}{_LAST_YEAR}\)")


@dataclass(frozen=True)
class FigureClaim:
    """A figure an answer states of a book, as the range its true value must fall in."""

    kind: str  # "rating", "readers" or "year"
    low: float
    high: float
    said: tuple[float, ...] = ()  # the numbers as written ("1954–1955": both)


def _bounded(
    m: re.Match[str], value: float, bound_slack: float, slack: float, about_slack: float
) -> tuple[float, float]:
    """The range a matched figure allows: a bound ("over", "4+", "or higher") is open on one side; a value
    written round ("12,000", "rated 4") or said to be about it is as far off as its rounding allows."""
    if m.group("at_least") or m.group("plus") or m.group("or_more"):
        return value - bound_slack, float("inf")
    if m.group("at_most") or m.group("or_less"):
        return float("-inf"), value + bound_slack
    if m.group("about"):
        slack = max(slack, about_slack)
    return value - slack, value + slack


def _written_unit(number: str) -> float:
    """The unit of the last digit as written: 1 for "8,843", 1000 for "12,000", 0.1 for "45.6"."""
    digits = number.replace(",", "")
    if "." in digits:
        return 10.0 ** -len(digits.split(".")[1])
    return 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 1.0


def figure_claims(line: str) -> list[FigureClaim]:
    """The ratings, numbers of readers and publication years ``line`` states (markup already stripped)."""
    claims: list[FigureClaim] = []
    for pattern in _RATING_CLAIMS:
        for m in pattern.finditer(line):
            said = float(m.group("num"))
            # "rated 4" is rounded to a whole star, "3.44" to a hundredth; shown ratings round to 0.1.
            slack = max(0.06, _written_unit(m.group("num")) / 2)
            claims.append(FigureClaim("rating", *_bounded(m, said, 0.06, slack, 0.15), (said,)))
    for m in _READERS_CLAIM.finditer(line):
        scale = 1_000 if m.group("thousand") else 1_000_000 if m.group("million") else 1
        said = float(m.group("num").replace(",", "")) * scale
        if scale == 1 and said < 100:
            continue  # "12 people" is rarely a book's count of readers
        # "12,000 readers" and "45.6k" are rounded: as far off as half the last digit written.
        unit = _written_unit(m.group("num")) * scale
        near = max(50.0, 0.02 * said)
        claims.append(
            FigureClaim("readers", *_bounded(m, said, near, max(near, unit / 2), 0.1 * said), (said,))
        )
    for m in _YEAR_CLAIM.finditer(line):
        claims.append(_year_claim(m))
    return claims


def _year_claim(m: re.Match[str]) -> FigureClaim:
    first = int(m.group("year"))
    last = int(m.group("last")) if m.group("last") else first
    # An edition's year and the original's differ by one now and then.
    return FigureClaim("year", first - 1, last + 1, (first, last) if last != first else (first,))


def year_after_title(line: str, mention: Mention) -> FigureClaim | None:
    """The year bracketed right after ``mention`` (and the author written with it), if any."""
    after = line[mention.end :]
    author = _author_after().match(after)  # "**Dune** by Frank Herbert (1965)"
    if author:
        after = after[author.end() :]
    m = _YEAR_AFTER_TITLE.match(after) or re.search(rf"\({_YEAR}{_LAST_YEAR}\)\s*$", mention.text)
    return _year_claim(m) if m else None


@dataclass(frozen=True)
class BookFacts:
    """What a tool result said of a book, to check the figures an answer states about it."""

    year: int | None = None
    average_rating: float | None = None
    ratings_count: int | None = None
    # How many readers of the seed books also rated it highly (readers_also_liked): an answer cites it as
    # "117 readers who enjoyed Big Little Lies rated it highly", a count of readers that is not the book's.
    co_readers: frozenset[int] = frozenset()
    book_id: str | None = None

    @classmethod
    def of(cls, book: Mapping[str, Any]) -> BookFacts:
        """The facts of a book card as a tool result gives it (full or slim: ``rating``, ``why`` a line)."""
        why = book.get("why")
        co = why.get("co_readers") if isinstance(why, Mapping) else None
        year, rating, count = (
            book.get("year"),
            book.get("average_rating", book.get("rating")),
            book.get("ratings_count"),
        )
        return cls(
            year if isinstance(year, int) else None,
            float(rating) if isinstance(rating, (int, float)) else None,
            count if isinstance(count, int) else None,
            frozenset({co}) if isinstance(co, int) and co > 0 else frozenset(),
            str(book["id"]) if book.get("id") is not None else None,
        )

    def merged(self, other: BookFacts) -> BookFacts:
        """The same book from two tool results (a search, then readers_also_liked with its co-readers)."""
        return BookFacts(
            self.year if self.year is not None else other.year,
            self.average_rating if self.average_rating is not None else other.average_rating,
            self.ratings_count if self.ratings_count is not None else other.ratings_count,
            self.co_readers | other.co_readers,
            self.book_id,
        )

    def allows(self, claim: FigureClaim) -> bool:
        if claim.kind == "rating":
            return self.average_rating is None or claim.low <= self.average_rating <= claim.high
        if claim.kind == "year":
            return self.year is None or claim.low <= self.year <= claim.high
        # A count of readers may be the book's ratings or, of a readers_also_liked result, its co-readers;
        # unchecked when the result gave no count (a slim result has none).
        if self.ratings_count is None:
            return True
        return any(claim.low <= n <= claim.high for n in (self.ratings_count, *self.co_readers))


@dataclass
class Grounder:
    """What may be named: tool-returned titles, their series and authors, and the reader's own words."""

    titles: dict[str, str] = field(default_factory=dict)  # title key -> display title
    authors_of: dict[str, set[str]] = field(default_factory=dict)  # title key -> folded author names
    other_names: set[str] = field(default_factory=set)  # folded authors, series, genres
    user_text: str = ""  # folded, for "since you loved <title you named>"
    removed: list[str] = field(default_factory=list)
    # title key -> what the tools said of each returned book of that title (editions and namesakes apart),
    # with its folded authors
    facts: dict[str, list[tuple[frozenset[str], BookFacts]]] = field(default_factory=dict)
    # The numbers of the reader's limits, by kind ("year", "rating", "readers"): an answer restating them
    # ("try these (published 1990–2000, rated 4 or higher)") says what was asked, not a book's figures.
    reader_limits: dict[str, set[float]] = field(default_factory=dict)

    def add_book(
        self,
        title: str,
        authors: Iterable[str] = (),
        series: str | None = None,
        genres: Iterable[str] = (),
        facts: BookFacts | None = None,
    ) -> None:
        key = title_key(title)
        authors = list(authors)
        if key:
            self.titles.setdefault(key, title)
            keys = [key]
            # "The Fellowship of the Ring: Part One" is still that book when written without the subtitle.
            main = title_key(re.split(r"[:\u2014]| - ", title)[0])
            if main and len(main) > 3:
                self.titles.setdefault(main, title)
                keys.append(main)
            folded = frozenset(fold(a) for a in authors if fold(a))
            for k in keys:
                self.authors_of.setdefault(k, set()).update(folded)
                if facts is not None:
                    self._add_facts(k, folded, facts)
        for name in [*authors, *(g.replace("_", " ") for g in genres), series or ""]:
            # Folded and title-keyed, so "the Kingkiller Chronicle" matches "Kingkiller Chronicle".
            self.other_names.update(k for k in (fold(name), title_key(name)) if k)

    def _add_facts(self, key: str, authors: frozenset[str], facts: BookFacts) -> None:
        books = self.facts.setdefault(key, [])
        for i, (names, known) in enumerate(books):
            if facts.book_id is not None and known.book_id == facts.book_id:
                books[i] = (names | authors, known.merged(facts))
                return
        books.append((authors, facts))

    def add_reader_limit(self, kind: str, value: float | None) -> None:
        if value is not None:
            self.reader_limits.setdefault(kind, set()).add(float(value))

    def add_user_text(self, text: str) -> None:
        self.user_text += " " + fold(text) + " "

    def _author_fits(self, author: str, names: Iterable[str]) -> bool:
        """``author`` as written names one of ``names`` (folded): by surname, initials and all."""
        words = set(fold(author).split())
        return any(n.split()[-1] in words for n in names if n.split())

    def _said_by_reader(self, text: str) -> bool:
        folded, key = fold(text), title_key(text)
        if folded and f" {folded} " in self.user_text:
            return True
        # The title key drops articles ("The Road" -> "road"): alone, one everyday word is not a title.
        return bool(key) and len(key.split()) > 1 and f" {key} " in self.user_text

    def _variants(self, candidate: str, author: str | None) -> tuple[set[str], str | None]:
        """The ways ``candidate`` may name a title, and the author written with it (if any)."""
        candidate = strip_html(_NUMBERING.sub("", candidate)).strip(" \t,;.!?")
        if author is None:
            by = re.split(r"\s+by\s+", candidate, maxsplit=1)
            if len(by) == 2 and by[1][:1].isupper():
                author = by[1]
        variants = {candidate}
        # "The Hobbit by J.R.R. Tolkien", "Dune (1965)", "Dune: Deluxe Edition", "Dune — Frank Herbert"
        for sep in (r"\s+by\s+", r"\s*\(", r"\s*[:\u2014\u2013]\s*", r"\s+-\s+", r",\s+"):
            head = re.split(sep, candidate, maxsplit=1)[0]
            if head:
                variants.add(head)
        return variants, author

    def _returned(self, variant: str, author: str | None) -> bool:
        """``variant`` is a returned or shown title, by ``author`` when one is written."""
        key = title_key(variant)
        if key not in self.titles:
            return False
        names = self.authors_of.get(key) or set()
        return author is None or not names or self._author_fits(author, names)

    def is_known(self, candidate: str, author: str | None = None) -> bool:
        """True when ``candidate`` names a returned book, author, series or genre, or the reader said it.

        With ``author`` (or "Title by Author" in ``candidate``) the pair must fit: a returned book by
        that author, or a title and author the reader wrote.
        """
        variants, author = self._variants(candidate, author)
        for v in variants:
            key, folded = title_key(v), fold(v)
            if not folded:
                continue
            if self._returned(v, author):
                return True
            if folded in self.other_names or key in self.other_names:
                return True
            if self._said_by_reader(v) and (author is None or self._said_by_reader(author)):
                return True
        return False

    def names_a_returned_book(self, text: str) -> bool:
        """Whether ``text`` names a book a tool returned or the reader was shown (the reader's own words
        do not count: repeating the request is not an answer)."""
        for line in strip_html(text).splitlines():
            for m in title_mentions(line):
                variants, author = self._variants(m.text, m.author)
                if any(self._returned(v, author) for v in variants if fold(v)):
                    return True
        return False

    def invented(self, line: str) -> list[Mention]:
        """Title-like mentions in ``line`` that name no known book (or name it under another author), and
        those of a returned book the line states a figure of (rating, number of readers, publication year)
        that its tool result contradicts: a small model copies the last answer's figures onto new books."""
        line = strip_html(line)
        mentions = title_mentions(line)
        bad = [m for m in mentions if looks_like_title(m.text) and not self.is_known(m.text, m.author)]
        return bad or self._misstated(line, mentions)

    def _misstated(self, line: str, mentions: list[Mention]) -> list[Mention]:
        """Mentions of a returned book whose figures on ``line`` no returned book of that title has."""
        books: dict[str, tuple[list[Mention], list[BookFacts]]] = {}
        for m in mentions:
            found = self._facts_of(m)
            if found is not None:
                books.setdefault(self.titles[found[0]], ([], found[1]))[0].append(m)
        # The figures on a line that names two books (with figures or not) may be either's; only the year
        # bracketed right after each title is surely that title's.
        named_books = {self._returned_key(m) for m in mentions} - {None}
        line_claims = [
            c
            for c in (figure_claims(_MARKUP.sub("", line)) if len(named_books) == 1 else [])
            if not set(c.said) <= self.reader_limits.get(c.kind, set())
        ]
        misstated: list[Mention] = []
        for named, candidates in books.values():
            claims = [*line_claims, *(c for m in named if (c := year_after_title(line, m)) is not None)]
            # Two returned books may share a title (editions, namesakes): the figures must fit one of them.
            if claims and not any(all(f.allows(c) for c in claims) for f in candidates):
                misstated.extend(named)
        return misstated

    def _returned_key(self, mention: Mention) -> str | None:
        """The returned or shown book ``mention`` names (its display title), if it names one."""
        variants, author = self._variants(mention.text, mention.author)
        keys = sorted(title_key(v) for v in variants if fold(v) and self._returned(v, author))
        # The display title: a title written with or without its subtitle is the same book.
        return self.titles[keys[0]] if keys else None

    def _facts_of(self, mention: Mention) -> tuple[str, list[BookFacts]] | None:
        """The title key of the returned book ``mention`` names, and what the tools said of each such book."""
        variants, author = self._variants(mention.text, mention.author)
        for v in sorted(variants, key=len, reverse=True):  # the fullest title first: "Dune: Deluxe", "Dune"
            if not (fold(v) and self._returned(v, author)):
                continue
            key = title_key(v)
            fitting = [
                f
                for names, f in self.facts.get(key, [])
                if author is None or not names or self._author_fits(author, names)
            ]
            if fitting:
                return key, fitting
        return None

    def ground_line(self, line: str) -> str | None:
        """The line without HTML tags, or None when it names an invented title or misstates a returned
        book's figures (the line goes whole)."""
        line = strip_html(line)
        bad = self.invented(line)
        if not bad:
            return line
        for m in bad:
            why = (
                "invented title"
                if not self.is_known(m.text, m.author)
                else "figures its tool result contradicts"
            )
            log.warning("grounding: removed %r (%s)", m.text, why)
            self.removed.append(m.text)
        return None

    def ground(self, text: str) -> str:
        """Ground a whole text (see :class:`StreamingGrounder` for the rules on what goes with a title)."""
        stream = StreamingGrounder(self)
        return stream.feed(text) + stream.flush()


@dataclass
class StreamingGrounder:
    """Feed text deltas, get back text that is safe to show; whole lines are released at a time."""

    grounder: Grounder
    _buffer: str = ""
    _skip_indent: int | None = None  # dropping an item's continuation lines (indented deeper than this)
    _skip_section: bool = False  # dropping a section under a removed heading
    _skip_paragraph: bool = False  # dropping the rest of a paragraph that named an invented book
    _blank_pending: bool = False
    _emitted_any: bool = False

    def feed(self, delta: str) -> str:
        self._buffer += delta
        if "\n" not in self._buffer:
            return ""
        complete, self._buffer = self._buffer.rsplit("\n", 1)
        return "".join(self._line(line, newline=True) for line in complete.split("\n"))

    def flush(self) -> str:
        rest, self._buffer = self._buffer, ""
        return self._line(rest, newline=False) if rest else ""

    def _line(self, line: str, *, newline: bool) -> str:
        if not line.strip():
            self._skip_indent = None
            self._skip_paragraph = False
            if self._emitted_any:
                self._blank_pending = True
            return ""
        indent = len(line) - len(line.lstrip())
        if self._skip_section:
            if not _HEADING.match(line):
                return ""
            self._skip_section = False
        if self._skip_indent is not None:
            if indent > self._skip_indent and not _LIST_ITEM.match(line):
                return ""
            self._skip_indent = None
        if self._skip_paragraph:
            if not (_LIST_ITEM.match(line) or _HEADING.match(line)):
                return ""
            self._skip_paragraph = False
        grounded = self.grounder.ground_line(line)
        if grounded is None:
            item = _LIST_ITEM.match(line)
            if _HEADING.match(line):
                self._skip_section = True
            elif item:
                self._skip_indent = len(item.group(1))
            else:
                self._skip_paragraph = True  # its paragraph's next lines would be orphans
            return ""
        out = ("\n" if self._blank_pending else "") + grounded + ("\n" if newline else "")
        self._blank_pending = False
        self._emitted_any = True
        return out
