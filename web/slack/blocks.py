"""Slack Block Kit for vibeshelf answers: the answer text as mrkdwn sections, each book as a card section.

Everything from the model or the catalog is escaped (``&``, ``<``, ``>``) before it becomes mrkdwn, so a
title or an answer cannot ping ``<!channel>``, mention a user or smuggle a link; links are only made
from http(s) URLs. The answer's markdown (what every other surface shows) is translated to Slack's
mrkdwn dialect: ``**bold**`` -> ``*bold*``, ``[label](url)`` -> ``<url|label>``, headings -> bold lines.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from vibeshelf.agent.events import BookPick

# Block Kit limits: a section's text, an image's alt text, blocks per message.
SECTION_CHARS = 3000
ALT_TEXT_CHARS = 2000
MAX_BLOCKS = 50
# A message's top-level ``text`` (the notification and screen-reader fallback) is cut well below 40k.
FALLBACK_TEXT_CHARS = 3000

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
# Placeholders for bold/links while the italic rule runs (NUL never occurs in model text we keep).
_HOLD = "\x00"
# The buttons under each card: action_id -> what it does (web/slack/actions.py reads the clicks).
ACTION_IDS = {
    "vibeshelf_more": "more",
    "vibeshelf_read": "read",
    "vibeshelf_up": "up",
    "vibeshelf_down": "down",
}
_BUTTON_LABELS = {"more": "More like this", "read": "I've read it", "up": "👍", "down": "👎"}
# A button's value is at most 2000 characters; book ids are far shorter.
BUTTON_VALUE_CHARS = 2000


def escape(text: str) -> str:
    """Slack's three mrkdwn control characters as entities; everything else is left as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), made safe inside ``<url|label>`` (no ``|``, ``<``, ``>``, spaces)."""
    if not url or not re.match(r"^https?://[^\s]+$", url, flags=re.IGNORECASE):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """An mrkdwn link, or the escaped label alone when the URL is not http(s)."""
    href = safe_url(url)
    return f"<{href}|{escape(label)}>" if href else escape(label)


def to_mrkdwn(markdown: str) -> str:
    """The agent's markdown as Slack mrkdwn, with all of its text escaped."""
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return f"{_HOLD}{len(held) - 1}{_HOLD}"

    text = markdown.replace(_HOLD, "")
    # Links first, from the raw text (the URL must not be entity-escaped twice).
    text = _LINK.sub(lambda m: hold(link(m.group(2), m.group(1))), text)
    text = escape(text)
    text = _HEADING.sub(lambda m: hold(f"*{m.group(1)}*"), text)
    text = _BOLD.sub(lambda m: hold(f"*{m.group(1) or m.group(2)}*"), text)
    text = _ITALIC.sub(lambda m: f"_{m.group(1)}_", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    # Held pieces may themselves hold others (a link inside bold): expand until none are left.
    pattern = re.compile(f"{_HOLD}(\\d+){_HOLD}")
    while pattern.search(text):
        text = pattern.sub(lambda m: held[int(m.group(1))], text)
    return text


def defuse(markdown: str) -> str:
    """Markdown for Slack's streaming ``markdown_text``: Slack's ``<!here>`` / ``<@U..>`` / ``<#C..>``
    syntax is broken with a zero-width space so model text can never ping or mention anyone."""
    return re.sub(r"<([!@#])", "<\u200b\\1", markdown)


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at paragraph, line or word breaks."""
    pieces: list[str] = []
    while len(text) > size:
        cut = max(text.rfind("\n\n", 0, size), text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else size
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text.strip():
        pieces.append(text)
    return pieces


def text_sections(markdown: str) -> list[dict[str, Any]]:
    """The answer as one or more mrkdwn sections (each within Slack's 3000-character limit)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for piece in _chunks(to_mrkdwn(markdown), SECTION_CHARS)
    ]


def context(text_mrkdwn: str) -> dict[str, Any]:
    """A small grey line (progress, notes). ``text_mrkdwn`` must already be escaped."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text_mrkdwn[:SECTION_CHARS]}]}


def _year(year: int) -> str:
    return f"{-year} BC" if year < 0 else str(year)


def book_section(book: BookPick) -> dict[str, Any]:
    """One book card: title link, authors and year, rating with count, the one-line why, cover image."""
    lines = [f"*{link(book.link, book.title)}*"]
    byline = []
    if book.authors:
        byline.append("by " + escape(", ".join(book.authors)))
    if book.year is not None:
        byline.append(_year(book.year))
    if byline:
        lines.append(" · ".join(byline))
    if book.average_rating is not None:
        rating = f"★ {book.average_rating:.2f}"
        if book.ratings_count:
            rating += f" ({book.ratings_count:,} ratings)"
        lines.append(rating)
    if book.reason:
        lines.append(f"_{escape(' '.join(book.reason.split()))}_")
    text = "\n".join(lines)
    if len(text) > SECTION_CHARS:
        text = text[: SECTION_CHARS - 1] + "…"
    section: dict[str, Any] = {"type": "section", "block_id": f"book:{book.id}"[:255]}
    section["text"] = {"type": "mrkdwn", "text": text}
    cover = safe_url(book.image_url)
    if cover:
        # Image URLs are plain JSON strings, not mrkdwn: the unescaped (but http-only) URL goes here.
        section["accessory"] = {
            "type": "image",
            "image_url": book.image_url,
            "alt_text": f"Cover of {book.title}"[:ALT_TEXT_CHARS],
        }
    return section


def book_buttons(book: BookPick) -> dict[str, Any] | None:
    """The card's buttons (more like this, I've read it, up, down), each carrying the book id."""
    if len(book.id) > BUTTON_VALUE_CHARS:
        return None
    elements = [
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": _BUTTON_LABELS[kind], "emoji": True},
            "value": book.id,
        }
        for action_id, kind in ACTION_IDS.items()
    ]
    elements[0]["style"] = "primary"
    return {"type": "actions", "block_id": f"actions:{book.id}"[:255], "elements": elements}


def book_blocks(books: list[BookPick], *, buttons: bool = True) -> list[dict[str, Any]]:
    """A divider then one card per book (each book once, in the order shown), each with its buttons."""
    seen: set[str] = set()
    cards = []
    for book in books:
        if book.id not in seen:
            seen.add(book.id)
            cards.append(book_section(book))
            actions = book_buttons(book) if buttons else None
            if actions is not None:
                cards.append(actions)
    return [{"type": "divider"}, *cards] if cards else []


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most Slack's 50 blocks: text sections are kept, the surplus cards are dropped from the end
    (a card's buttons go with it)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    if kept[-1].get("type") == "section" and str(kept[-1].get("block_id", "")).startswith("book:"):
        kept = kept[:-1]  # a card whose buttons did not fit
    return [*kept, context("_More books were found than fit in one Slack message._")]


def fallback_text(markdown: str, books: list[BookPick]) -> str:
    """The plain ``text`` a message carries beside its blocks (notifications, screen readers)."""
    text = to_mrkdwn(markdown).strip()
    if books and not text:
        text = "Books: " + ", ".join(escape(b.title) for b in books)
    if len(text) > FALLBACK_TEXT_CHARS:
        text = text[: FALLBACK_TEXT_CHARS - 1] + "…"
    return text or "…"
