"""Typos normalised against the catalog's own vocabulary ("a thriler" -> "a thriller", "tolkein" -> "tolkien").

A word is left alone when the catalog's text uses it (it is a word, even if rare); otherwise it is
replaced by the closest shelf word or author name word within one edit (two for long words, counting a
swap of neighbours as one), when there is one. Only those two vocabularies are targets: they are what
the reading acts on, and a short list keeps a wrong correction unlikely.
"""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vibeshelf.agent.reading.vocabulary import Vocabulary, fold

_TOKEN = re.compile(r"[A-Za-z][A-Za-z]+")
_KNOWN_MIN_COUNT = 3


class Speller:
    def __init__(self, vocab: Vocabulary) -> None:
        self._known = {w for w, n in vocab.word_counts.items() if n >= _KNOWN_MIN_COUNT}
        self._shelf_words = sorted(vocab.shelf_words())
        names = {w for key in vocab.by_full for w in key.split() if len(w) >= 5}
        self._name_words = sorted(names - set(self._shelf_words))
        self._cache: dict[str, str | None] = {}

    def word(self, word: str) -> str | None:
        """The correction for one (folded) word, or None to keep it."""
        if word in self._cache:
            return self._cache[word]
        fixed = None
        if len(word) >= 4 and word not in self._known and word.isalpha():
            # A clipped shelf word ("myst", "biog") when exactly one shelf word starts with it.
            starts = [w for w in self._shelf_words if w.startswith(word) and w != word]
            if len(starts) == 1:
                fixed = starts[0]
        if fixed is None and len(word) >= 5 and word not in self._known and word.isalpha():
            limit = 1 if len(word) <= 7 else 2
            for targets, min_len in ((self._shelf_words, 5), (self._name_words, 6)):
                if len(word) < min_len or not targets:
                    continue
                hit = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=limit)
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
