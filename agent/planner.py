"""The offline planner's policy: read the conversation, decide the next step (tool calls or the answer).

Stateless between calls: everything it knows is re-read from the OpenAI-format messages each time —
every user turn (parsed by :mod:`vibeshelf.agent.intent` and folded oldest first, so turn 3 still
honours turn 2's "not YA"), the tool calls made and their results (find_book answers, books shown),
the book cards each turn showed, in the order shown ("the second one" is the second card), and the session
summary the agent loop puts in its system prompt, when there is one.

Within one user turn the steps are:

1. ``find_book`` for every title the reader named ("like X", "I've read X", "nothing like X"), all at once;
2. the search itself, by what was asked: a mood -> ``search_books`` with filters; "like X" / "more like
   the second one" -> ``readers_also_liked`` + ``search_books`` on the seed's description; "feeling
   lucky" -> ``feeling_lucky``; "popular" with no mood -> ``popular_books``; "something different" ->
   away from the last picks' genres;
3. once results are in, the final answer (:mod:`vibeshelf.agent.answer_writer`). It discusses exactly the
   book cards the agent loop showed for this turn's results, in the order it showed them
   (:func:`vibeshelf.agent.cards.shown_cards`), numbered 1..N, so "the second one" is the second card
   and item 2 of the text. So the tools are asked for only as many books as an answer presents
   (``PlannerConfig`` limits), with the reader's limits as tool filters; a card that still breaks a hard
   constraint (the loop's ``ConstraintGuard`` drops those before showing them) is left unsaid. One
   relaxed retry is made when nothing survives.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from vibeshelf.agent.answer_writer import AnswerContext, write_answer
from vibeshelf.agent.cards import shown_cards
from vibeshelf.agent.intent import (
    Constraints,
    Intent,
    ParseConfig,
    TitleRef,
    split_titles,
    split_tone,
)
from vibeshelf.agent.reading import cues
from vibeshelf.agent.reading.reader import MessageReader, catalog_reader
from vibeshelf.agent.reading.request import RequestTracker
from vibeshelf.retrieval.filters import NO_PAGE_COUNTS_NOTE
from vibeshelf.retrieval.genre_shelves import specific_genres
from vibeshelf.text import message_text
from vibeshelf.tools.models import MAX_HISTORY

RECOMMENDERS = ("search_books", "readers_also_liked", "feeling_lucky", "popular_books")
# Shelves too broad to say anything about a reader's taste ("fiction"): ignored when moving away.
# A find_book suggestion this similar (0-100) is taken as the book the reader meant.
CLOSE_MATCH = 88.0
# A fenced block; the system prompt also names the tag in its prose, so a block never spans a second opening.
_DATA_BLOCK = re.compile(r"<book_data>((?:(?!<book_data>).)*?)</book_data>", re.DOTALL)


class PlannerConfig(BaseModel):
    """Knobs of the planning policy; ``parse`` holds the catalog-relative meanings of vague words."""

    parse: ParseConfig = Field(default_factory=ParseConfig)
    # Every book a tool returns becomes a card the answer discusses, so the limits size the answer:
    # about 6-8 cards a turn.
    picks: int = Field(default=5, ge=1, le=10, description="Last-shown books that seed 'more like these'.")
    search_limit: int = Field(default=6, ge=1, le=25, description="search_books results for a mood.")
    # "Like X" leans on co-readers (held-out Recall@20 0.30, and the tool tops a thin list up by content
    # similarity under the same filters); a search on the seeds' blurbs adds a couple of different angles,
    # but its keyword half also matches a blurb's incidental words ("nation", "means").
    related_limit: int = Field(default=6, ge=1, le=25, description="readers_also_liked results for 'like X'.")
    like_search_limit: int = Field(
        default=2, ge=1, le=25, description="search_books results beside them, on the seeds' blurbs."
    )
    popular_limit: int = Field(default=6, ge=1, le=25)
    max_rounds: int = Field(default=4, ge=1, description="Tool rounds per user message before answering.")
    min_cards: int = Field(
        default=6,
        ge=1,
        le=10,
        description="Fewer cards than this after the search: top up with plainer words.",
    )


class PlannedCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any]

    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False, separators=(",", ":"))


class ToolCallsStep(BaseModel):
    kind: Literal["tool_calls"] = "tool_calls"
    calls: list[PlannedCall]


class AnswerStep(BaseModel):
    kind: Literal["answer"] = "answer"
    text: str
    picks: list[dict[str, Any]] = Field(default_factory=list, description="The book cards named, in order.")


PlannerStep = ToolCallsStep | AnswerStep


# --- reading the messages ---------------------------------------------------------------------------


@dataclass
class Call:
    id: str
    name: str
    args: dict[str, Any]
    result: Any = None  # parsed JSON of the tool message; None until it arrives
    answered: bool = False

    @property
    def error(self) -> str | None:
        if not self.answered:
            return None
        if isinstance(self.result, dict) and isinstance(self.result.get("error"), dict):
            return str(self.result["error"].get("message") or "tool error")
        if not isinstance(self.result, dict):
            return "unreadable tool result"
        return None


@dataclass
class Turn:
    text: str
    calls: list[Call] = field(default_factory=list)
    answer: str = ""
    rounds: int = 0  # assistant messages with tool calls


def _is_card(value: Any) -> bool:
    return (
        isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("title"), str)
    )


def _get(message: Any, key: str) -> Any:
    if isinstance(message, Mapping):
        return message.get(key)
    return getattr(message, key, None)


_OPEN, _CLOSE = "<book_data>", "</book_data>"
_EDITION_NOTE = re.compile(
    r"ISBN[\s\d-]*moved to this edition\.?"
    r"|Also see:? Alternate Cover Editions? for this ISBN(?: \[ACE\])?(?: ACE ?#?\d+)?"
    r"|\b(?:This is )?an? alternat(?:e|ive) cover edition[^.]*\.",
    re.IGNORECASE,
)


@lru_cache(maxsize=512)
def _json_payload(text: str) -> Any:
    """A tool message's JSON (cached: every planner call re-reads the same results; never mutated)."""
    body = text.strip()
    if body.startswith(_OPEN) and body.endswith(_CLOSE):
        # The loop fences tool output as data; a closing tag inside it is written "<\/book_data>".
        body = body[len(_OPEN) : -len(_CLOSE)]
    try:
        return json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return text


