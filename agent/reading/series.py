"""Catalog series named in a reader's words ("no Discworld", "done with Jack Reacher", "percy jackson")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vibeshelf.agent.reading.vocabulary import Vocabulary
from vibeshelf.retrieval.title_lookup import title_key

_TOKEN = re.compile(r"[\w][\w'’&:!.-]*")  # as titles.py tokenises


@dataclass(frozen=True)
class SeriesMention:
    series: str
    start: int
    end: int


def find_series(vocab: Vocabulary, text: str, start: int = 0, end: int | None = None) -> list[SeriesMention]:
    """Catalog series named in ``text[start:end]`` ("no Discworld", "done with Jack Reacher")."""
    if not vocab.series:
        return []
    end = len(text) if end is None else end
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    out: list[SeriesMention] = []
    i = 0
    while i < len(tokens):
        hit = None
        for length in range(min(6, len(tokens) - i), 0, -1):
            a, b = tokens[i][0], tokens[i + length - 1][1]
            raw = text[a:b].rstrip(".:!,")
            key = title_key(raw)
            # A one-word series name only with a capital ("Discworld") or an unusual word ("mistborn").
            ok = length >= 2 or raw[:1].isupper() or len(key) >= 6
            # A family's series said in the singular ("Bridgerton" for "Bridgertons") is that series.
            said = key if key in vocab.series else f"{key}s" if len(key) >= 5 else key
            if said not in vocab.series and key.endswith("s") and len(key) >= 6:
                # ... and its books in the plural ("read all the harry potters", "the reachers") too.
                said = key[:-1]
            if said in vocab.series and ok and not vocab.is_common_word(key):
                hit = SeriesMention(vocab.series[said], a, a + len(raw))
                break
        if hit is None:
            i += 1
            continue
        out.append(hit)
        i = next((k for k, (a, _) in enumerate(tokens) if a >= hit.end), len(tokens))
    return out
