"""Grounding: the final answer may only name books that tools returned in this conversation.

Title mentions are found two ways: formatted spans (``**bold**``, ``*italic*``, ``"quoted"``, “curly”,
``[link text](...)``, headings) and the plain ``Title by Author`` pattern. Each candidate that looks
like a title is compared, by the catalog's own title key (case, accents, articles and series suffixes
folded), with the titles, series and authors the tools returned, plus anything the reader wrote.
HTML tags are stripped first (``**<b>Title</b>**`` is the title ``Title``), and a title written with
an author ("**Dune** by Frank Herbert") must be that author's book: a returned title under another
author's name, or the reader's own words under any author they did not name, is invented. An unknown
title takes its whole list item, heading section or paragraph with it, and is logged.

:class:`StreamingGrounder` applies the same rules to a text stream one line at a time, so the answer
still streams while nothing invented ever reaches the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
# "Title by Firstname Lastname": the author is 1-4 capitalised words (initials allowed).
_BY_AUTHOR = re.compile(r"\s+by\s+(?=[A-Z])((?:[A-Z][\w.'’\-]*\.?)(?:\s+[A-Z][\w.'’\-]*){0,3})")
_MARKUP = re.compile(r"[*_\[\]#`]")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
# The author written right after a formatted title: "**Dune** by Frank Herbert", "*Dune*, by F. Herbert".
_AUTHOR_AFTER = re.compile(
    r"^[*_\"”’\])]*\s*,?\s*(?:—|-|–)?\s*by\s+(?=[A-Z])((?:[A-Z][\w.'’\-]*\.?)(?:\s+[A-Z][\w.'’\-]*){0,3})"
)


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
            after = _AUTHOR_AFTER.match(line[end:])
            author = after.group(1) if after else None
        found.append(Mention(text.strip(), start, end, author))

    heading = _HEADING.match(line)
    if heading:
        add(_MARKUP.sub("", heading.group(1)), heading.start(1), heading.end(1))
    for pattern in _SPANS:
        for m in pattern.finditer(line):
            add(m.group(1), m.start(), m.end())
    for m in _BY_AUTHOR.finditer(line):
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


@dataclass
class Grounder:
    """What may be named: tool-returned titles, their series and authors, and the reader's own words."""

    titles: dict[str, str] = field(default_factory=dict)  # title key -> display title
    authors_of: dict[str, set[str]] = field(default_factory=dict)  # title key -> folded author names
    other_names: set[str] = field(default_factory=set)  # folded authors, series, genres
    user_text: str = ""  # folded, for "since you loved <title you named>"
    removed: list[str] = field(default_factory=list)

    def add_book(
        self, title: str, authors: Iterable[str] = (), series: str | None = None, genres: Iterable[str] = ()
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
            for k in keys:
                self.authors_of.setdefault(k, set()).update(fold(a) for a in authors if fold(a))
        for name in [*authors, *(g.replace("_", " ") for g in genres), series or ""]:
            # Folded and title-keyed, so "the Kingkiller Chronicle" matches "Kingkiller Chronicle".
            self.other_names.update(k for k in (fold(name), title_key(name)) if k)

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
        """Title-like mentions in ``line`` that name no known book (or name it under another author)."""
        line = strip_html(line)
        return [
            m
            for m in title_mentions(line)
            if looks_like_title(m.text) and not self.is_known(m.text, m.author)
        ]

    def ground_line(self, line: str) -> str | None:
        """The line without HTML tags, or None when it names an invented title (the line goes whole)."""
        line = strip_html(line)
        bad = self.invented(line)
        if not bad:
            return line
        for m in bad:
            log.warning("grounding: removed invented title %r", m.text)
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