def read_turns(messages: Sequence[Any]) -> tuple[list[Turn], dict[str, Any]]:
    """Split the conversation into user turns (with their tool calls, results and answers).

    Also returns the session summary from the system prompt's ``<book_data>`` block, or ``{}``.
    """
    turns: list[Turn] = []
    session: dict[str, Any] = {}
    by_id: dict[str, Call] = {}
    for message in messages:
        role = _get(message, "role")
        if role == "system":
            for m in _DATA_BLOCK.finditer(message_text(_get(message, "content"))):
                data = _json_payload(m.group(0))
                if isinstance(data, dict) and "last_shown" in data:
                    session = data
            continue
        if role == "user":
            turns.append(Turn(text=message_text(_get(message, "content"))))
            continue
        if not turns:
            continue
        turn = turns[-1]
        if role == "assistant":
            tool_calls = _get(message, "tool_calls") or []
            if tool_calls:
                turn.rounds += 1
            for tc in tool_calls:
                fn = _get(tc, "function") or {}
                raw = _get(fn, "arguments") or "{}"
                try:
                    args = json.loads(raw) if isinstance(raw, str) else dict(raw)
                except (json.JSONDecodeError, TypeError, ValueError):
                    args = {}
                call = Call(id=str(_get(tc, "id") or ""), name=str(_get(fn, "name") or ""), args=args or {})
                turn.calls.append(call)
                by_id[call.id] = call
            content = message_text(_get(message, "content"))
            if content.strip() and not tool_calls:
                turn.answer = content
        elif role == "tool":
            call = by_id.get(str(_get(message, "tool_call_id") or ""))
            if call is not None:
                call.result = _json_payload(message_text(_get(message, "content")))
                call.answered = True
    return turns, session


# --- conversation state ---------------------------------------------------------------------------


