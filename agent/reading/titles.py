"""Book titles in a reader's words, linked to the catalog's titles ("just finished the name of the wind").

A span links when its title key (series suffix and leading article dropped, folded) is a catalog title's
and it reads as a title rather than ordinary words: three words or more, or two with a capital or right
after "like"/"read"..., or one uncommon word written with a capital or "the" ("The Martian", "Dune").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from vibeshelf.agent.reading import cues
from vibeshelf.agent.reading.authors import AuthorMention
from vibeshelf.agent.reading.vocabulary import NearKeys, Vocabulary, fold
from vibeshelf.retrieval.title_lookup import title_key

_TOKEN = re.compile(r"[\w][\w'’&:!.-]*")
_MAX_WORDS = 10
_MAX_TITLE_WORDS = 8  # words looked at before "by <author>"
_BY_BEFORE = re.compile(r"\bby\s+$", re.IGNORECASE)
_TITLE_WORD = re.compile(r"[\w'’]+")
_LEAD = re.compile(
    r"(?:like|loved?|read|done|did|finished|enjoyed|adored|than|of|about|to|similar to|not|no|nothing|but|and|or)"
    r"\W*$",
    re.IGNORECASE,
)
# Where a noun phrase ends: "the road, ..." or "the road and ...", not "the road trip" or "the end of it".
_PHRASE_END = re.compile(
    r"\s*(?:[,.;:!?)]|$)|\s+(?:and|but|so|n|&|which|last|yesterday|over|this)\b", re.IGNORECASE
)
_LIKE_LEAD = re.compile(r"(?:like|loved?|finished|enjoyed|adored|similar to)\W*$", re.IGNORECASE)
_READ_LEAD = re.compile(r"(?:read|done|(?:already|just) did|finished)\W*$", re.IGNORECASE)
_HAVE_LEAD = re.compile(r"\b(?:got|has|have|own|owns|read|done|finished)\s+$", re.IGNORECASE)
_ALREADY_AFTER = re.compile(r"\s+already\b", re.IGNORECASE)
# "... and i want more like it": a later "it" that the reader wants more of points back at a book.
_MORE_LIKE_IT = re.compile(
    r"\b(?:more|something|anything|others?|books?|ones?|stuff)\s+(?:\w+\s+)?(?:like|similar to)\s+(?:it|that|this)\b",
    re.IGNORECASE,
)
_NOT_A_TITLE_START = frozenset(
    {"on", "in", "at", "to", "for", "with", "about", "from", "of", "by", "and", "or"}
)
_TIME_PREPOSITIONS = frozenset({"on", "at", "until", "till", "since"})
_LIST_GAP = re.compile(r"\s*(?:,|&|\+|/)?\s*(?:and|or|n|nor)?\s*", re.IGNORECASE)
_GAP_BEFORE = re.compile(r"(?:\s*,\s*(?:and\s+|&\s+|or\s+)?|\s+(?:and|&|n|or)\s+)$", re.IGNORECASE)
_NEAR_CUE = re.compile(r"(?:^|\b(?:like|loved?|read|reread|finished|adored|enjoyed)\b)\s*", re.IGNORECASE)
_NEAR_SIMILARITY = 92.0
_THE_BEFORE = re.compile(r"(?<!\w)the\s+$", re.IGNORECASE)
# "the Dragon Tattoo one": a few words framed as one book, to look for as a run of one title's words.
_FRAMED_RUN = re.compile(
    r"(?<![\w'’])the\s+(?P<words>[\w'’-]+(?:\s+[\w'’-]+){1,4})\s+(?:one|book|novel)\b", re.I
)
_RUN_LEAD = 5  # how many times better read the best title holding a run must be than the next to be meant
_ONE_AFTER = re.compile(r"\s+(?:one|ones|book|novel)\b", re.IGNORECASE)
_AUTHOR_TITLE_SIMILARITY = 85.0  # "shadow of wind" for "shadow of the wind", among one author's titles
_QUOTES = "\"“”'‘’*_"
# A title of one everyday word ("Wild", "Room") is that title when written with a capital right after a cue
# inside a sentence ("and not Wild either") only among the most read titles, which readers name that way.
_FAMOUS_SHARE = 0.02
_LONG_TITLE_WORDS = 4  # words besides the small ones that make an exact title in lower case that title


@dataclass(frozen=True)
class TitleMention:
    title: str  # the catalog title
    start: int
    end: int


class TitleLinker:
    def __init__(self, vocab: Vocabulary) -> None:
        self._vocab = vocab
        self._shelf_words = vocab.shelf_words()
        # Keys a near spelling is matched against (built once: the catalog's titles do not change).
        self._near_keys = NearKeys((k for k in vocab.titles if len(k.split()) >= 3), _NEAR_SIMILARITY)
        self._near_series_keys = NearKeys(
            (k for k in vocab.series if len(k.split()) >= 2), _NEAR_SIMILARITY - 2
        )
        self._by_author: dict[str, list[str]] | None = None  # author -> titles, built when first asked
        self._title_runs: dict[str, list[str]] | None = None  # see _runs()
        reads = sorted(vocab.title_reads.values(), reverse=True)
        self._famous_reads = reads[int(len(reads) * _FAMOUS_SHARE)] if reads else 0
        # Titles typed as one word ("nightcircus vibes"): keys of two to four words with the spaces dropped.
        self._squashed = {
            key.replace(" ", ""): title
            for key, title in vocab.titles.items()
            if 2 <= len(key.split()) <= 4 and len(key) >= 9
        }

    def find(self, text: str) -> list[TitleMention]:
        """Catalog titles mentioned in ``text``, longest first, not overlapping."""
        titles = self._vocab.titles
        if not titles:
            return []
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        out: list[TitleMention] = []
        i = 0
        while i < len(tokens):
            found = None
            # The next of a list ("read gone girl, girl on the train and big little lies") reads as the first.
            listed = bool(out) and bool(_LIST_GAP.fullmatch(text[out[-1].end : tokens[i][0]]))
            for length in range(min(_MAX_WORDS, len(tokens) - i), 0, -1):
                a, b = tokens[i][0], tokens[i + length - 1][1]
                raw = text[a:b].rstrip(".:!")
                key = title_key(raw)
                if key in titles and (
                    (listed and (len(key.split()) >= 2 or key.isdigit() or not self._ordinary(key)))
                    or self._reads_as_title(text, a, raw, key)
                ):
                    found = TitleMention(titles[key], a, a + len(raw))
                    break
            if found is None:
                a, b = tokens[i]
                squashed = self._squashed.get(title_key(text[a:b]))
                if squashed and " " not in text[a:b]:
                    found = TitleMention(squashed, a, b)
            if found is None:
                i += 1
                continue
            out.append(found)
            i = next((k for k, (a, _) in enumerate(tokens) if a >= found.end), len(tokens))
        return self._listed_before(text, tokens, out)

    def _listed_before(
        self, text: str, tokens: list[tuple[int, int]], found: list[TitleMention]
    ) -> list[TitleMention]:
        """``found`` and the titles listed right before one of them ("pride and prejudice, 1984 and the great
        gatsby"): an item of a list of titles is a title, though in lower case and ordinary words."""
        out = list(found)
        for mention in found:
            current = mention
            while gap := _GAP_BEFORE.search(text, 0, current.start):
                head = [t for t in tokens if t[1] <= gap.start()]
                if not head or head[-1][1] != gap.start():
                    break
                item = None
                for length in range(min(_MAX_WORDS, len(head)), 0, -1):
                    a = head[-length][0]
                    key = title_key(text[a : gap.start()])
                    words = key.split()
                    if key in self._vocab.titles and (
                        len(words) >= 2 or key.isdigit() or not self._ordinary(words[0])
                    ):
                        item = TitleMention(self._vocab.titles[key], a, gap.start())
                        break
                if item is None or any(item.start < m.end and m.start < item.end for m in out):
                    break
                out.append(item)
                current = item
        return sorted(out, key=lambda m: m.start)

    def by_author(self, text: str, authors: Iterable[AuthorMention]) -> list[TitleMention]:
        """Titles written just before "by <author>", in any case ("the road by cormack mccarthy"): the
        longest run of words before "by" that is a title of that author's."""
        out: list[TitleMention] = []
        for author in authors:
            lead = _BY_BEFORE.search(text, 0, author.start)
            if not lead or lead.end() != author.start:
                continue
            words = list(_TITLE_WORD.finditer(text, max(0, lead.start() - 80), lead.start()))[
                -_MAX_TITLE_WORDS:
            ]
            found = None
            for first in words:
                title = self._vocab.titles.get(title_key(text[first.start() : lead.start()]))
                if title and set(author.names) & set(self._vocab.title_authors.get(title, ())):
                    found = TitleMention(title, first.start(), words[-1].end())
                    break
            found = found or self._author_title_near(text, words, lead.start(), author)
            if found is not None:
                out.append(found)
        return out

    def _author_title_near(
        self, text: str, words: list[re.Match[str]], end: int, author: AuthorMention
    ) -> TitleMention | None:
        """A title of the named author written a little differently ("shadow of wind by Zafon"): among that
        author's few titles a loose match is safe where one over the whole catalog is not."""
        own = {title_key(t): t for t in self._titles_of(author.names)}
        best: tuple[float, int, TitleMention] | None = None
        for first in words:
            key = title_key(text[first.start() : end])
            hit = process.extractOne(key, list(own), scorer=fuzz.ratio, score_cutoff=_AUTHOR_TITLE_SIMILARITY)
            if hit is not None and (best is None or hit[1] > best[0]):
                best = (hit[1], first.start(), TitleMention(own[hit[0]], first.start(), words[-1].end()))
        return best[2] if best else None

    def of_authors(self, text: str, names: Iterable[str], found: list[TitleMention]) -> list[TitleMention]:
        """Titles of the authors the conversation is about, in the reader's shorthand: once a reader asks
        for Grisham, "the firm" is *The Firm* and "red october" (for Clancy) *The Hunt for Red October*,
        though everyday words. Among one author's few titles a span links when it is a title's key, or
        the end of one title's key (two words or more, at least half of it), or the part of one before
        its colon; a one-word title only with its article or a capital, or as an item of a list of
        titles ("not it or pet sematary"). ``found``: the titles already linked, which are not linked
        again and which make a neighbour a list item."""
        own: dict[str, str] = {}
        for title in self._titles_of(names):
            own.setdefault(title_key(title), title)
        if not own:
            return []
        parts: dict[str, set[str]] = {}
        # "the orient express one": any run of one title's words, framed as "the ... one", is that title
        # (looked for only in a message that has such a frame: most have none).
        middles: dict[str, set[str]] = {}
        framed = _ONE_AFTER.search(text) is not None
        small = cues.function_words()
        for key, title in own.items():
            words = key.split()
            heads = [key.split(":", 1)[0].strip()] if ":" in key else []
            tails = [
                " ".join(words[k:]) for k in range(1, len(words) - 1) if len(words) - k >= len(words) / 2
            ]
            for part in [*heads, *tails]:
                if part and part not in own:
                    parts.setdefault(part, set()).add(title)
            for first in range(len(words) if framed else 0):
                for last in range(first, len(words)):
                    span = words[first : last + 1]
                    if len(span) < len(words) and not {span[0], span[-1]} & small:
                        middles.setdefault(" ".join(span), set()).add(title)
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        out: list[TitleMention] = []
        taken = list(found)
        # A one-word title listed before one found later ("matilda and the bfg") is an item of that list: each
        # look that finds a title looks again, with the new ones as neighbours.
        while hits := self._own_titles_in(text, tokens, (own, parts, middles), taken):
            out += hits
        return out

    def _own_titles_in(
        self,
        text: str,
        tokens: list[tuple[int, int]],
        tables: tuple[dict[str, str], dict[str, set[str]], dict[str, set[str]]],
        taken: list[TitleMention],
    ) -> list[TitleMention]:
        """One look through ``text`` for :meth:`of_authors`: its authors' titles by key, by part and by a
        framed middle, not overlapping ``taken`` (which gains each one found)."""
        own, parts, middles = tables
        out: list[TitleMention] = []
        i = 0
        while i < len(tokens):
            hit = None
            for length in range(min(_MAX_WORDS, len(tokens) - i), 0, -1):
                a, b = tokens[i][0], tokens[i + length - 1][1]
                raw = text[a:b].rstrip(".:!,?")
                key = title_key(raw)
                if any(a < m.end and m.start < a + len(raw) for m in taken):
                    continue
                title = own.get(key)
                if title is None and length >= 2 and len(parts.get(key, ())) == 1:
                    title = next(iter(parts[key]))
                if (
                    title is None
                    and len(middles.get(key, ())) == 1
                    and (length >= 2 or not self._ordinary(key))
                    and self._framed_as_one(text, a, a + len(raw))
                ):
                    hit = TitleMention(next(iter(middles[key])), a, a + len(raw))
                    break
                if title is None:
                    continue
                with_article = raw.lower().startswith(("the ", "a ", "an "))
                if length == 1 or (length == 2 and with_article):
                    listed = any(
                        _LIST_GAP.fullmatch(text[m.end : a])
                        or _LIST_GAP.fullmatch(text[a + len(raw) : m.start])
                        for m in taken
                        if m.end <= a or m.start >= a + len(raw)
                    )
                    written = raw[:1].isupper() or with_article
                    # A short key only with its article and no everyday word ("the bfg", not "the fog").
                    short_ok = with_article and len(key) == 3 and not self._vocab.is_common_word(key)
                    if not (listed or (written and (len(key) >= 4 or short_ok))):
                        continue
                hit = TitleMention(title, a, a + len(raw))
                break
            if hit is None:
                i += 1
                continue
            out.append(hit)
            taken.append(hit)
            i = next((k for k, (a, _) in enumerate(tokens) if a >= hit.end), len(tokens))
        return out

    def framed(self, text: str, found: Sequence[TitleMention] = ()) -> list[TitleMention]:
        """Books named by a run of two or more of their title's words framed as one book ("I've read Gone Girl
        and the Dragon Tattoo one"), over the whole catalog: the title holding the run, or the one far better
        read than any other holding it ("the harry potter one" is none)."""
        out: list[TitleMention] = []
        for m in _FRAMED_RUN.finditer(text):
            tokens = [(t.start(), t.end()) for t in _TOKEN.finditer(text, m.start("words"), m.end("words"))]
            for k in range(len(tokens) - 1):
                a, b = tokens[k][0], tokens[-1][1]
                if any(a < t.end and t.start < b for t in [*found, *out]):
                    break
                holders = self._runs().get(title_key(text[a:b]), [])
                reads = sorted(((self._vocab.title_reads.get(t, 0), t) for t in holders), reverse=True)
                if reads and (len(reads) == 1 or reads[0][0] >= _RUN_LEAD * reads[1][0]):
                    out.append(TitleMention(reads[0][1], a, b))
                    break
        return out

    def _runs(self) -> dict[str, list[str]]:
        """Every run of two or more words inside a title (not its whole key), not starting or ending with a
        function word -> the titles holding it; built when first asked."""
        if self._title_runs is None:
            small = cues.function_words()
            runs: dict[str, list[str]] = {}
            for key, title in self._vocab.titles.items():
                words = key.split()
                for first in range(len(words)):
                    for last in range(first + 1, min(len(words), first + 6)):
                        span = words[first : last + 1]
                        if len(span) < len(words) and not {span[0], span[-1]} & small:
                            holders = runs.setdefault(" ".join(span), [])
                            if title not in holders:
                                holders.append(title)
            self._title_runs = runs
        return self._title_runs

    @staticmethod
    def _framed_as_one(text: str, start: int, end: int) -> bool:
        """ "the orient express one", "the dragon book": a book named by a few of its words."""
        return bool(_THE_BEFORE.search(text, 0, start) and _ONE_AFTER.match(text, end))

    def _titles_of(self, names: Iterable[str]) -> list[str]:
        if self._by_author is None:
            by_author: dict[str, list[str]] = {}
            for title, authors in self._vocab.title_authors.items():
                for name in authors:
                    by_author.setdefault(name, []).append(title)
            self._by_author = by_author
        return [t for name in names for t in self._by_author.get(name, [])]

    def near(self, text: str, found: list[TitleMention] | None = None) -> list[TitleMention]:
        """Titles written a little differently ("all the light we can not see"), looked for only right
        after a liking or reading cue, or as the next item of a list of titles already ``found`` ("read
        gone girl n big lttle lies"): a close match over the whole catalog is too loose anywhere else."""
        if not self._vocab.titles:
            return []
        keys, series_keys = self._near_keys, self._near_series_keys
        starts = [cue.end() for cue in _NEAR_CUE.finditer(text)]
        for mention in found or []:
            gap = re.match(
                r"\s*(?:,|&|\+|/)\s*(?:and|or|n|nor)?\s*|\s+(?:and|or|n|nor)\s+", text[mention.end :]
            )
            if gap:
                starts.append(mention.end + gap.end())
        out: list[TitleMention] = []
        for begin in starts:
            if any(m.start <= begin < m.end for m in found or []):
                continue
            tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, begin)][:8]
            best: tuple[float, TitleMention] | None = None
            # An author's full name written exactly ("Stephen King, no thanks") is the author, not a misspelt
            # title that happens to start with it ("Stephen King's N.").
            names = (fold(text[tokens[0][0] : tokens[n - 1][1]]) for n in range(2, min(4, len(tokens)) + 1))
            if any(name in self._vocab.by_full for name in names):
                continue
            # A title written exactly ("to read on the beach") was judged by find(); near() only mends misspellings.
            spans = (title_key(text[tokens[0][0] : tokens[n - 1][1]]) for n in range(2, len(tokens) + 1))
            exact = {self._vocab.titles[key] for key in spans if key in self._vocab.titles}
            for length in range(3, len(tokens) + 1):
                a, b = tokens[0][0], tokens[length - 1][1]
                key = title_key(text[a:b])
                hit = process.extractOne(
                    key, keys.near(key), scorer=fuzz.ratio, score_cutoff=_NEAR_SIMILARITY
                )
                if hit is not None and (best is None or hit[1] > best[0]):
                    best = (hit[1], TitleMention(self._vocab.titles[hit[0]], a, b))
            # A series written a little differently after a liking cue ("like hary potter"): its first book.
            liking = bool(_LIKE_LEAD.search(text[max(0, begin - 20) : begin]))
            for length in range(2, min(4, len(tokens)) + 1) if liking and best is None else ():
                a, b = tokens[0][0], tokens[length - 1][1]
                key = title_key(text[a:b])
                hit = process.extractOne(
                    key, series_keys.near(key), scorer=fuzz.ratio, score_cutoff=_NEAR_SIMILARITY - 2
                )
                first = self._vocab.series_first.get(self._vocab.series[hit[0]]) if hit else None
                if hit is not None and first and (best is None or hit[1] > best[0]):
                    best = (hit[1], TitleMention(first, a, b))
            if best is not None and best[1].title not in exact:
                out.append(best[1])
        return out

    @staticmethod
    def _wanted_more_of(text: str, start: int, raw: str) -> bool:
        """``raw`` (at ``start``) has its article and the reader later wants more like "it" or "that"."""
        end = start + len(raw)
        return (
            raw.lower().startswith("the ")
            and bool(_PHRASE_END.match(text, end))
            and bool(_MORE_LIKE_IT.search(text, end))
        )

    def _reads_as_title(self, text: str, start: int, raw: str, key: str) -> bool:
        words = key.split()
        quoted = start > 0 and text[start - 1] in _QUOTES
        inside = bool(re.search(r"\w[\s,]*$", text[max(0, start - 3) : start]))
        # A capital at the start of a sentence says nothing ("Good grief, ...").
        capital = any(w[:1].isupper() for w in raw.split()[1:]) or (raw[:1].isupper() and inside)
        after_cue = bool(_LEAD.search(text[max(0, start - 20) : start]))
        # "dune is my favourite book ever", "ready player one was SO good": praised right after it.
        praised = bool(cues.praise_tail().match(text, start + len(raw)))
        if raw.startswith("The ") and raw[4:5].isupper() and inside:
            # "point me at The Road": an article written with a capital inside a sentence, before a
            # capitalised word, starts a title, however everyday its words.
            return True
        if praised and (len(words) >= 2 or not self._ordinary(words[0])):
            return True
        if quoted or (after_cue and capital):
            famous = self._vocab.title_reads.get(self._vocab.titles[key], 0) >= max(1, self._famous_reads)
            written = raw[:1].isupper() and inside and words[0] not in self._shelf_words
            return len(words) >= 2 or not self._ordinary(words[0]) or (written and famous and len(key) >= 4)
        if after_cue and _LIKE_LEAD.search(text[max(0, start - 20) : start]):
            # "just finished the name of the wind", "like hunger games", "like neuromancer"; an everyday word
            # with its article when the reader then wants more like it ("finished the road, more like it").
            return (
                len(words) >= 2
                or (len(words[0]) >= 5 and not self._ordinary(words[0]))
                or self._wanted_more_of(text, start, raw)
            )
        if after_cue and _READ_LEAD.search(text[max(0, start - 20) : start]):
            # "ive done the hunger games already", but not "to read on the beach"; one word only when no
            # everyday word or name ("read watchmen already", "read maus", not "read more" or "read king")
            if len(words) == 1:
                return (
                    not self._ordinary(words[0]) and words[0] not in self._vocab.by_surname
                ) or self._wanted_more_of(text, start, raw)
            return len(words) >= 4 or raw.split()[0].lower() not in _NOT_A_TITLE_START
        if (
            len(words) >= 2
            and _HAVE_LEAD.search(text, 0, start)
            and _ALREADY_AFTER.match(text, start + len(raw))
        ):
            # "he's got band of brothers already": a thing one has or has read already is a book.
            return True
        if len(words) >= 2:
            # In lower case, a title with a word ordinary text does not use ("the great gatsby", "good omens")
            # is still that title; one made only of everyday words ("the road") needs a capital or a cue,
            # unless it is long enough that no sentence says it by chance ("a short history of nearly
            # everything": four words or more besides the small ones).
            content = [w for w in words if w not in cues.function_words()]
            return (
                capital
                or any(len(w) >= 5 and not self._ordinary(w) for w in words)
                or len(content) >= _LONG_TITLE_WORDS
            )
        # One word alone ("The Martian", "the martian was so good") with its article, or an unusual word
        # written with a capital inside a sentence ("we have covered Watchmen").
        if raw.lower().startswith("the "):
            return not self._ordinary(words[0])
        # "off to Cornwall on Friday", "at Christmas": a capital after a preposition of time names a time
        # ("the world in Dune" is still a title).
        before = text[max(0, start - 12) : start].split()
        after_preposition = bool(before) and before[-1].lower() in _TIME_PREPOSITIONS
        return (
            inside
            and not after_preposition
            and raw[:1].isupper()
            and len(words[0]) >= 5
            and not self._ordinary(words[0])
            and words[0] not in self._vocab.by_surname
            and words[0] not in self._vocab.by_full
        )

    def _ordinary(self, word: str) -> bool:
        return len(word) < 4 or self._vocab.is_common_word(word) or word in self._shelf_words
