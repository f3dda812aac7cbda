"""Text normalisation shared by every layer: accent folding and the text of a chat message.

The one place these rules live, so the reader's words, the catalog's titles and the filters' patterns are
folded alike ("Brontë" and "bronte" are one word everywhere).
"""

from __future__ import annotations

import unicodedata
from typing import Any


def fold(text: str) -> str:
    """Lower case without accents ("Brontë" -> "bronte"), for matching what readers type."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


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
