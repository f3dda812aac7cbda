"""Typos normalised against the catalog's own vocabulary ("a thriler" -> "a thriller", "tolkein" -> "tolkien").

A word is left alone when it is English (pyspellchecker's word list) or the catalog's text uses it; otherwise it is
replaced by the closest shelf word, author name word or cue word within one edit (two for long words,
counting a swap of neighbours as one), or else title word within one edit, when there is one. Only those
vocabularies are targets: they are what the reading acts on, and short lists keep a wrong correction
unlikely. One texting habit is read as such: a short word missing one vowel ("aftr", "vry", "wth") is the most
common English word it makes with that vowel back, when that word is among the few hundred commonest and clearly
commoner than any other it could be ("thn": then or than, left alone).
"""

from __future__ import annotations

import re
from array import array
from functools import cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from vibeshelf.agent.reading import cues
from vibeshelf.agent.reading.vocabulary import Vocabulary, fold
from vibeshelf.text import starts_sentence

# Whole words, accented letters included: "Brontë" is one word, not "Bront" and "ë".
_TOKEN = re.compile(r"[^\W\d_]{2,}")
# The part of a contraction before its apostrophe ("couldn" of "couldn't") is no misspelt word; a possessive
# ("tolkein's") is.
_CONTRACTED = re.compile(r"['’](?:t|ll|re|ve|d|m)\b", re.IGNORECASE)
_BY = re.compile(r"\bby\s*$", re.IGNORECASE)
_KNOWN_MIN_COUNT = 3
# A dropped vowel is restored only to the commonest English words (about the 460 most frequent in
# pyspellchecker's list: after, before, very, with, from ...), and only when no other restoration is nearly as
# common: texters drop vowels from the words they type most.
_VOWELS = "aeiouy"
_COMMON_WORD_MIN_FREQUENCY = 300_000
_CLEAR_LEAD = 3


class EnglishWords:
    """pyspellchecker's English list, held compactly: the words sorted into one string (membership by binary
    search over their offsets) and the frequencies only of the words common enough to matter.

    The list has 160k words; as pyspellchecker's Counter it holds ~25 MB of the server's memory for the
    process's life, as this ~2 MB. A frequency under ``min_frequency`` reads as 0: ``_vowel_restored`` only
    compares the commonest candidate (>= _COMMON_WORD_MIN_FREQUENCY) with a third of itself, so any count
    under _COMMON_WORD_MIN_FREQUENCY / _CLEAR_LEAD decides nothing.
    """

    def __init__(self, frequency: dict[str, int], min_frequency: int) -> None:
        words = sorted(frequency)
        self._text = "\n".join(words)
        offsets = [0]
        for word in words:
            offsets.append(offsets[-1] + len(word) + 1)
        self._starts = array("i", offsets)
        # New objects, not the Counter's: one surviving key or count would pin the allocator arena it shares
        # with thousands of freed words, and the memory would never go back.
        self._common = {w.encode().decode(): int(str(n)) for w, n in frequency.items() if n >= min_frequency}

    def __len__(self) -> int:
        return len(self._starts) - 1

    def _word(self, i: int) -> str:
        return self._text[self._starts[i] : self._starts[i + 1] - 1]

    def __contains__(self, word: str) -> bool:
        word = word.lower()  # as pyspellchecker's lookup does
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._word(mid) < word:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(self) and self._word(lo) == word

    def frequency(self, word: str) -> int:
        return self._common.get(word.lower(), 0)


@cache
def _english() -> EnglishWords:
    from spellchecker import SpellChecker

    return EnglishWords(
        SpellChecker(distance=1).word_frequency.dictionary, _COMMON_WORD_MIN_FREQUENCY // _CLEAR_LEAD
    )


