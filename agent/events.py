"""The one typed event union a conversation streams, and the one SSE encoder every surface uses.

Order within a turn: ``session`` first (the web layer emits it), then any number of ``status`` /
``tool_call`` / ``books`` events as tools run, then ``text`` deltas, then exactly one ``done`` or
``error``. ``books`` always precedes the explanation text, so a client can draw cards at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from vibeshelf.tools.models import BookCard


class BookPick(BookCard):
    """A book card exactly as the tools return it, plus a one-line reason it was picked."""

    reason: str = Field(default="", description="One line on why this book fits the request.")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class SessionEvent(_Event):
    type: Literal["session"] = "session"
    session_id: str


class StatusEvent(_Event):
    type: Literal["status"] = "status"
    message: str = Field(description='Human-readable progress, e.g. "searching for cozy mysteries".')


class ToolCallEvent(_Event):
    type: Literal["tool_call"] = "tool_call"
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class BooksEvent(_Event):
    type: Literal["books"] = "books"
    books: list[BookPick]


class TextEvent(_Event):
    type: Literal["text"] = "text"
    delta: str


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class DoneEvent(_Event):
    type: Literal["done"] = "done"
    usage: Usage = Field(default_factory=Usage)
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Milliseconds: first_event_ms, first_books_ms, first_text_ms, llm_ms, tools_ms, total_ms",
    )
    model: str = Field(description="The model that produced the final answer.")
    fell_back: bool = Field(default=False, description="True when the planner stood in for the provider.")
    turns: int = Field(default=0, description="Model calls made for this message.")
    finish_reason: Literal["stop", "max_turns"] = "stop"
    removed_titles: list[str] = Field(
        default_factory=list, description="Titles the model invented, removed from the text by grounding."
    )


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: str = Field(description="Stable machine code, e.g. provider_failed, max_turns, internal.")
    message: str


AgentEvent = Annotated[
    SessionEvent | StatusEvent | ToolCallEvent | BooksEvent | TextEvent | DoneEvent | ErrorEvent,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)


def encode_sse(event: AgentEvent) -> str:
    """The SSE wire form of one event: ``event: <type>`` then ``data: <json>`` and a blank line.

    The JSON is one line (pydantic never emits raw newlines), so a single ``data:`` field suffices.
    sse-starlette passes ``bytes`` through untouched: yield ``encode_sse(e).encode()`` from the generator.
    """
    return f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"


def decode_event(type_: str, data: str) -> AgentEvent:
    """Parse one SSE message's ``event`` and ``data`` fields back into a typed event (clients, tests)."""
    payload = json.loads(data)
    if payload.get("type", type_) != type_:
        raise ValueError(f"SSE event field {type_!r} disagrees with data.type {payload.get('type')!r}")
    payload["type"] = type_
    return EVENT_ADAPTER.validate_python(payload)


def decode_sse(text: str) -> list[AgentEvent]:
    """Parse a whole SSE body (as ``encode_sse`` writes it) into events; comments and pings are skipped."""
    events: list[AgentEvent] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        type_, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                type_ = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].lstrip(" "))
        if type_ and data:
            events.append(decode_event(type_, "\n".join(data)))
    return events


@dataclass
class Answer:
    """An answer folded from its event stream: the one reducer HTTP, Slack and the CLI share.

    ``add`` takes each event as it arrives, so a surface that renders as it goes (the Slack reply, the CLI,
    a streamed OpenAI response) folds with the same rules as one that waits for the end
    (``collect_answer``)."""

    session_id: str | None = None
    deltas: list[str] = field(default_factory=list)
    books: list[BookPick] = field(default_factory=list)
    done: DoneEvent | None = None
    error: ErrorEvent | None = None

    def add(self, event: AgentEvent) -> None:
        if isinstance(event, SessionEvent):
            self.session_id = event.session_id
        elif isinstance(event, TextEvent):
            self.deltas.append(event.delta)
        elif isinstance(event, BooksEvent):
            self.books.extend(event.books)
        elif isinstance(event, DoneEvent):
            self.done = event
        elif isinstance(event, ErrorEvent):
            self.error = event

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    @property
    def finished(self) -> bool:
        """Ended by ``done`` or ``error`` (a stream cut short is neither)."""
        return self.done is not None or self.error is not None


async def collect_answer(events: AsyncIterable[AgentEvent]) -> Answer:
    """Fold a whole event stream into its answer."""
    answer = Answer()
    async for event in events:
        answer.add(event)
    return answer
