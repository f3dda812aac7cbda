"""The dialog evaluation: whole conversations through the real chat API, scored against the catalog.

Each conversation (``eval/dialogs/*.jsonl``) is 2-4 reader messages and the limits every book shown after
the last one must meet (shelves, authors and books ruled out, years, rating, popularity), written by people
who never read the planner. The conversations are sent to ``POST /v1/chat`` of an in-process app over the
index in ``VIBESHELF_HOME``, one session each, with whatever model is configured; the cards of the last
answer are checked against the catalog rows (not the cards' own fields), so a card cannot pass by
misreporting itself.

Scores, per kind and overall:

- ``pass``: share of the shown cards (first 10) that meet every limit, where fewer than 5 cards count as 5
  (an answer of one good card is not a perfect answer);
- ``violations``: cards breaking an explicit "no" (a shelf, author or book the reader ruled out);
- ``cards``: mean cards shown.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Kind = Literal["refinement", "exclusion", "more_like", "topic_switch", "correction", "messy"]
KINDS: tuple[str, ...] = ("refinement", "exclusion", "more_like", "topic_switch", "correction", "messy")
DIALOG_DIR = Path(__file__).resolve().parent.parent / "eval" / "dialogs"
DEV_SET = DIALOG_DIR / "dev.jsonl"
TEST_SET = DIALOG_DIR / "test.jsonl"


def held_out(path: Path) -> bool:
    """A held-out half (``test.jsonl``, ``fresh_test.jsonl``): scored, never read for failures."""
    return path.stem == "test" or path.stem.endswith("_test")


SPLIT_SEED = 20261204
FRESH_SPLIT_SEED = 20261206  # the fresh set (fresh_dev / fresh_test), written later by three new writers
FRESH2_SPLIT_SEED = 20261207  # the second fresh set (fresh2_dev / fresh2_test), by three more writers
FRESH3_SPLIT_SEED = 20261208  # the third fresh set (fresh3_dev / fresh3_test), by three more writers
FRESH4_SPLIT_SEED = 20261209  # the fourth fresh set (fresh4_dev / fresh4_test), by three more writers
FRESH5_SPLIT_SEED = 20261210  # the fifth fresh set (fresh5_dev / fresh5_test), by three more writers
FRESH6_SPLIT_SEED = 20261211  # the sixth fresh set (fresh6_dev / fresh6_test), by three more writers
FRESH7_SPLIT_SEED = 20261212  # the seventh fresh set (fresh7_dev / fresh7_test), by three more writers
FRESH8_SPLIT_SEED = 20261213  # the eighth fresh set (fresh8_dev / fresh8_test), by three more writers
FRESH9_SPLIT_SEED = 20261214  # the ninth fresh set (fresh9_dev / fresh9_test), by three more writers
FRESH10_SPLIT_SEED = 20261215  # the tenth (fresh10_dev / fresh10_test): readers who ask for authors' books
FRESH11_SPLIT_SEED = 20261216  # the eleventh (fresh11_dev / fresh11_test): "no"s said as people say them
FRESH12_SPLIT_SEED = 20261217  # the twelfth (fresh12_dev / fresh12_test): a club, non-native, thinking aloud
FRESH13_SPLIT_SEED = 20261218  # the thirteenth (fresh13_dev / fresh13_test): star ratings, emoji, vague names
FRESH14_SPLIT_SEED = 20261219  # the fourteenth (fresh14_dev / fresh14_test): tropes, impatience, politeness
FRESH15_SPLIT_SEED = 20261220  # the fifteenth (fresh15_dev / fresh15_test): spec lists, questions, eras
SHOWN = 10  # cards scored per answer
MIN_DENOMINATOR = 5  # fewer cards than this count as this many
MIN_SATISFYING = 12  # catalog books that must meet a conversation's limits for it to be fair


class DialogSetError(ValueError):
    """A dialog file that cannot be used: the message names the file and line."""


class Expectation(BaseModel):
    """Limits every book shown after the last message must meet (goodbooks ids and shelf names)."""

    model_config = ConfigDict(extra="forbid")

    shelves_any: list[str] = Field(default_factory=list)
    shelves_all: list[str] = Field(default_factory=list)
    shelves_none: list[str] = Field(default_factory=list)
    authors_none: list[str] = Field(default_factory=list)
    authors_any: list[str] = Field(
        default_factory=list, description="The reader asked for books by these authors: each card is by one."
    )
    books_none: list[int] = Field(default_factory=list)
    seed_books: list[int] = Field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    min_rating: float | None = None
    min_ratings_count: int | None = None
    max_ratings_count: int | None = None


class Dialog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Kind
    turns: list[str] = Field(min_length=2, max_length=4)
    expect: Expectation
    note: str = ""


@dataclass(frozen=True)
class CatalogBook:
    """What the checks read of one catalog row."""

    id: str
    title: str
    authors: tuple[str, ...]
    shelves: frozenset[str]
    year: int | None
    rating: float | None
    ratings_count: int | None


def book_id(number: int) -> str:
    return f"goodbooks:{number}"


def failures(book: CatalogBook, e: Expectation) -> tuple[list[str], list[str]]:
    """(limits broken, explicit "no"s broken) by one book; both empty when it fits."""
    broken: list[str] = []
    refused: list[str] = []
    if e.shelves_any and not book.shelves & set(e.shelves_any):
        broken.append(f"none of shelves {e.shelves_any}")
    missing = [s for s in e.shelves_all if s not in book.shelves]
    if missing:
        broken.append(f"not shelved {missing}")
    for shelf in sorted(book.shelves & set(e.shelves_none)):
        refused.append(f"shelf {shelf}")
    if e.authors_any and not {a.casefold() for a in book.authors} & {a.casefold() for a in e.authors_any}:
        broken.append(f"not by {e.authors_any}")
    ruled_out = {a.casefold() for a in e.authors_none}
    refused += [f"author {a}" for a in book.authors if a.casefold() in ruled_out]
    if book.id in {book_id(i) for i in e.books_none}:
        refused.append("a book ruled out")
    if book.id in {book_id(i) for i in e.seed_books}:
        broken.append("the seed book itself")
    if e.year_min is not None and (book.year is None or book.year < e.year_min):
        broken.append(f"year {book.year} < {e.year_min}")
    if e.year_max is not None and (book.year is None or book.year > e.year_max):
        broken.append(f"year {book.year} > {e.year_max}")
    if e.min_rating is not None and (book.rating is None or book.rating < e.min_rating):
        broken.append(f"rating {book.rating} < {e.min_rating}")
    if e.min_ratings_count is not None and (book.ratings_count or 0) < e.min_ratings_count:
        broken.append(f"ratings {book.ratings_count} < {e.min_ratings_count}")
    if e.max_ratings_count is not None and (book.ratings_count or 0) > e.max_ratings_count:
        broken.append(f"ratings {book.ratings_count} > {e.max_ratings_count}")
    return broken + refused, refused


def load_catalog(path: Path) -> dict[str, CatalogBook]:
    import pyarrow.parquet as pq

    table = pq.read_table(
        path, columns=["id", "title", "authors", "genres", "year", "average_rating", "ratings_count"]
    )
    return {
        row["id"]: CatalogBook(
            id=row["id"],
            title=row["title"],
            authors=tuple(row["authors"] or ()),
            shelves=frozenset(row["genres"] or ()),
            year=row["year"],
            rating=row["average_rating"],
            ratings_count=row["ratings_count"],
        )
        for row in table.to_pylist()
    }


def load_dialogs(path: Path) -> list[Dialog]:
    """The conversations in a JSONL file; a bad line stops with its file and line number."""
    dialogs: list[Dialog] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            dialog = Dialog.model_validate_json(line)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise DialogSetError(f"{path}:{number}: {where}: {first['msg']}") from None
        if dialog.id in seen:
            raise DialogSetError(f"{path}:{number}: duplicate id {dialog.id!r}")
        seen.add(dialog.id)
        dialogs.append(dialog)
    return dialogs


def unfair(dialogs: Iterable[Dialog], catalog: dict[str, CatalogBook]) -> list[str]:
    """Conversations whose limits fewer than ``MIN_SATISFYING`` catalog books meet (or that name unknown
    shelves or books): they could not be passed by any system, so they are reported, not scored."""
    shelves = {s for b in catalog.values() for s in b.shelves}
    problems = []
    for d in dialogs:
        e = d.expect
        unknown = [s for s in [*e.shelves_any, *e.shelves_all, *e.shelves_none] if s not in shelves]
        unknown += [str(i) for i in [*e.books_none, *e.seed_books] if book_id(i) not in catalog]
        if unknown:
            problems.append(f"{d.id}: unknown {unknown}")
            continue
        fitting = sum(1 for b in catalog.values() if not failures(b, e)[0])
        if fitting < MIN_SATISFYING:
            problems.append(f"{d.id}: only {fitting} catalog books meet its limits")
    return problems


def split(dialogs: Sequence[Dialog], seed: int = SPLIT_SEED) -> tuple[list[Dialog], list[Dialog]]:
    """(dev, test): half of each kind, by a fixed seed, so both halves cover every kind."""
    dev: list[Dialog] = []
    test: list[Dialog] = []
    for kind in KINDS:
        group = sorted((d for d in dialogs if d.kind == kind), key=lambda d: d.id)
        random.Random(f"{seed}:{kind}").shuffle(group)
        half = (len(group) + 1) // 2
        dev += group[:half]
        test += group[half:]
    return dev, test


# --- running ------------------------------------------------------------------------------------


@dataclass
class DialogResult:
    dialog: Dialog
    cards: list[str]  # ids shown after the last message, in order
    passed: float
    violations: list[str]  # "title: reason" for each card breaking an explicit no
    misses: list[str]  # "title: reason" for each card breaking any limit
    tool_calls: float = 0.0  # per reader message
    tokens: float = 0.0  # per reader message
    fell_back: bool = False
    error: str | None = None
    answer: str = ""


def score(dialog: Dialog, cards: Sequence[str], catalog: dict[str, CatalogBook]) -> DialogResult:
    shown = list(cards)[:SHOWN]
    good = 0
    violations: list[str] = []
    misses: list[str] = []
    for card_id in shown:
        book = catalog.get(card_id)
        if book is None:
            misses.append(f"{card_id}: not in the catalog")
            continue
        broken, refused = failures(book, dialog.expect)
        if broken:
            misses.append(f"{book.title}: {'; '.join(broken)}")
        else:
            good += 1
        violations += [f"{book.title}: {r}" for r in refused]
    passed = good / max(MIN_DENOMINATOR, len(shown))
    return DialogResult(dialog, shown, passed, violations, misses)


@dataclass
class Summary:
    dialogs: int = 0
    passed: float = 0.0
    violations: int = 0
    cards: float = 0.0
    tool_calls: float = 0.0
    tokens: float = 0.0
    fallbacks: int = 0
    errors: int = 0
    by_kind: dict[str, Summary] = field(default_factory=dict)


def summarise(results: Sequence[DialogResult], *, per_kind: bool = True) -> Summary:
    out = Summary(dialogs=len(results))
    if results:
        n = len(results)
        out.passed = sum(r.passed for r in results) / n
        out.violations = sum(len(r.violations) for r in results)
        out.cards = sum(len(r.cards) for r in results) / n
        out.tool_calls = sum(r.tool_calls for r in results) / n
        out.tokens = sum(r.tokens for r in results) / n
        out.fallbacks = sum(r.fell_back for r in results)
        out.errors = sum(r.error is not None for r in results)
    if per_kind:
        groups: dict[str, list[DialogResult]] = defaultdict(list)
        for r in results:
            groups[r.dialog.kind].append(r)
        out.by_kind = {k: summarise(groups[k], per_kind=False) for k in KINDS if groups.get(k)}
    return out


def _events(body: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in body.split("\n\n"):
        kind, data = "", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if kind and data:
            yield kind, json.loads(data)


class DialogRunner:
    """Sends conversations to ``POST /v1/chat`` of an in-process app (one session each)."""

    def __init__(self, settings: Any) -> None:
        from fastapi.testclient import TestClient

        from vibeshelf.web.app import create_app

        self._tmp = tempfile.TemporaryDirectory(prefix="vibeshelf-dialogs-")
        # Its own state file (the real query log is not filled by an eval) and no rate limit.
        settings = settings.model_copy(
            update={
                "state_db": Path(self._tmp.name) / "state.duckdb",
                "chat_rate_limit_per_minute": 0,
                "api_keys": [],
            }
        )
        self._client = TestClient(create_app(settings))
        self._client.__enter__()

    def close(self) -> None:
        self._client.__exit__(None, None, None)
        self._tmp.cleanup()

    def __enter__(self) -> DialogRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, dialog: Dialog, catalog: dict[str, CatalogBook]) -> DialogResult:
        session_id: str | None = None
        cards: list[str] = []
        tool_calls = tokens = 0
        fell_back = False
        error: str | None = None
        answer = ""
        for message in dialog.turns:
            body: dict[str, Any] = {"message": message}
            if session_id:
                body["session_id"] = session_id
            response = self._client.post("/v1/chat", json=body)
            if response.status_code != 200:
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                break
            cards, answer, turn_calls = [], "", 0
            for kind, data in _events(response.text):
                if kind == "session":
                    session_id = data["session_id"]
                elif kind == "books":
                    cards += [b["id"] for b in data["books"]]
                elif kind == "tool_call":
                    turn_calls += 1
                elif kind == "text":
                    answer += data["delta"]
                elif kind == "done":
                    tokens += int((data.get("usage") or {}).get("total_tokens") or 0)
                    fell_back = fell_back or bool(data.get("fell_back"))
                elif kind == "error":
                    error = f"{data.get('code')}: {data.get('message')}"
            tool_calls += turn_calls
        result = score(dialog, cards, catalog)
        result.tool_calls = tool_calls / len(dialog.turns)
        result.tokens = tokens / len(dialog.turns)
        result.fell_back, result.error, result.answer = fell_back, error, answer
        return result
