"""Author names in a reader's words, linked to the catalog's authors.

A full name ("stephen king", "J.R.R. Tolkien", "jrr tolkien") links exactly, or within a small spelling
difference; a surname alone ("Pratchett", "gaiman's") links when the catalog makes it unambiguous, or to
its most read author when that one is read three times as much as the next; otherwise to every author of
that surname read at least a third as much as the first (a "no" must hold whichever the reader meant). A
surname that is also an everyday word in the catalog's text ("King", "Brown") counts only when written
with a capital or after "by"/"from".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from vibeshelf.agent.reading.series import find_series
from vibeshelf.agent.reading.vocabulary import NearKeys, Vocabulary, fold, name_key
from vibeshelf.text import starts_sentence

_VOWEL = re.compile(r"[aeiouy]")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][sS])?")
_AUTHOR_CONTEXT = frozenset({"by", "from", "author", "writer", "of"})
_LIST_WORDS = frozenset({"or", "and", "nor", "also", "plus", "either", "neither"})
# Words after which a name stands on its own ("it's Tolkien I don't want", "just King").
_BEFORE_A_NAME = frozenset(
    {"it's", "its", "it’s", "is", "was", "just", "only", "especially", "even", "any", "more", "some", "all"}
    | {"everything", "every", "anything"}
    | {"miss", "mrs", "mr", "ms", "dr", "dame", "sir", "lady", "lord"}  # "not Miss Austen herself"
)
_FAMILY = re.compile(r"\s+(?:sisters|brothers|siblings|family|clan)\b", re.IGNORECASE)
HONORIFICS = frozenset({"miss", "mrs", "mr", "ms", "dr", "dame", "sir", "lady", "lord", "saint", "st"})
_DOMINANT = 3.0  # the most read author of a surname wins alone when read this many times the next
_MAX_SAME_SURNAME = 4
_FULL_NAME_SIMILARITY = 92.0
_LOWERCASE_SURNAME_MIN = 5
_NEAR_SURNAME_MIN = 6  # shorter surnames are a letter away from too many words
_CLIPPED_ENDING = re.compile(r"(?:o|y|ie|sy|zy)$")  # endings of clipped nicknames: Sando, Robbo, Pratchy
_PRONOUN_I = re.compile(r" I(?:\b|['’])")
_REFUSING = frozenset({"no", "not", "nor", "without"})  # a clipped name is read only after these or "by"
_CLIPPED_STEM_MIN = 4  # a shorter stem starts too many surnames
_RARE_WORD = 2  # a word the catalog's text uses at most this often may still be a misspelt name


@dataclass(frozen=True)
class AuthorMention:
    names: tuple[str, ...]  # catalog display names
    start: int
    end: int
    exact: bool  # a full name or unambiguous surname, not a guess among several


class AuthorLinker:
    def __init__(self, vocab: Vocabulary) -> None:
        self._vocab = vocab
        self._full_keys = NearKeys(vocab.by_full, _FULL_NAME_SIMILARITY)
        self._shelf_words = vocab.shelf_words()
        self._surnames = [k for k in vocab.by_surname if " " not in k and len(k) >= _NEAR_SURNAME_MIN]
        self._series_of: tuple[str, list[tuple[int, int]]] = ("", [])
        # Given names, for "Dame Agatha": an honorific before a given name means the author who has it.
        self._by_given: dict[str, list[str]] = {}
        for name in sorted(vocab.author_reads, key=lambda n: -vocab.author_reads[n]):
            parts = name_key(name).split()
            if len(parts) >= 2 and len(parts[0]) >= 3:
                self._by_given.setdefault(parts[0], []).append(name)

    def _part_of_a_name(self, text: str, word: re.Match[str]) -> bool:
        """Whether a capitalised word right before a surname may be the first half of another name ("King
        Arthur", "Harry Potter"). A sentence's first word is capitalised for the sentence, so there it counts
        only when it is someone's given name or surname ("No Shakespeare, though." names the playwright)."""
        if not word.group(0)[0].isupper():
            return False
        if not starts_sentence(text, word.start()):
            return True
        key = name_key(word.group(0))
        return key in self._by_given or key in self._vocab.by_surname

    def _clipped_surname(self, word: str) -> list[str]:
        """The authors of the one surname ``word`` clips with a nickname's ending ("Sando" for Sanderson,
        "Grisho" for Grisham), when its most read author dominates every other surname it could clip."""
        stem = _CLIPPED_ENDING.sub("", word)
        if (
            stem == word
            or len(stem) < _CLIPPED_STEM_MIN
            or self._vocab.word_counts.get(word, 0) > _RARE_WORD  # a word the catalog uses is meant
        ):
            return []
        reads = self._vocab.author_reads
        clipped = sorted(
            (
                names
                for surname, names in self._vocab.by_surname.items()
                if surname.startswith(stem) and len(surname) >= len(stem) + 2 and " " not in surname
            ),
            key=lambda names: -reads.get(names[0], 0),
        )
        if not clipped:
            return []
        runner_up = reads.get(clipped[1][0], 0) if len(clipped) > 1 else 0
        return clipped[0] if runner_up * _DOMINANT <= reads.get(clipped[0][0], 0) else []

    def _near_surname(self, word: str, *, name_like: bool = False) -> list[str]:
        """The authors of the one surname a letter away from ``word`` (not itself a known word), if any.
        ``name_like``: a word the catalog writes only with a capital, which may be a name however often."""
        used_as_a_word = self._vocab.word_counts.get(word, 0) > _RARE_WORD and not name_like
        if len(word) < _NEAR_SURNAME_MIN or used_as_a_word or word.endswith("s"):
            return []
        hits = process.extract(word, self._surnames, scorer=Levenshtein.distance, score_cutoff=1, limit=4)
        if len(hits) == 1:
            return self._vocab.by_surname[hits[0][0]]
        # Several surnames a letter away: when they are one writer spelt two ways in the catalog, the same
        # given name before each ("Tolstoi": Leo Tolstoy and Leo Tolstoj), both; otherwise none ("The
        # Martian" is neither Martin nor Marian).
        found = [self._vocab.by_surname[h[0]] for h in hits]
        if any(len(names) != 1 for names in found):
            return []
        given = {name_key(names[0]).split()[0] for names in found}
        if len(given) != 1:
            return []
        reads = self._vocab.author_reads
        return sorted((names[0] for names in found), key=lambda n: -reads.get(n, 0))

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[AuthorMention]:
        """Author mentions inside ``text[start:end]``, longest names first, not overlapping."""
        end = len(text) if end is None else end
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
        out: list[AuthorMention] = []
        i = 0
        while i < len(tokens):
            # A name right after another is the next of a list ("no asimov heinlein or pkd").
            listed = bool(out) and not text[out[-1].end : tokens[i][0]].strip()
            mention = self._at(text, tokens, i, listed)
            if mention is None:
                i += 1
                continue
            out.append(mention)
            i = next((k for k, (a, _) in enumerate(tokens) if a >= mention.end), len(tokens))
        # "percy jackson" is the series, not Walker Percy and a Jackson: a surname alone inside a series'
        # name said in full yields to the series.
        series = self._series_spans(text)
        out = [
            m
            for m in out
            if " " in name_key(text[m.start : m.end])
            or not any(a <= m.start and m.end <= b for a, b in series)
        ]
        if not any(" " not in name_key(text[m.start : m.end]) for m in out):
            return out
        earlier = self.find(text, 0, start) if start > 0 else []
        resolved: list[AuthorMention] = []
        for mention in out:
            resolved.append(self._named_before(text, mention, [*earlier, *resolved]))
        return resolved

    def _series_spans(self, text: str) -> list[tuple[int, int]]:
        """Spans of the series named by two words or more in ``text`` (the last text's, kept: the reader asks
        about one message many times)."""
        said, spans = self._series_of  # one read of the pair: readers on other threads may replace it
        if said != text:
            spans = [(m.start, m.end) for m in find_series(self._vocab, text) if " " in text[m.start : m.end]]
            self._series_of = (text, spans)
        return spans

    def _named_before(self, text: str, mention: AuthorMention, earlier: list[AuthorMention]) -> AuthorMention:
        """A surname alone after the full name of one of its authors in the same message is that author ("I
        mixed him up with Robert Jordan. It is Jordan I don't want" does not mean Sophie Jordan)."""
        said = name_key(text[mention.start : mention.end])
        if " " in said:
            return mention
        for before in reversed(earlier):
            full = before.names[0]
            if (
                len(before.names) == 1
                and " " in name_key(text[before.start : before.end])
                and name_key(full).split()[-1] == said
            ):
                return AuthorMention((full,), mention.start, mention.end, True)
        return mention

    def _at(
        self, text: str, tokens: list[tuple[int, int]], i: int, listed: bool = False
    ) -> AuthorMention | None:
        by_full = self._vocab.by_full
        for length in (4, 3, 2):
            if i + length > len(tokens):
                continue
            a, b = tokens[i][0], tokens[i + length - 1][1]
            key = name_key(text[a:b])
            if key in by_full:
                return AuthorMention((by_full[key],), a, b, True)
        for length in (3, 2):
            if i + length > len(tokens):
                continue
            a, b = tokens[i][0], tokens[i + length - 1][1]
            key = name_key(text[a:b])
            if len(key) < 8:
                continue
            # An initial and a surname ("s jordan") is matched only exactly: a letter off it is another
            # word before the surname ("is Jordan").
            near = [k for k in self._full_keys.near(key) if len(k.split(" ", 1)[0]) > 1]
            hit = process.extractOne(
                key, near, scorer=fuzz.ratio, score_cutoff=_FULL_NAME_SIMILARITY
            ) or process.extractOne(key, near, scorer=Levenshtein.distance, score_cutoff=1)
            if hit is not None:  # "john gresham": one letter off a full name is that name
                return AuthorMention((by_full[hit[0]],), a, b, True)
        a, b = tokens[i]
        one = name_key(text[a:b])
        if (
            len(one) >= 3
            and one in by_full
            and one not in self._vocab.by_surname
            and not self._vocab.is_common_word(one)
            and (not _VOWEL.search(one) or text[a:b].isupper())  # "pkd", "GRRM", but not "tab" (T.A. Barron)
        ):
            return AuthorMention((by_full[one],), a, b, True)  # "pkd", "grrm"
        if i + 1 < len(tokens) and (two := name_key(text[a : tokens[i + 1][1]])) in self._vocab.by_surname:
            names = self._vocab.by_surname[two]  # "du Maurier", "le Carré"
            return AuthorMention(tuple(names[:1]), a, tokens[i + 1][1], len(names) == 1)
        raw = text[a:b]
        word = name_key(raw)
        preceding_word = fold(text[tokens[i - 1][0] : tokens[i - 1][1]]) if i > 0 else ""
        if preceding_word in HONORIFICS and raw[:1].isupper() and (given := self._by_given.get(word)):
            reads = self._vocab.author_reads
            if len(given) == 1 or reads.get(given[1], 0) * _DOMINANT <= reads.get(given[0], 0):
                return AuthorMention((given[0],), a, b, len(given) == 1)
        names = self._vocab.by_surname.get(word)
        if (
            not names
            and word.endswith("s")
            and (raw[0].isupper() or not self._vocab.is_common_word(word))  # "says" is no family of Say
            and (family := self._vocab.by_surname.get(word[:-1]))
        ):
            # "no Herberts": every author of the family name.
            return AuthorMention(tuple(family[:_MAX_SAME_SURNAME]), a, b, False)
        preceding = list(_TOKEN.finditer(text, 0, a))
        before = fold(preceding[-1].group(0)) if preceding else ""
        # "Dostoevsky and Tolstoy": a capitalised word the catalog never writes in lower case, a letter off a
        # surname, is that name spelt another way.
        name_like = raw[0].isupper() and not self._vocab.lowercase_counts.get(word)
        if not names and (before in _AUTHOR_CONTEXT or before in _BEFORE_A_NAME or name_like):
            names = self._near_surname(word, name_like=name_like)  # "all of gresham": where a name goes
        if not names and (before in _AUTHOR_CONTEXT or (raw[0].isupper() and before in _REFUSING)):
            names = self._clipped_surname(word)  # "no Sando", "by sando": fans' clipped surnames
        if not names or word in self._shelf_words:
            return None
        gap = text[preceding[-1].end() : a] if preceding else ""
        # A surname alone is a name where a list item starts ("no King", "Rice or Hamilton", "by rice"),
        # not inside a phrase ("no king arthur stuff").
        starts_item = (
            i == 0
            or listed
            or before in _AUTHOR_CONTEXT
            or before in _LIST_WORDS
            or before in _BEFORE_A_NAME
            or any(sep in gap for sep in ",/&+")
            or (before == "the" and raw[0].isupper())  # "the Brontës", "the Brontë sisters"
        )
        after = text[b : b + 2]
        # ("Arthur" in "king Arthur"; the pronoun "I" is capitalised for itself: "the tolkien I have done")
        next_capital = (
            len(after) == 2 and after[0] == " " and after[1].isupper() and not _PRONOUN_I.match(text, b)
        )
        stands_alone = (
            # In lower case too, a surname the catalog never writes in lower case is a name ("so pratchett has
            # nothing left"), unlike a rarer word ("lesser known", though Frank Lesser is an author).
            (
                raw[0].isupper()
                or (len(word) >= _LOWERCASE_SURNAME_MIN and not self._vocab.lowercase_counts.get(word))
            )
            and not self._vocab.is_common_word(word)
            and not next_capital
            and not (preceding and gap == " " and self._part_of_a_name(text, preceding[-1]))
        )  # "more Chandler", but not "King Arthur"
        if not (starts_item or stands_alone or raw.lower().endswith(("'s", "’s"))):
            return None
        if self._vocab.is_common_word(word) and not raw[0].isupper() and before not in _AUTHOR_CONTEXT:
            return None
        if _FAMILY.match(text, b):
            # "the Brontë sisters": the whole family, however much less one of them is read.
            return AuthorMention(tuple(names[:_MAX_SAME_SURNAME]), a, b, False)
        reads = self._vocab.author_reads
        top = reads.get(names[0], 0)
        second = reads.get(names[1], 0) if len(names) > 1 else 0
        if second * _DOMINANT <= top:
            return AuthorMention((names[0],), a, b, len(names) == 1)
        close = [n for n in names if reads.get(n, 0) * _DOMINANT >= top][:_MAX_SAME_SURNAME]
        return AuthorMention(tuple(close), a, b, False)
