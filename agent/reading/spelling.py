"""Typos normalised against the catalog's own vocabulary ("a thriler" -> "a thriller", "tolkein" -> "tolkien").

A word is left alone when it is English (pyspellchecker's word list) or the catalog's text uses it; otherwise it is
replaced by the closest shelf word or author name word within one edit (two for long words, counting a
swap of neighbours as one), when there is one. Only those two vocabularies are targets: they are what
the reading acts on, and a short list keeps a wrong correction unlikely.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vibeshelf.agent.reading import cues
from vibeshelf.agent.reading.vocabulary import Vocabulary, fold

_TOKEN = re.compile(r"[A-Za-z][A-Za-z]+")
_KNOWN_MIN_COUNT = 3


@cache
def _english() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


class Speller:
    def __init__(self, vocab: Vocabulary) -> None:
        self._known = {w for w, n in vocab.word_counts.items() if n >= _KNOWN_MIN_COUNT}
        self._english = _english() if vocab.word_counts else None
        self._lowercase = vocab.lowercase_counts
        self._shelf_words = sorted(vocab.shelf_words())
        # Cue words too ("nuthin" -> "nothing"): a refusal misspelt must still refuse.
        self._cue_words = sorted(cues.cue_words() - set(self._shelf_words))
        names = {w for key in vocab.by_full for w in key.split() if len(w) >= 5}
        self._name_words = sorted(names - set(self._shelf_words))
        self._cache: dict[str, str | None] = {}

    def word(self, word: str) -> str | None:
        """The correction for one (folded) word, or None to keep it."""
        if word in self._cache:
            return self._cache[word]
        fixed = None
        if self._english is None or word in self._known:
            self._cache[word] = None
            return None
        if len(word) >= 4 and word.isalpha() and not self._lowercase.get(word):
            # A clipped shelf word ("myst", "biog") when exactly one shelf word starts with it.
            starts = [w for w in self._shelf_words if w.startswith(word) and w != word]
            if len(starts) == 1:
                self._cache[word] = starts[0]
                return starts[0]
        if word in self._english:
            self._cache[word] = None
            return None
        if fixed is None and len(word) >= 5 and word.isalpha():
            limit = 1 if len(word) <= 7 else 2
            for targets, min_len, most in (
                (self._shelf_words, 5, limit),
                (self._name_words, 6, limit),
                (self._cue_words, 5, 2),
            ):
                if len(word) < min_len or not targets:
                    continue
                hit = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=most)
                if hit is not None and hit[0][0] == word[0]:
                    fixed = hit[0]
                    break
        self._cache[word] = fixed
        return fixed

    def correct(self, text: str) -> str:
        def replace(m: re.Match[str]) -> str:
            raw = m.group(0)
            fixed = self.word(fold(raw))
            if fixed is None:
                return raw
            return fixed.capitalize() if raw[0].isupper() else fixed

        return _TOKEN.sub(replace, text)