class Speller:
    def __init__(self, vocab: Vocabulary) -> None:
        self._known = {w for w, n in vocab.word_counts.items() if n >= _KNOWN_MIN_COUNT}
        self._known |= {w for key in vocab.series for w in key.split()}  # "witcher" is no misspelt "wither"
        self._english = _english() if vocab.word_counts else None
        self._lowercase = vocab.lowercase_counts
        self._shelf_words = sorted(vocab.shelf_words())
        # Cue words too ("nuthin" -> "nothing"): a refusal misspelt must still refuse.
        self._cue_words = sorted(cues.cue_words() - set(self._shelf_words))
        names = {w for key in vocab.by_full for w in key.split() if len(w) >= 5}
        self._name_words = sorted(names - set(self._shelf_words))
        # Title words ("the hobit" -> "hobbit"), within one edit only: there are many of them. Names in
        # titles stay ("harry poter" -> "potter"): a five-letter typo is too short for the name words.
        title_words = {w for key in vocab.titles for w in key.split() if len(w) >= 5 and w.isalpha()}
        self._title_words = sorted(title_words - set(self._shelf_words))
        self._cache: dict[tuple[str, bool], str | None] = {}

    def word(self, word: str, *, proper: bool = False) -> str | None:
        """The correction for one (folded) word, or None to keep it. A ``proper`` word (capitalised inside a
        sentence) is someone's name or a nickname: only a name word corrects it ("Tolkein", not "Sando")."""
        key = (word, proper)
        if key not in self._cache:
            self._cache[key] = self._corrected(word, proper)
        return self._cache[key]

    def _corrected(self, word: str, proper: bool) -> str | None:
        if self._english is None or word in self._known:
            return None
        if not proper and len(word) >= 4 and word.isalpha() and not self._lowercase.get(word):
            # A clipped shelf word ("myst", "biog") when exactly one shelf word starts with it.
            starts = [w for w in self._shelf_words if w.startswith(word) and w != word]
            if len(starts) == 1:
                return starts[0]
        if word in self._english:
            return None
        if not proper and 3 <= len(word) <= 7 and word.isalpha() and (fixed := self._vowel_restored(word)):
            return fixed
        if len(word) < 5 or not word.isalpha():
            return None
        limit = 1 if len(word) <= 7 else 2
        passes = [(self._name_words, 6, limit)]
        if not proper:
            passes = [
                (self._shelf_words, 5, limit),
                *passes,
                # Texting respells cue words freely ("nuthin"), but a five-letter word two edits from one is
                # as often a name or another word ("sando" is not "stand", "thats" not "thanks").
                (self._cue_words, 5, 1 if len(word) <= 5 else 2),
                (self._title_words, 5, 1),
            ]
        for targets, min_len, most in passes:
            if len(word) < min_len or not targets:
                continue
            hits = process.extract(word, targets, scorer=OSA.distance, score_cutoff=most, limit=8)
            # Of equally near words, the one sharing the most letters ("hobit" -> "hobbit", not "habit").
            hits = sorted(
                (h for h in hits if h[0][0] == word[0]), key=lambda h: (h[1], -fuzz.ratio(word, h[0]))
            )
            if hits:
                if hits[0][1] > 1 and not proper and (common := self._common_neighbour(word)):
                    # "allready" is "already", not the author Allred two edits away: a common English word
                    # one edit away is nearer than any name, title or shelf word further off.
                    return common
                return hits[0][0]
        return None

    def _common_neighbour(self, word: str) -> str | None:
        """The commonest English word one edit from ``word`` (among the commonest few thousand), if any."""
        english = self._english
        if english is None:
            return None
        letters = "abcdefghijklmnopqrstuvwxyz"
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
        edits |= {a + c + b for a, b in splits for c in letters}
        ranked = sorted(((english.frequency(w), w) for w in edits), reverse=True)
        return ranked[0][1] if ranked and ranked[0][0] > 0 else None

    def _vowel_restored(self, word: str) -> str | None:
        restored = {word[:i] + v + word[i:] for i in range(1, len(word) + 1) for v in _VOWELS}
        english = self._english
        if english is None:
            return None
        ranked = sorted(((english.frequency(w), w) for w in restored if w in english), reverse=True)
        if not ranked or ranked[0][0] < _COMMON_WORD_MIN_FREQUENCY:
            return None
        if len(ranked) > 1 and ranked[0][0] < _CLEAR_LEAD * ranked[1][0]:
            return None
        return ranked[0][1]

    def correct(self, text: str) -> str:
        def replace(m: re.Match[str]) -> str:
            raw = m.group(0)
            if _CONTRACTED.match(text, m.end()):
                return raw  # "couldn't", "wouldn't": the part before the apostrophe is no word of its own
            # Capitalised inside a sentence, or right after "by": a name, however it is spelt.
            proper = (raw[0].isupper() and not starts_sentence(text, m.start())) or bool(
                _BY.search(text, 0, m.start())
            )
            fixed = self.word(fold(raw), proper=proper)
            if fixed is None:
                return raw
            return fixed.capitalize() if raw[0].isupper() else fixed

        return _TOKEN.sub(replace, text)
