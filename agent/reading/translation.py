"""Kinds of book named in German, Spanish or French, written in English before a message is read.

The reading, the shelf guesser and the encoder are English; a reader who asks for "un Krimi" or "novela negra"
asks for crime novels. The words are data (``data/translated_kinds.tsv``).
"""

from __future__ import annotations

import re
from functools import cache

from vibeshelf.agent.reading import cues


@cache
def _kinds() -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = {said.lower(): english for said, english in cues.table("translated_kinds.tsv")}
    return cues.phrase_regex(list(pairs)), pairs


def kinds_in_english(text: str) -> str:
    """``text`` with the kinds of book it names in German, Spanish or French written in English."""
    rx, pairs = _kinds()
    return rx.sub(lambda m: pairs.get(m.group(0).lower(), m.group(0)), text)
