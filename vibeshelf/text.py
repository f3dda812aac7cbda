"""Text normalisation shared by every layer: accent folding and the text of a chat message.

The one place these rules live, so the reader's words, the catalog's titles and the filters' patterns are
folded alike ("Brontë" and "bronte" are one word everywhere).
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Letters with no decomposition into a base letter and an accent, written as readers type them
# ("Nesbø" -> "nesbo", "Ælfric" -> "aelfric").
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)


def fold(text: str) -> str:
    """Lower case without accents ("Brontë" -> "bronte", "Nesbø" -> "nesbo"), for matching what readers type."""
    if text.isascii():  # most text: nothing to decompose, and the per-character pass is the cost
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower().translate(_UNDECOMPOSED)


# What may stand right before a sentence's first word: nothing, a sentence end, a colon, an opening bracket or quote.
_SENTENCE_OPENERS = frozenset({"", ".", "!", "?", ";", ":", "\n", "(", '"', "\u201c"})


def starts_sentence(text: str, at: int) -> bool:
    """Whether the word at ``at`` opens a sentence, where its capital says nothing about the word itself."""
    return text[:at].rstrip()[-1:] in _SENTENCE_OPENERS


def _part(part: Any, key: str) -> Any:
    return part.get(key) if isinstance(part, dict) else getattr(part, key, None)


def message_text(content: Any) -> str:
    """A chat message's content as text: a string, or OpenAI content parts (the text parts joined, parts
    as dicts or objects; a part without a type is text). None is the empty string."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(_part(p, "text") or "") for p in content if _part(p, "type") in (None, "text"))
    return str(content)


def glance(text: str, limit: int = 60) -> str:
    """``text`` on one line of at most ``limit`` characters (cut at a word, with "…"), for a status line."""
    # Queries can be whole blurbs ("like X" searches by X's description): a status line stays one glance.
    text = " ".join(str(text).split())
    letters = [c for c in text[:limit] if c.isalpha()]
    if len(letters) > 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        text = text.lower()  # a blurb's shouted tagline ("WINNING MEANS FAME...") reads as a glitch
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" .,;:") + "…"
