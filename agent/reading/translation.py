"""Kinds of book named in German, Spanish or French, and the words a request turns on ("sin", "espera",
"perdón"), written in English before a message is read.

The reading, the shelf guesser and the encoder are English; a reader who asks for "un Krimi" or "novela negra"
asks for crime novels, one who writes "sin vampiros" rules vampires out, and "no espera, I meant Gaiman"
corrects the name before it. The words are data
(``data/translated_kinds.tsv``, ``data/translated_cues.tsv``).
"""

from __future__ import annotations

import re

from vibeshelf.agent.reading import cues

# Spanish "sin" is also the English noun: "without" only where a clause starts.
_AMBIGUOUS = {"sin"}
_CLAUSE_START = re.compile(r"(?:^|[.,;:!?¡¿()\-–—]\s*|\b(?:and|but|y|pero)\s+)$", re.IGNORECASE)


def in_english(text: str) -> str:
    """``text`` with the kinds of book it names in German, Spanish or French, and the cue words said in
    those languages, written in English."""
    text = cues.rewrite(text, "translated_kinds.tsv")
    rx, pairs = cues.rewrites("translated_cues.tsv")

    def english(m: re.Match[str]) -> str:
        said = m.group(0).lower()
        if said in _AMBIGUOUS and not _CLAUSE_START.search(m.string, 0, m.start()):
            return m.group(0)
        return pairs.get(said, m.group(0))

    return rx.sub(english, text)
