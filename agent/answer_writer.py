"""The offline planner's final answer: each pick explained from the tool evidence, in plain English.

Only books that came back from tools are named (picks, the seeds the reader gave, books they have read,
"did you mean" suggestions), each title in ``**bold**`` exactly as the tool wrote it. A pick's reason is
built from what the tools reported about it: co-readers of the seed books, matched query words, the
shelves it sits on, its place in a ranking, and its rating with the number of ratings. Wording varies
between books but is chosen by a hash of the book id (never at random), so the same conversation always
gets the same answer.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from vibeshelf.retrieval.genre_shelves import specific_genres

# Query words not worth repeating back as evidence ("book", "something").
_DULL = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "with",
        "at",
        "by",
        "from",
        "into",
        "over",
        "under",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "nor",
        "but",
        "or",
        "if",
        "then",
        "than",
        "so",
        "too",
        "very",
        "really",
        "just",
        "also",
        "only",
        "more",
        "less",
        "most",
        "some",
        "any",
        "all",
        "each",
        "every",
        "other",
        "such",
        "own",
        "same",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "when",
        "where",
        "who",
        "whom",
        "which",
        "what",
        "why",
        "how",
        "it",
        "its",
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "they",
        "them",
        "their",
        "theirs",
        "we",
        "us",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "mine",
        "one",
        "ones",
        "once",
        "now",
        "book",
        "books",
        "novel",
        "novels",
        "read",
        "reading",
        "something",
        "anything",
        "story",
        "stories",
        "want",
        "looking",
        "good",
        "great",
        "about",
        "like",
        "new",
        "first",
        "last",
        "many",
        "much",
        "well",
        "way",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "ever",
        "best",
    ]
)


class AnswerContext(BaseModel):
    """Everything the answer may say, all of it from the conversation or the tool results."""

    kind: Literal[
        "greeting", "small_talk", "no_tools", "search", "like", "history", "lucky", "popular", "different"
    ]
    small_talk: Literal["thanks", "greeting", "bye", "other"] | None = None
    query: str = ""
    genres: list[str] = Field(default_factory=list)
    picks: list[dict[str, Any]] = Field(default_factory=list)
    seeds: list[dict[str, Any]] = Field(default_factory=list)
    close_matches: list[Any] = Field(default_factory=list, description="Lookups matched only approximately.")
    not_found: list[tuple[str, list[dict[str, Any]]]] = Field(default_factory=list)
    read_now: list[dict[str, Any]] = Field(default_factory=list)
    read_not_found: list[str] = Field(default_factory=list)
    ruled_out: list[dict[str, Any]] = Field(default_factory=list, description="'nothing like X' books.")
    away_genres: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    pages_unknown: bool = Field(
        default=False,
        description="A tool said the catalog has no page counts, so its page limit was ignored.",
    )
    page_limit: str = Field(default="", description="The reader's page limit in words ('under 200 pages').")
    notes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    more: bool = False
    searched: bool = False


def _choose(key: str, options: Sequence[str]) -> str:
    # crc32, not hash(): Python salts str hashes per process, and answers must be reproducible.
    return options[zlib.crc32(key.encode("utf-8")) % len(options)]


def _bold(card: Mapping[str, Any]) -> str:
    return f"**{card['title']}**"


def _names(cards: Sequence[Mapping[str, Any]], bold: bool = True) -> str:
    names = [_bold(c) if bold else str(c["title"]) for c in cards[:3]]
    if len(cards) > 3:
        names[-1] = f"{names[-1]} and others"
        return ", ".join(names)
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _a(phrase: str) -> str:
    """The phrase with its indefinite article: "an epic fantasy", "an urban fantasy", "a utopia"."""
    # A "u" that sounds like "you" (utopia, unicorn, user) takes "a"; "un-", "ur-", "up-" take "an".
    vowel_sound = re.match(r"[aeio]|u(?!ni|s|t|ro|ku)", phrase.lower()) is not None
    return f"{'an' if vowel_sound else 'a'} {phrase}"


def _genre(g: str) -> str:
    return {"non_fiction": "non-fiction", "childrens": "children's", "young_adult": "young adult"}.get(
        g, g.replace("_", " ")
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _byline(card: Mapping[str, Any]) -> str:
    authors = [a for a in (card.get("authors") or []) if a]
    by = ""
    if authors:
        by = f" by {authors[0]}" + (
            " and others" if len(authors) > 2 else f" and {authors[1]}" if len(authors) == 2 else ""
        )
    year = card.get("year")
    when = ""
    if isinstance(year, int):
        when = f" ({year})" if year >= 0 else f" ({-year} BC)"
    return f"{_bold(card)}{by}{when}"


def _rating(card: Mapping[str, Any]) -> str:
    avg, count = card.get("average_rating"), card.get("ratings_count")
    if not isinstance(avg, (int, float)):
        return ""
    if not isinstance(count, int) or count <= 0:
        return f"Rated {avg:.2f} on average."
    return _choose(
        f"rating|{card['id']}",
        [
            f"Rated {avg:.2f} from {count:,} ratings.",
            f"{count:,} readers give it {avg:.2f} on average.",
            f"It averages {avg:.2f} across {count:,} ratings.",
            f"{avg:.2f} average from {count:,} ratings.",
        ],
    )


def _terms(card: Mapping[str, Any]) -> list[str]:
    why = card.get("why") or {}
    seen: list[str] = []
    for term in why.get("matched_terms") or []:
        t = str(term).lower().strip()
        if len(t) > 2 and t not in _DULL and t not in seen and not t.isdigit():
            seen.append(t)
    return seen[:3]


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _reason(card: Mapping[str, Any], ctx: AnswerContext) -> str:
    """One sentence on why this book, from the evidence the tools returned for it."""
    why = card.get("why") or {}
    key = str(card["id"])
    pieces: list[str] = []
    co = why.get("co_readers")
    seed_names = _names(ctx.seeds[:2], bold=False) if ctx.seeds else ""
    if isinstance(co, int) and co > 0 and seed_names:
        pieces.append(
            _choose(
                f"co|{key}",
                [
                    f"{_plural(co, 'reader')} who rated {seed_names} highly loved this one too",
                    f"a favourite with {_plural(co, 'fan')} of {seed_names}",
                    f"{_plural(co, 'reader')} who enjoyed {seed_names} rated it highly as well",
                    f"readers of {seed_names} keep coming back to it ({co:,} rated both highly)",
                ],
            )
        )
    elif why.get("method") == "content" and seed_names:
        pieces.append(
            _choose(f"content|{key}", [f"close in theme to {seed_names}", f"shares a lot with {seed_names}"])
        )
    # In a "like X" answer the search ran on X's blurb, and with no query of the reader's it ran on
    # words of ours ("popular"): matched words are worth citing only when they are the reader's.
    terms = [] if ctx.kind == "like" or not ctx.query.strip() else _terms(card)
    asked = [w for g in ctx.genres for w in g.split("_")]
    terms = [t for t in terms if not any(w.startswith(t) or t.startswith(w.rstrip("s")) for w in asked)]
    if (
        ctx.kind == "like"
        and seed_names
        and not pieces
        and why.get("method") not in ("collaborative", "mixed")
    ):
        pieces.append(
            _choose(
                f"similar|{key}", [f"close in theme to {seed_names}", f"in a similar vein to {seed_names}"]
            )
        )
    if terms:
        pieces.append(
            _choose(
                f"terms|{key}",
                [
                    f"it touches on {_and(terms)}",
                    f"it matches on {_and(terms)}",
                    f"{_and(terms)} {'is' if len(terms) == 1 else 'are'} right there in it",
                ],
            )
        )
    genres = specific_genres(card.get("genres"))
    # Two shelves that say the same thing ("contemporary", "contemporary fiction") count as one.
    genres = [
        g for i, g in enumerate(genres) if not any(g.split("_")[0] == h.split("_")[0] for h in genres[:i])
    ]
    wanted = [g for g in ctx.genres if g in (card.get("genres") or [])]
    if wanted:
        pieces.append(
            _choose(
                f"want|{key}", [f"shelved as {_genre(wanted[0])}, as asked", f"{_a(_genre(wanted[0]))} pick"]
            )
        )
    elif len(genres) >= 2 and len(pieces) < 2:
        g1, g2 = _genre(genres[0]), _genre(genres[1])
        pieces.append(
            _choose(
                f"genres|{key}",
                [f"part {g1}, part {g2}", f"{g1} with {_a(g2)} streak", f"shelved as {g1} and {g2}"],
            )
        )
    elif genres and len(pieces) < 2:
        pieces.append(
            _choose(f"genre|{key}", [f"{_a(_genre(genres[0]))} read", f"shelved as {_genre(genres[0])}"])
        )
    method = why.get("method")
    if method == "popular" and why.get("reason"):
        pieces.insert(0, str(why["reason"]))
    elif method == "lucky" or (ctx.kind == "lucky" and not pieces):
        pieces.insert(0, "drawn at random from what fits")
    elif (
        not terms
        and not co
        and isinstance(why.get("vector_rank"), int)
        and why["vector_rank"] <= 3
        and ctx.query
    ):
        pieces.insert(0, "one of the closest in meaning to what you described")
    pieces = pieces[:2]
    if not pieces:
        reason = str(why.get("reason") or "").strip().rstrip(".")
        return reason
    text = "; ".join(pieces)
    return text[0].upper() + text[1:]


def _constraint_clause(ctx: AnswerContext) -> str:
    return f" ({', '.join(ctx.constraints)})" if ctx.constraints else ""


def _intro(ctx: AnswerContext) -> str:
    c = _constraint_clause(ctx)
    key = "|".join([ctx.kind, ctx.query, *[str(p["id"]) for p in ctx.picks]])
    # "something spooky" reads as "spooky" when quoted back.
    query = re.sub(
        r"^(?:something|anything|some|any|an?)\s+(?=\S)", "", " ".join(ctx.query.split()), flags=re.I
    )
    if ctx.more:
        return _choose(key, [f"A few more along the same lines{c}:", f"Here are some more{c}:"])
    if ctx.kind == "like" and ctx.seeds:
        seeds = _names(ctx.seeds)
        return _choose(
            key,
            [
                f"If you liked {seeds}, try these{c}:",
                f"Readers who enjoyed {seeds} also went for these{c}:",
                f"In the spirit of {seeds}{c}:",
            ],
        )
    if ctx.kind == "history":
        return _choose(
            key,
            [
                f"From the books you've liked, readers with the same taste went for these next{c}:",
                f"Your next read, picked from your own history{c}:",
            ],
        )
    if ctx.kind == "lucky":
        return _choose(
            key, [f"Feeling lucky? Here's one to try{c}:", f"Luck of the draw{c}:", f"A wildcard for you{c}:"]
        )
    if ctx.kind == "popular":
        what = f"{_genre(ctx.genres[0])} books" if ctx.genres else "books"
        return _choose(key, [f"Some of the most-read {what} in the catalog{c}:", f"Widely read {what}{c}:"])
    if ctx.kind == "different":
        away = f", away from {_and([_genre(g) for g in ctx.away_genres])}" if ctx.away_genres else ""
        return _choose(key, [f"Something different, then{away}{c}:", f"A change of direction{away}{c}:"])
    if query:
        return _choose(
            key,
            [
                f"Here are some books for “{query}”{c}:",
                f"For “{query}”{c}, I'd try these:",
                f"A few that fit “{query}”{c}:",
            ],
        )
    return _choose(key, [f"Here are some picks{c}:", f"These fit what you asked for{c}:"])


def _closing(ctx: AnswerContext) -> str:
    key = "close|" + "|".join(str(p["id"]) for p in ctx.picks)
    if len(ctx.picks) == 1:
        return _choose(
            key, ["Want a few more like it, or another roll?", "Say “more like this” or ask for another."]
        )
    return _choose(
        key,
        [
            "Want more like one of these? Say “more like the second one”, or ask for something different.",
            "Tell me which one is closest and I'll find more like it.",
            "If one of these hits the spot, say “more like the first one”; or I can go in another direction.",
        ],
    )


def _preface(ctx: AnswerContext) -> list[str]:
    lines = list(ctx.notes)
    if ctx.pages_unknown:
        limit = f"“{ctx.page_limit}”" if ctx.page_limit else "the page limit"
        lines.append(f"This catalog has no page counts, so I couldn't apply {limit}.")
    for title, suggestions in ctx.not_found:
        if suggestions:
            lines.append(f"I couldn't find “{title}” in the catalog; did you mean {_names(suggestions[:3])}?")
        else:
            lines.append(f"I couldn't find “{title}” in the catalog, so I searched for it as a description.")
    for lk in ctx.close_matches:
        ref = getattr(lk, "ref", None)
        match = getattr(lk, "match", None)
        if ref is not None and match:
            lines.append(f"I took “{ref.title}” to mean {_bold(match)}.")
    if ctx.read_now:
        lines.append(
            f"I've left out {_names(ctx.read_now)}, since you've read it."
            if len(ctx.read_now) == 1
            else f"I've left out {_names(ctx.read_now)}, since you've read them."
        )
    if ctx.ruled_out:
        lines.append(f"I've left out {_names(ctx.ruled_out)}, as you asked.")
    for title in ctx.read_not_found:
        lines.append(f"I couldn't find “{title}” in the catalog to leave it out.")
    return lines


_STEER = "Tell me a mood, a book you loved or a kind of book, and I'll find you something to read."
_SMALL_TALK = {
    "thanks": "You're welcome! Want more like these, or something different?",
    "bye": "Happy reading! Come back any time you need the next book.",
    "other": f"I only know about books, so I can't help with that one. {_STEER}",
}


def write_answer(ctx: AnswerContext) -> str:
    """The final answer text (markdown: bold titles, a numbered list)."""
    if ctx.kind == "greeting":
        lines = [
            *_preface(ctx),
            "Tell me what you're in the mood for: a feeling (say, cozy and melancholic for a rainy weekend), "
            "a book you loved, or limits such as nothing young adult, before 2000 or less well known.",
        ]
        return "\n\n".join(lines)
    if ctx.kind == "small_talk":
        return _SMALL_TALK.get(ctx.small_talk or "other", _SMALL_TALK["other"])
    if ctx.kind == "no_tools":
        return "I need the catalog tools to recommend books, and this request offered none."
    preface = _preface(ctx)
    if not ctx.picks:
        if ctx.errors:
            failure = ctx.errors[0].rstrip(".")
            body = f"The catalog search failed just now ({failure}). Please try again in a moment."
        else:
            body = (
                f"I couldn't find anything that fits all of that{_constraint_clause(ctx)}. "
                "Try loosening one of the limits, or describe it another way."
            )
        return "\n\n".join([*preface, body])
    lines = []
    for i, card in enumerate(ctx.picks, start=1):
        reason = _reason(card, ctx)
        rating = _rating(card)
        tail = " ".join(x for x in [f"{reason}." if reason else "", rating] if x)
        lines.append(f"{i}. {_byline(card)}" + (f" — {tail}" if tail else ""))
    return "\n\n".join([*preface, _intro(ctx), "\n".join(lines), _closing(ctx)])


def mentioned_order(text: str, cards: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards whose titles the text names, in the order it first names them.

    When the text has a numbered list only its lines count. A ``**bold**`` title counts first; otherwise
    the title as a whole word (case-sensitive, and only titles of 4+ characters or several words, so
    "It" is not found in every sentence).
    """
    numbered = [line for line in text.splitlines() if re.match(r"\s*\d{1,2}[.)]\s", line)]
    if numbered:  # a numbered list is the list; titles in the lines around it are context
        text = "\n".join(numbered)
    found: list[tuple[int, int, dict[str, Any]]] = []
    for order, card in enumerate(cards):
        title = str(card.get("title") or "").strip()
        if not title:
            continue
        pos = text.find(f"**{title}**")
        if pos < 0 and (len(title) >= 4 or " " in title) and title in text:
            m = re.search(rf"(?<!\w){re.escape(title)}(?!\w)", text)
            pos = m.start() if m else -1
        if pos >= 0:
            found.append((pos, order, card))
    found.sort(key=lambda x: (x[0], x[1]))
    out: list[dict[str, Any]] = []
    for _, _, card in found:
        if card["id"] not in {c["id"] for c in out}:
            out.append(card)
    return out