def _fold_title(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


@dataclass
class Lookup:
    """One title the reader named and what find_book said about it (None: not looked up yet)."""

    ref: TitleRef
    parts: tuple[str, ...] = ()
    match: dict[str, Any] | None = None
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    looked_up: bool = False
    close: bool = False  # matched, though not exactly
    part_matches: list[dict[str, Any]] = field(default_factory=list)  # "A and B": each part's book
    parts_pending: bool = False  # the whole was not one book; its parts are still to be looked up
    avoid: bool = False  # "nothing like X": ruled out, not read


@dataclass
class Subject:
    """What the reader is currently asking for; constraints live separately and outlast it."""

    kind: Literal["none", "search", "like", "history", "lucky", "popular", "different"] = "none"
    query: str = ""
    genres: list[str] = field(default_factory=list)  # any one of these shelves
    genres_all: list[str] = field(default_factory=list)  # and every one of these ("funny": humor)
    seeds: list[dict[str, Any]] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    away_genres: list[str] = field(default_factory=list)
    avoid_shown: bool = False
    popular: bool = False


@dataclass
class ConversationState:
    """The planner's reading of the whole conversation, as of the latest user message."""

    intent: Intent
    constraints: Constraints
    subject: Subject
    read: list[dict[str, Any]] = field(default_factory=list)  # cards of books the reader has read
    read_lookups: list[Lookup] = field(default_factory=list)  # this turn's "I've read X" lookups
    excluded_ids: list[str] = field(default_factory=list)  # read, rejected, ruled out
    shown_ids: list[str] = field(default_factory=list)  # every book shown so far
    last_shown: list[dict[str, Any]] = field(default_factory=list)  # the previous turn's cards, in order
    notes: list[str] = field(default_factory=list)
    turn: Turn | None = None
    history_ids: list[str] = field(default_factory=list)  # books the reader liked: imported or thumbed up


def _found(call: Call | None) -> dict[str, Any] | None:
    """The book a find_book call identified: its exact match, or a suggestion close enough to be it."""
    r = call.result if call is not None and isinstance(call.result, dict) and not call.error else {}
    if _is_card(r.get("match")):
        return r["match"]
    best = next((s for s in r.get("suggestions") or [] if _is_card(s)), None)
    score = ((best or {}).get("why") or {}).get("score")
    if best is not None and isinstance(score, (int, float)) and score >= CLOSE_MATCH:
        return best  # "like harry potter" -> "Harry Potter and the Sorcerer's Stone"
    return None


def _lookup_results(turn: Turn, lookups: Iterable[Lookup]) -> None:
    """Fill each lookup from this turn's find_book calls (matched by the title asked for).

    "Dune and Hyperion" is first looked up whole (titles contain "and"); only when that is not one
    book are the parts looked up, and each part found becomes a seed.
    """
    by_title: dict[str, Call] = {}
    for c in turn.calls:
        if c.name == "find_book" and c.answered:
            by_title.setdefault(_fold_title(str(c.args.get("title") or "")), c)
    for lk in lookups:
        whole = by_title.get(_fold_title(lk.ref.title))
        if whole is None:
            continue
        lk.looked_up = True
        r = whole.result if isinstance(whole.result, dict) and not whole.error else {}
        lk.match, lk.part_matches, lk.parts_pending = None, [], False
        if _is_card(r.get("match")):
            lk.match, lk.close = r["match"], not r.get("exact", True)
            continue
        lk.suggestions = [s for s in (r.get("suggestions") or []) if _is_card(s)]
        if lk.parts:
            calls = [by_title.get(_fold_title(p)) for p in lk.parts]
            if any(c is None for c in calls):
                lk.parts_pending = True
                continue
            lk.part_matches = [m for m in (_found(c) for c in calls) if m is not None]
            if lk.part_matches:
                lk.match, lk.close = lk.part_matches[0], False
                continue
        near = _found(whole)
        if near is not None:
            lk.match, lk.close = near, True


def _found_cards(lookup: Lookup) -> list[dict[str, Any]]:
    """The books a lookup resolved to: each part's for "A and B", else its one match."""
    return lookup.part_matches or ([lookup.match] if lookup.match else [])


def _seeds_of(lookups: Iterable[Lookup]) -> list[dict[str, Any]]:
    seeds: list[dict[str, Any]] = []
    for lk in lookups:
        for card in _found_cards(lk):
            if card["id"] not in {s["id"] for s in seeds}:
                seeds.append(card)
    return seeds


def _new_lookups(refs: Iterable[TitleRef], *, avoid: bool = False) -> list[Lookup]:
    return [Lookup(ref=r, parts=split_titles(r.title).parts, avoid=avoid) for r in refs]


def _dominant_genres(cards: Sequence[Mapping[str, Any]], top: int = 3) -> list[str]:
    counts: dict[str, int] = {}
    for card in cards:
        for g in specific_genres((card.get("genres") or [])[:4]):
            counts[g] = counts.get(g, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [g for g, n in ranked[:top] if n >= max(1, len(cards) // 3)]


def _pick_refs(
    refs: Iterable[int], shown: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[int]]:
    got, missing = [], []
    for r in refs:
        if -len(shown) <= r < len(shown) and shown:
            got.append(shown[r])
        else:
            missing.append(r)
    return got, missing


def _ordinal(i: int) -> str:
    return (
        "last"
        if i == -1
        else {0: "first", 1: "second", 2: "third", 3: "fourth", 4: "fifth"}.get(i, f"#{i + 1}")
    )


def read_conversation(
    messages: Sequence[Any], config: PlannerConfig | None = None, reader: MessageReader | None = None
) -> ConversationState:
    """Fold every user turn, oldest first, into the state the next step is planned from.

    ``reader`` reads each message against the catalog (names, spelling); without one, only the general
    rules apply (no catalog names).
    """
    cfg = config or PlannerConfig()
    reader = reader or catalog_reader(None, cfg.parse)
    kinds = RequestTracker(reader.vocab.title_authors, title_shelves=reader.vocab.title_shelves)
    turns, session = read_turns(messages)
    constraints = Constraints()
    # The loop's fold of the reader's limits over the whole session (limits said before the replayed
    # turns included). The turns here are folded onto it again, which changes nothing already decided
    # and lets a lift in these turns override an older limit; used for the current turn's plan.
    kept = _kept_constraints(session.get("constraints"))
    subject = Subject()
    read: list[dict[str, Any]] = []
    excluded: list[str] = [
        str(i) for key in ("read_ids", "disliked_ids") for i in (session.get(key) or []) if isinstance(i, str)
    ]
    shown_ids: list[str] = []
    last_shown: list[dict[str, Any]] = []
    state: ConversationState | None = None
    # The reader's own history: books imported from their library as liked, then those thumbed up here.
    ruled_out = {str(i) for i in session.get("disliked_ids") or []}
    history = [
        str(i)
        for i in dict.fromkeys([*(session.get("history_ids") or []), *(session.get("liked_ids") or [])])
        if isinstance(i, str) and i not in ruled_out
    ]
    for index, turn in enumerate(turns):
        current = index == len(turns) - 1
        intent = kinds.observe(reader.read(turn.text, constraints.authors_any))
        notes: list[str] = []
        if intent.reset or intent.new_request:
            subject = Subject()
        constraints = constraints.apply(intent)
        if kept is not None:
            kept = kept.apply(intent)
            if current:
                constraints = kept
        if current and not last_shown and session.get("last_shown"):
            # History replay may have dropped the turn that listed them; the session still knows.
            last_shown = [b for b in session["last_shown"] if _is_card(b)]

        read_lookups = _new_lookups(intent.read_titles) + _new_lookups(intent.avoid_titles, avoid=True)
        _lookup_results(turn, read_lookups)
        for lk in read_lookups:
            for card in _found_cards(lk):  # "I've read A and B": every part found is out
                excluded.append(card["id"])
                if not lk.avoid:
                    read.append(card)
        for refs in (intent.read_refs, intent.reject_refs):
            got, missing = _pick_refs(refs, last_shown)
            excluded.extend(c["id"] for c in got)
            if refs is intent.read_refs:
                read.extend(got)
            if missing and current:
                notes.append(_missing_note(missing, last_shown))

        previous = subject
        if intent.small_talk is not None:
            pass  # the standing request is untouched by "thanks" or "what's the weather?"
        elif (intent.like_refs or intent.like_shown) and last_shown:
            seeds, missing = (
                _pick_refs(intent.like_refs, last_shown)
                if intent.like_refs
                else (last_shown[: cfg.picks], [])
            )
            if missing and current:
                notes.append(_missing_note(missing, last_shown))
            if seeds:
                subject = Subject(kind="like", query=intent.query if intent.topical else "", seeds=seeds)
                subject.avoid_shown = True
        elif intent.next_read and not intent.like_titles and (history or previous.kind == "none"):
            # "What should I read next?" from the reader's own history; a book named in the same message
            # ("loved X, what next?") makes it a "more like" instead, and with no history a standing
            # request simply goes on.
            subject = Subject(
                kind="history" if history else "popular",
                query=intent.query if intent.topical else "",
                genres=list(intent.genres_include),
                genres_all=list(intent.genres_all),
                popular=not history,
                avoid_shown=True,
            )
            if not history and current:
                notes.append(NO_HISTORY_NOTE)
        elif intent.like_titles:
            subject = Subject(
                kind="like",
                query=intent.query if intent.topical else "",
                genres=list(intent.genres_include),
                genres_all=list(intent.genres_all),
                lookups=_new_lookups(intent.like_titles),
            )
            _lookup_results(turn, subject.lookups)
            subject.seeds = _seeds_of(subject.lookups)
        elif intent.lucky:
            subject = Subject(
                kind="lucky",
                query=intent.query,
                genres=list(intent.genres_include),
                genres_all=list(intent.genres_all),
                avoid_shown=True,
            )
        elif intent.different:
            away = _dominant_genres(last_shown)
            subject = Subject(
                kind="different",
                query=intent.query if intent.topical else "",
                genres=[g for g in intent.genres_include if g not in away],
                genres_all=list(intent.genres_all),
                away_genres=away,
                avoid_shown=True,
            )
        elif ((intent.topical or intent.correction) and _starts_request(intent, previous)) or (
            intent.new_request and not (intent.popular and not intent.query)
        ):
            subject = Subject(
                kind=_search_kind(intent),
                query=intent.query,
                genres=list(intent.genres_include),
                genres_all=list(intent.genres_all),
            )
        elif intent.popular and not intent.query and previous.kind in ("none", "popular"):
            subject = Subject(
                kind="popular",
                genres=list(intent.genres_include),
                genres_all=list(intent.genres_all),
                popular=True,
            )
        elif previous.kind == "none":
            if intent.query or intent.genres_include or intent.genres_all or not constraints.is_empty():
                subject = Subject(
                    kind=_search_kind(intent),
                    query=intent.query,
                    genres=list(intent.genres_include),
                    genres_all=list(intent.genres_all),
                )
        else:
            # A refinement ("but not YA", "only fantasy ones", "darker", "more please"): same request.
            subject = _copy_subject(previous)
            if (intent.nudge or intent.topical) and intent.query:
                subject.query = f"{subject.query} {intent.query}".strip()
            for g in intent.genres_include:
                if g not in subject.genres:
                    subject.genres.append(g)
            # "something funny" then "fantasy ones": a funny fantasy, as if said in one message.
            subject.genres, subject.genres_all = split_tone(
                subject.genres, [*subject.genres_all, *intent.genres_all]
            )
            subject.avoid_shown = intent.more or subject.kind in ("lucky", "different")
            if subject.kind == "like" and not subject.seeds and subject.lookups:
                _lookup_results(turn, [lk for lk in subject.lookups if not lk.looked_up])
                subject.seeds = _seeds_of(subject.lookups)
        if intent.like_refs and not last_shown and current and subject.kind == "none":
            notes.append(
                _missing_note(intent.like_refs, last_shown)
            )  # "more like the second one", no list yet
        # A genre ruled out ("not YA", "actually not funny") leaves the request too, tone included.
        subject.genres = [g for g in subject.genres if g not in constraints.genres_exclude]
        subject.genres_all = [g for g in subject.genres_all if g not in constraints.genres_exclude]

        state = ConversationState(
            intent=intent,
            constraints=constraints,
            subject=subject,
            read=read,
            read_lookups=read_lookups,
            excluded_ids=list(dict.fromkeys(excluded)),
            shown_ids=list(shown_ids),
            last_shown=list(last_shown),
            notes=notes,
            turn=turn,
            history_ids=history,
        )
        if not current:
            listed = turn_cards(turn)
            if listed:
                last_shown = listed
                shown_ids.extend(c["id"] for c in listed if c["id"] not in shown_ids)
    if state is None:
        return ConversationState(intent=reader.read(""), constraints=Constraints(), subject=Subject())
    return state


NO_HISTORY_NOTE = (
    "I don't know your reading yet: give a thumbs-up to books you've enjoyed, or import your Goodreads or "
    "StoryGraph library, and I'll pick your next book from your own history. Meanwhile, widely loved books:"
)


def _search_kind(intent: Intent) -> Literal["search", "popular"]:
    """A request for an author's books with nothing said about them ("anything by Christie") lists the
    author's most read books; with words about them ("a cozy Christie") it is searched."""
    return "popular" if intent.authors and not intent.query else "search"


def _starts_request(intent: Intent, previous: Subject) -> bool:
    """Whether a message with a topic of its own replaces the standing request rather than refining it.

    A turn refines by default ("lighter, please", "something set in Paris"); it replaces the request when
    there is none yet, or when it corrects the kind of book ("I meant fantasy"). Starting over ("forget
    that, ...") or switching the kind ("now a thriller", after fantasy) is ``intent.new_request``
    (:class:`~vibeshelf.agent.reading.request.RequestTracker`).
    """
    if previous.kind in ("none", "popular"):
        return True
    asked = set(intent.genres_include)
    return intent.correction and bool(asked) and not asked & {*previous.genres, *previous.genres_all}


def _kept_constraints(data: Any) -> Constraints | None:
    """The session's limits from the system prompt's data block, or None when absent or malformed."""
    if not isinstance(data, dict):
        return None
    try:
        return Constraints.model_validate(data)
    except ValidationError:
        return None


def _copy_subject(s: Subject) -> Subject:
    return Subject(
        kind=s.kind,
        query=s.query,
        genres=list(s.genres),
        genres_all=list(s.genres_all),
        seeds=list(s.seeds),
        lookups=list(s.lookups),
        away_genres=list(s.away_genres),
        avoid_shown=s.avoid_shown,
        popular=s.popular,
    )


def _missing_note(missing: list[int], shown: Sequence[Mapping[str, Any]]) -> str:
    which = " and ".join(f"the {_ordinal(i)} one" for i in missing)
    if not shown:
        return f"I haven't shown you any books yet, so I can't tell which is {which}."
    books = f"{len(shown)} book{'s' if len(shown) != 1 else ''}"
    return f"I only listed {books} last time, so I couldn't find {which}."


# --- choosing the books ---------------------------------------------------------------------------


def turn_cards(turn: Turn) -> list[dict[str, Any]]:
    """The cards the agent loop showed for a turn's tool results, in the order it showed them.

    That order is what "the second one" refers to next turn (``SessionState.record_shown`` keeps it too).
    """
    return shown_cards((c.name, c.result) for c in turn.calls if c.answered)


def select_picks(turn: Turn, state: ConversationState) -> list[dict[str, Any]]:
    """This turn's picks: the cards shown, in the order shown, less any that break a hard constraint.

    The tools were asked with the reader's limits and the loop's guard drops what still breaks one, so
    normally nothing is left out here; a book left out is not discussed at all (never renumbered
    around). Soft preferences (genres asked for, moving away from the last picks, avoiding books shown
    before) shape the tool calls instead, since every book a tool returns is shown.
    """
    subject = state.subject
    rules = state.constraints.with_ids(state.excluded_ids).with_ids(s["id"] for s in subject.seeds)
    return [card for card in turn_cards(turn) if rules.admits(card)]


# --- planning -------------------------------------------------------------------------------------


def _call_id(salt: str, name: str, args: dict[str, Any]) -> str:
    digest = hashlib.sha1(f"{salt}|{name}|{json.dumps(args, sort_keys=True)}".encode()).hexdigest()
    return f"call_{digest[:20]}"


def _seed_query(subject: Subject) -> str:
    """Search text for "books like these": the reader's words, then each seed's blurb (or its genres)."""
    parts = [subject.query] if subject.query else []
    for seed in subject.seeds[:3]:
        # Catalog blurbs sometimes open with edition notes ("ISBN 978... moved to this edition.").
        excerpt = _EDITION_NOTE.sub(" ", str(seed.get("excerpt") or "")).strip()
        if excerpt:
            parts.append(" ".join(excerpt.split()[:40]))
        else:
            genres = [g.replace("_", " ") for g in specific_genres(seed.get("genres"))][:4]
            parts.append(" ".join([str(seed.get("title") or ""), *genres]))
    return (
        " ".join(" ".join(parts).split())[:480] or " ".join(str(s.get("title")) for s in subject.seeds)[:480]
    )


def _fallback_query(state: ConversationState) -> str:
    subject = state.subject
    if subject.query:
        return subject.query[:480]
    words = [g.replace("_", " ") for g in [*subject.genres_all, *subject.genres]]
    unresolved = [lk.ref.title for lk in subject.lookups if lk.match is None]
    text = " ".join([*unresolved, *words]).strip()
    return text or "well-loved books"


def _filters(
    state: ConversationState,
    *,
    with_genres: bool = True,
    avoid: Iterable[str] = (),
    shelves: Iterable[str] = (),
) -> dict[str, Any] | None:
    subject = state.subject
    rules = state.constraints.with_ids(state.excluded_ids).with_ids(avoid)
    if subject.avoid_shown:
        rules = rules.with_ids(state.shown_ids)
    out = rules.filters(
        include=[*subject.genres, *shelves] if with_genres else (),
        include_all=subject.genres_all if with_genres else (),
        extra_exclude_genres=subject.away_genres,
    )
    return out or None


def _seed_shelves(state: ConversationState) -> list[str]:
    """The seeds' specific shelves, to keep a search on their blurbs among books of their kind (a keyword
    match on "wedding anniversary" in Gone Girl's blurb found wedding romances). None when the reader
    named genres of their own ("like Dune but fantasy")."""
    if (
        state.subject.genres
        or state.subject.genres_all
        or state.constraints.genres_include
        or state.constraints.genres_all
    ):
        return []
    shelves = list(
        dict.fromkeys(g for seed in state.subject.seeds[:3] for g in specific_genres(seed.get("genres")))
    )
    # A qualifying shelf (classics, young adult) says which books, not what kind: beside a kind it would let
    # any classic through ("like The Handmaid's Tale" brought The Great Gatsby).
    kinds = [g for g in shelves if g not in cues.qualifying_shelves()]
    return (kinds or shelves)[:6]


def _retrieval_calls(state: ConversationState, cfg: PlannerConfig) -> list[tuple[str, dict[str, Any]]]:
    subject = state.subject
    calls: list[tuple[str, dict[str, Any]]] = []
    if subject.kind == "like" and subject.seeds:
        seed_ids = [s["id"] for s in subject.seeds][:10]
        avoid = list(
            dict.fromkeys([*seed_ids, *state.excluded_ids, *(state.shown_ids if subject.avoid_shown else [])])
        )
        calls.append(
            (
                "readers_also_liked",
                {
                    "book_ids": seed_ids,
                    "avoid_ids": avoid[-200:],
                    # "Like X" means books of X's kind: co-readers' picks outside its shelves are left out.
                    "filters": _filters(state, avoid=seed_ids, shelves=_seed_shelves(state)),
                    "limit": cfg.related_limit,
                },
            )
        )
        calls.append(
            (
                "search_books",
                {
                    "query": _seed_query(subject),
                    "filters": _filters(state, avoid=seed_ids, shelves=_seed_shelves(state)),
                    "limit": cfg.like_search_limit,
                },
            )
        )
    elif subject.kind == "history" and state.history_ids:
        avoid = list(dict.fromkeys([*state.excluded_ids, *state.shown_ids]))
        calls.append(
            (
                "readers_also_liked",
                {
                    "history": True,
                    "book_ids": state.history_ids[-MAX_HISTORY:],
                    "avoid_ids": avoid[-200:],
                    "filters": _filters(state),
                    "limit": cfg.related_limit,
                },
            )
        )
        if subject.query or subject.genres or subject.genres_all:
            # "what next? something funny": the history's picks, and the search for what was asked.
            calls.append(
                ("search_books", {"query": _fallback_query(state), "filters": _filters(state), "limit": 5})
            )
    elif subject.kind == "lucky":
        calls.append(("feeling_lucky", {"mood": subject.query or None, "filters": _filters(state)}))
    elif subject.kind == "popular" and state.constraints.authors_any:
        # An author's most read books, within every limit said (and past those shown, for "more").
        calls.append(("popular_books", {"filters": _filters(state), "limit": cfg.popular_limit}))
    elif (
        subject.kind == "popular" and not (subject.avoid_shown and state.shown_ids) and not subject.genres_all
    ):
        # Not with genres_all: popular_books takes one genre and no filters, so "popular funny fantasy"
        # goes to the filtered search below.
        genre = subject.genres[0] if subject.genres else None
        calls.append(("popular_books", {"genre": genre, "limit": cfg.popular_limit}))
    elif subject.kind in ("popular", "different") and not subject.query:
        # popular_books takes no filters, and every book it returns is shown: "more" of the most read,
        # or widely read books away from the last genres, come from a filtered search instead.
        if subject.kind == "different":
            calls.append(("feeling_lucky", {"mood": None, "filters": _filters(state)}))
        words = " ".join(g.replace("_", " ") for g in [*subject.genres_all, *subject.genres])
        limit = max(1, cfg.popular_limit - len(calls))
        calls.append(
            (
                "search_books",
                {
                    "query": f"popular {words}".strip(),
                    "filters": _popular_filters(state, cfg),
                    "limit": limit,
                },
            )
        )
    else:
        calls.append(
            (
                "search_books",
                {"query": _fallback_query(state), "filters": _filters(state), "limit": cfg.search_limit},
            )
        )
    return calls


def _popular_filters(state: ConversationState, cfg: PlannerConfig) -> dict[str, Any] | None:
    """The turn's filters, limited to widely read books unless the reader capped the ratings count."""
    out = dict(_filters(state) or {})
    if out.get("max_ratings_count") is None:
        out["min_ratings_count"] = max(out.get("min_ratings_count") or 0, cfg.parse.popular_min_ratings)
    return out or None


def _available(tools: Sequence[Mapping[str, Any]] | None) -> set[str] | None:
    if tools is None:
        return None
    names = set()
    for t in tools:
        fn = t.get("function") if isinstance(t, Mapping) else None
        name = (fn or {}).get("name") if isinstance(fn, Mapping) else None
        if name:
            names.add(name)
    return names


def plan(
    messages: Sequence[Any],
    tools: Sequence[Mapping[str, Any]] | None = None,
    config: PlannerConfig | None = None,
    reader: MessageReader | None = None,
) -> PlannerStep:
    """The next step for the conversation: tool calls to make, or the final answer.

    ``tools`` are the OpenAI tool schemas offered (only those are called; None means all six).
    """
    cfg = config or PlannerConfig()
    state = read_conversation(messages, cfg, reader)
    available = _available(tools)
    turn = state.turn
    if turn is None:
        return AnswerStep(text=write_answer(AnswerContext(kind="greeting")))
    salt = f"{len(messages)}"

    def usable(name: str) -> bool:
        return available is None or name in available

    def step(calls: list[tuple[str, dict[str, Any]]]) -> ToolCallsStep:
        out = []
        for name, args in calls:
            args = {k: v for k, v in args.items() if v is not None}
            if name == "search_books" and not str(args.get("query") or "").strip():
                args["query"] = "well-loved books"  # the tool rejects an empty query
            out.append(PlannedCall(id=_call_id(f"{salt}|{len(out)}", name, args), name=name, arguments=args))
        return ToolCallsStep(calls=out)

    subject = state.subject
    if state.intent.small_talk is not None and not turn.calls:
        # "thanks", "what is 2+3": a short answer that steers back to books; the request stands.
        talk = state.intent.small_talk
        kind: Literal["greeting", "small_talk"] = "greeting" if talk == "greeting" else "small_talk"
        notes = state.notes if kind == "greeting" else []
        return AnswerStep(text=write_answer(AnswerContext(kind=kind, small_talk=talk, notes=notes)))
    if turn.rounds < cfg.max_rounds:
        # 1. Titles the reader named, all looked up at once.
        if usable("find_book"):
            asked = {_fold_title(str(c.args.get("title") or "")) for c in turn.calls if c.name == "find_book"}
            lookups: list[tuple[str, dict[str, Any]]] = []
            for lk in [*subject.lookups, *state.read_lookups]:
                titles = (
                    []
                    if lk.looked_up and not lk.parts_pending
                    else lk.parts
                    if lk.looked_up
                    else [lk.ref.title]
                )
                for title in titles:
                    key = _fold_title(title)
                    if key in asked:
                        continue  # asked already and nothing came back: search for the words instead
                    asked.add(key)
                    args: dict[str, Any] = {"title": title}
                    if lk.ref.author and title == lk.ref.title:
                        args["author"] = lk.ref.author
                    lookups.append(("find_book", args))
            if lookups:
                return step(lookups)

        # 2. The search itself.
        searched = [c for c in turn.calls if c.name in RECOMMENDERS]
        if not searched and subject.kind != "none":
            if subject.kind == "like" and not subject.seeds:
                subject.kind = "search"  # no title found: search for the words instead
            calls = [(n, a) for n, a in _retrieval_calls(state, cfg) if usable(n)]
            if not calls and usable("search_books"):
                calls = [
                    (
                        "search_books",
                        {
                            "query": _fallback_query(state),
                            "filters": _filters(state),
                            "limit": cfg.search_limit,
                        },
                    )
                ]
            if calls:
                return step(calls)

        # 3. Too few books: first the same limits with plainer words (the reader's mood words are the soft
        # part), then, only when nothing at all is left, without the kinds asked for. A "no" is never relaxed.
        picks_so_far = select_picks(turn, state) if searched else []
        if searched and len(picks_so_far) < cfg.min_cards and usable("search_books"):
            for relaxed in _relaxations(state, cfg, picks_so_far):
                if not any(c.name == "search_books" and c.args == relaxed for c in searched):
                    return step([("search_books", relaxed)])

    picks = select_picks(turn, state)
    return AnswerStep(text=write_answer(_answer_context(state, turn, picks, available)), picks=picks)


def _relaxations(
    state: ConversationState, cfg: PlannerConfig, picks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Searches that may top a short answer up, softest change first (arguments as planned, Nones dropped)."""
    subject = state.subject
    shown = [p["id"] for p in picks]
    words = (
        " ".join(g.replace("_", " ") for g in [*subject.genres_all, *subject.genres]) or "well-loved books"
    )
    out = []
    if subject.query and subject.query != words:
        # The same limits and kinds, without the mood words.
        out.append({"query": words, "filters": _filters(state, avoid=shown), "limit": cfg.search_limit})
    if not picks:
        out.append(
            {
                "query": _fallback_query(state),
                "filters": _filters(state, with_genres=False),
                "limit": cfg.search_limit,
            }
        )
    return [{k: v for k, v in args.items() if v is not None} for args in out]


def _pages_unknown(turn: Turn) -> bool:
    """Whether a recommender said this turn that the catalog has no page counts (its page limit ignored)."""
    return any(
        NO_PAGE_COUNTS_NOTE in (c.result.get("notes") or [])
        for c in turn.calls
        if c.name in RECOMMENDERS and isinstance(c.result, dict) and not c.error
    )


def _answer_context(
    state: ConversationState, turn: Turn, picks: list[dict[str, Any]], available: set[str] | None
) -> AnswerContext:
    subject = state.subject
    rules = state.constraints
    pages_unknown = _pages_unknown(turn)
    if pages_unknown:  # said once, in its own sentence, not listed as a limit the picks keep to
        rules = rules.model_copy(update={"min_pages": None, "max_pages": None})
    errors = [c.error for c in turn.calls if c.name in RECOMMENDERS and c.error]
    searched = any(c.name in RECOMMENDERS for c in turn.calls)
    kind = subject.kind if subject.kind != "none" else "greeting"
    if kind == "like" and not subject.seeds:
        kind = "search"
    if kind != "greeting" and not searched and available is not None and not (available & set(RECOMMENDERS)):
        kind = "no_tools"
    return AnswerContext(
        kind=kind,
        query=subject.query,
        genres=[*subject.genres, *subject.genres_all],
        picks=picks,
        seeds=subject.seeds,
        close_matches=[lk for lk in subject.lookups if lk.close and lk.match],
        not_found=[
            (lk.ref.title, lk.suggestions) for lk in subject.lookups if lk.looked_up and lk.match is None
        ],
        read_now=[c for lk in state.read_lookups if not lk.avoid for c in _found_cards(lk)],
        ruled_out=[c for lk in state.read_lookups if lk.avoid for c in _found_cards(lk)],
        read_not_found=[lk.ref.title for lk in state.read_lookups if lk.looked_up and lk.match is None],
        away_genres=subject.away_genres,
        constraints=rules.describe(),
        pages_unknown=pages_unknown,
        page_limit=", ".join(state.constraints.describe_pages()),
        notes=state.notes,
        errors=[e for e in errors if e],
        more=state.intent.more,
        searched=searched,
    )
