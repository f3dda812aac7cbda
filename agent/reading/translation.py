"""Kinds of book named in German, Spanish or French, written in English before a message is read.

The reading, the shelf guesser and the encoder are English; a reader who asks for "un Krimi" or "novela negra"
asks for crime novels. The words are data (``data/translated_kinds.tsv``).
"""

from __future__ import annotations

from vibeshelf.agent.reading import cues


def kinds_in_english(text: str) -> str:
    """``text`` with the kinds of book it names in German, Spanish or French written in English."""
    return cues.rewrite(text, "translated_kinds.tsv")
