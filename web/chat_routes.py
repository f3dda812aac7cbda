"""The conversation over HTTP: ``POST /v1/chat`` (typed SSE events), ``POST /v1/chat/completions``
(OpenAI-compatible), ``POST /v1/feedback`` and ``GET /v1/sessions/{id}``.

``/v1/chat`` streams the agent's event union exactly as ``agent.events.encode_sse`` writes it: ``session``
first (before any work), then ``status``/``tool_call``/``books`` as tools run, ``text`` deltas, and one
``done`` or ``error``. A client that disconnects cancels the generator; the agent's model call and tool
tasks are cancelled with it and the query log records the turn as ``cancelled``.

``/v1/chat/completions`` speaks the OpenAI chat API so any OpenAI client or chat UI can use vibeshelf as a
model. Extensions (documented in the README): every chunk that carries books has ``vibeshelf_books`` (the
same cards as the ``books`` event) at the top level, the final answer also lists the books as markdown,
and ``vibeshelf_session_id`` names the server-side session. Send it back as ``vibeshelf_session_id`` in
the request body (``extra_body`` in the openai client) to continue a conversation with its full state;
without it every request starts a new session, whatever history it replays (replayed text proves
nothing: an earlier design matched the last assistant answer and let anyone who could predict an answer
join a stranger's session).

Sessions belong to the credential that created them (``web.access.principal_of``): a session id sent with
another credential is answered like an unknown one (404), so an id seen elsewhere opens nothing.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sse_starlette import EventSourceResponse

from vibeshelf.agent.conversation import Turn, run_turn
from vibeshelf.agent.events import (
    AgentEvent,
    Answer,
    BookPick,
    DoneEvent,
    ErrorEvent,
    SessionEvent,
    TextEvent,
    collect_answer,
    encode_sse,
)
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.session_state import ReaderConstraints, ReaderLibrary, ShownBook
from vibeshelf.agent.session_store import (
    FeedbackKind,
    SessionNotFound,
    SessionStore,
    StoredSession,
    new_session_id,
)
from vibeshelf.agent.state_db import StateDBError
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.tools.models import SearchFilters
from vibeshelf.web.access import principal_of
from vibeshelf.web.errors import error_body
from vibeshelf.web.limits import (
    BodySizeLimit,
    RateLimiter,
    RateLimitMiddleware,
    TrustedProxies,
    check_history,
    check_message,
    check_turns,
    limit_error,
)
from vibeshelf.web.openai_errors import OpenAIErrorShape, openai_error

log = logging.getLogger(__name__)

SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
BookIdStr = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# sse-starlette sends a comment line this often so proxies keep an idle stream open.
_PING_S = 15


# --- services -------------------------------------------------------------------------------------


@dataclass
class ChatServices:
    """What the chat routes need, opened once per process in the app's lifespan."""

    settings: Settings
    store: SessionStore
    agent: Agent
    limiter: RateLimiter
    # Whether a book id is in the live catalog; None (the chat tests' shelf) accepts any id.
    book_exists: Callable[[str], bool] | None = None
    # Unix seconds; the `created` of the one model GET /v1/models lists.
    started_at: int = field(default_factory=lambda: int(time.time()))

    def close(self) -> None:
        self.store.close()

    async def warm_up(self) -> None:
        """Answer one throw-away message (not stored) so the first reader does not pay for imports,
        the model client and a cold index. Failures are logged, never fatal: the server still starts.

        It always uses the offline planner: a configured provider is not called (nor billed) at start-up.
        """
        from vibeshelf.agent.llm import PLANNER_MODEL

        started = time.perf_counter()
        try:
            warm = self.agent.run(
                [{"role": "user", "content": "a cozy mystery"}], model=PLANNER_MODEL, fallback_models=[]
            )
            async for event in warm:
                if isinstance(event, ErrorEvent):
                    log.warning("chat warm-up answered with an error: %s", event.message)
        except Exception:
            log.exception("chat warm-up failed")
        log.info("chat warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


def open_chat(settings: Settings, layout: Layout, agent: Agent) -> ChatServices:
    """Open the session store (its writer thread) and the rate limiter around an existing ``Agent``."""
    state = settings.state_url.get_secret_value() if settings.state_url else None
    store = SessionStore.open(
        state or settings.state_db or layout.state_db,
        idle_expiry_s=settings.session_idle_expiry_s,
        lock_timeout_s=settings.state_lock_timeout_s,
        cache_turns=settings.chat_history_turns,
    )
    return ChatServices(
        settings=settings,
        store=store,
        agent=agent,
        limiter=RateLimiter(settings.chat_rate_limit_per_minute),
    )


def install_chat(app: FastAPI, settings: Settings) -> None:
    """Add the chat routes, the body-size limit and the per-group rate limit to ``app`` (before it starts)."""
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.chat_max_body_bytes,
        larger=(("/library", settings.library_max_bytes, "VIBESHELF_LIBRARY_MAX_BYTES"),),
    )
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=settings.rate_limit_per_minute,
        proxies=TrustedProxies(settings.trusted_proxies),
    )
    # Outermost, so the access, rate and body limits' refusals on the OpenAI routes get OpenAI's shape too.
    app.add_middleware(OpenAIErrorShape)
    app.include_router(router)
    from vibeshelf.web.library_routes import router as library_router

    app.include_router(library_router)


def get_chat(request: Request) -> ChatServices:
    chat = getattr(request.app.state, "chat", None)
    if chat is None:
        raise HTTPException(503, detail=error_body("unavailable", "the chat service is not running"))
    return chat


Chat = Annotated[ChatServices, Depends(get_chat)]


def _client(request: Request) -> str:
    # The rate-limit middleware decided who the client is (trusted proxies only); else the TCP peer.
    decided = request.scope.get("state", {}).get("client")
    if decided:
        return decided
    return request.client.host if request.client else "unknown"


# --- request and response models ------------------------------------------------------------------


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: SessionId | None = Field(
        default=None, description="Continue this session; omit to start one."
    )
    message: str = Field(
        min_length=1,
        pattern=r"\S",
        description="What the reader says (not blank; at most VIBESHELF_CHAT_MAX_MESSAGE_CHARS characters, "
        "2000 by default).",
    )
    filters: SearchFilters | None = Field(
        default=None, description="Hard filters applied to every search in this message (UI toggles)."
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: SessionId
    book_id: BookIdStr
    kind: FeedbackKind = Field(
        description="up: liked; down: not for me (excluded); clear: take back up or down; read: already "
        "read (excluded); unread: take back read."
    )


class TurnView(BaseModel):
    index: int
    at: datetime
    user: str
    answer: str
    book_ids: list[str]
    model: str | None
    fell_back: bool


class RequestView(BaseModel):
    """The conversation's standing request and limits, as data (what the next answer is planned from)."""

    topic: str = Field(description="The words of the message that started the current request.")
    liked_titles: list[str] = Field(description="Books the request is 'more like'.")
    shelves_in: list[str] = Field(description="Shelves asked for.")
    shelves_out: list[str] = Field(description="Shelves ruled out.")
    authors: list[str] = Field(
        description="Authors whose own books the request asks for ('anything by Christie')."
    )
    exclude_authors: list[str]
    exclude_series: list[str]
    exclude_terms: list[str]
    exclude_titles: list[str] = Field(description="Books read or ruled out by name.")
    year_min: int | None
    year_max: int | None
    min_average_rating: float | None
    min_ratings_count: int | None
    max_ratings_count: int | None

    @classmethod
    def of(cls, kept: ReaderConstraints) -> RequestView:
        rules, request = kept.rules, kept.request
        return cls(
            topic=request.topic,
            liked_titles=request.liked_titles,
            shelves_in=list(dict.fromkeys([*request.kinds, *rules.genres_include, *rules.genres_all])),
            shelves_out=rules.genres_exclude,
            authors=rules.authors_any,
            exclude_authors=rules.exclude_authors,
            exclude_series=rules.exclude_series,
            exclude_terms=rules.exclude_terms,
            exclude_titles=kept.exclude_titles,
            year_min=rules.year_min,
            year_max=rules.year_max,
            min_average_rating=rules.min_average_rating,
            min_ratings_count=rules.min_ratings_count,
            max_ratings_count=rules.max_ratings_count,
        )


class SessionView(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    turn_count: int
    turns: list[TurnView]
    shown: list[ShownBook]
    liked_ids: list[str]
    disliked_ids: list[str]
    read_ids: list[str]
    excluded_ids: list[str] = Field(description="Books later answers in this session will not recommend.")
    library: ReaderLibrary | None = Field(default=None, description="The reader's imported library, if any.")
    constraints: list[str] = Field(
        default_factory=list,
        description="The reader's standing limits in plain words ('leaving out young adult'), kept for the "
        "whole session until the reader lifts them.",
    )
    request: RequestView | None = Field(default=None, description="The standing request and limits as data.")

    @classmethod
    def of(cls, stored: StoredSession, idle_expiry_s: float) -> SessionView:
        return cls(
            id=stored.id,
            created_at=stored.created_at.replace(tzinfo=UTC),
            updated_at=stored.updated_at.replace(tzinfo=UTC),
            expires_at=stored.expires_at(idle_expiry_s).replace(tzinfo=UTC),
            turn_count=stored.turn_count,
            turns=[
                TurnView(**t.model_dump(exclude={"messages", "at"}), at=t.at.replace(tzinfo=UTC))
                for t in stored.turns
            ],
            shown=stored.state.shown,
            liked_ids=stored.state.liked_ids,
            disliked_ids=stored.state.disliked_ids,
            read_ids=stored.state.read_ids,
            excluded_ids=stored.state.excluded_ids,
            library=stored.state.library,
            constraints=stored.state.constraints.phrases(),
            request=RequestView.of(stored.state.constraints),
        )


class CompletionMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class CompletionRequest(BaseModel):
    # Sampling knobs (temperature, top_p, seed, max_tokens, ...) are accepted and ignored, as a model server
    # would. Options that change what the answer must be (structured output, tool calls, several choices)
    # are refused by `unsupported_option` instead: ignoring them would hand back prose where a client
    # expects JSON or tool calls, and it would fail later and far less clearly.
    model_config = ConfigDict(extra="allow")

    model: str = "vibeshelf"
    messages: list[CompletionMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    vibeshelf_session_id: SessionId | None = Field(
        default=None, description="Extension: continue this vibeshelf session (from a previous response)."
    )
    vibeshelf_filters: SearchFilters | None = Field(
        default=None, description="Extension: hard filters for every search, as `filters` in /v1/chat."
    )


def _is_unset(value: Any) -> bool:
    return value is None or value == [] or value == {}


# Each option vibeshelf cannot honour, with the values that ask nothing of it (and why the rest fail).
_UNSUPPORTED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "response_format": (
        lambda v: _is_unset(v) or (isinstance(v, dict) and v.get("type") == "text"),
        "structured output (json_object, json_schema) is not supported: vibeshelf answers in prose with "
        "book cards in vibeshelf_books; use the tool plugin (/v1/tools) for JSON results",
    ),
    "tools": (_is_unset, "vibeshelf calls its own book tools; client-side tools are not supported"),
    "functions": (_is_unset, "vibeshelf calls its own book tools; client-side functions are not supported"),
    "tool_choice": (
        lambda v: _is_unset(v) or v in ("none", "auto"),
        "tool_choice needs client-side tools, which are not supported",
    ),
    "function_call": (
        lambda v: _is_unset(v) or v in ("none", "auto"),
        "function_call needs client-side functions, which are not supported",
    ),
    "n": (lambda v: v is None or v == 1, "only one choice per request is supported (n=1)"),
    "logprobs": (lambda v: not v, "logprobs are not available"),
    "top_logprobs": (lambda v: not v, "logprobs are not available"),
    "audio": (_is_unset, "audio output is not supported"),
    "modalities": (lambda v: _is_unset(v) or v == ["text"], "only text output is supported"),
    "prediction": (_is_unset, "predicted outputs are not supported"),
}


def unsupported_option(body: CompletionRequest) -> tuple[str, str] | None:
    """The first request option vibeshelf cannot honour, with why; None when all can be."""
    extra = body.model_extra or {}
    for name, (acceptable, why) in _UNSUPPORTED.items():
        if name in extra and not acceptable(extra[name]):
            return name, why
    return None


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if part.get("type", "text") == "text")
    return content or ""


# --- one turn, shared by both chat endpoints ------------------------------------------------------


async def _load_or_start(chat: ChatServices, session_id: str | None, owner: str) -> StoredSession:
    settings = chat.settings
    if session_id is None:
        now = datetime.now(UTC).replace(tzinfo=None)
        fresh = StoredSession(id=new_session_id(), created_at=now, updated_at=now, owner=owner)
        chat.store.create_soon(fresh.id, owner=owner)
        return fresh
    try:
        stored = await chat.store.get(session_id, history_turns=settings.chat_history_turns)
    except StateDBError as err:
        raise limit_error(503, "state_unavailable", str(err)) from err
    if stored is None or stored.owner != owner:  # someone else's session reads as unknown
        raise limit_error(
            404,
            "session_not_found",
            f"session {session_id} is unknown or expired; omit session_id to start a new one",
            "session_id",
        )
    check_turns(stored.turn_count, settings.session_max_turns)
    return stored


def _run_turn(chat: ChatServices, turn: Turn) -> AsyncIterator[AgentEvent]:
    """The turn's events (agent.conversation.run_turn; the turn carries the request's filters)."""
    return run_turn(chat.store, chat.agent, turn)


# --- routes ---------------------------------------------------------------------------------------

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post(
    "/chat",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream (see README)."}},
)
async def chat_stream(body: ChatRequest, request: Request, chat: Chat) -> EventSourceResponse:
    """Answer one message as Server-Sent Events: session, status, tool_call, books, text, done | error."""
    started = time.perf_counter()
    chat.limiter.check(_client(request))
    check_message(body.message, chat.settings.chat_max_message_chars)
    session = await _load_or_start(chat, body.session_id, principal_of(request))
    turn = Turn(
        session=session,
        message=body.message,
        history=session.history_messages(),
        filters=body.filters,
        surface="chat",
        client=_client(request),
        started=started,
    )

    async def events() -> AsyncIterator[bytes]:
        async for event in _run_turn(chat, turn):
            yield encode_sse(event).encode()

    return EventSourceResponse(
        events(), ping=_PING_S, sep="\n", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.post("/feedback")
async def feedback(body: FeedbackRequest, request: Request, chat: Chat) -> SessionView:
    """Thumbs up, thumbs down or "already read" for a book; down and read exclude it from later answers."""
    chat.limiter.check(_client(request))
    if chat.book_exists is not None and not chat.book_exists(body.book_id):
        # Votes for ids outside the catalog could rig the public chart with any string. 404 like any
        # other unknown id (GET /v1/books/{id}); the request itself is well formed.
        raise limit_error(404, "book_not_found", f"no book {body.book_id!r} in the catalog", "book_id")
    try:
        stored = await chat.store.add_feedback(
            body.session_id, body.book_id, body.kind, owner=principal_of(request)
        )
    except SessionNotFound as err:
        raise limit_error(404, "session_not_found", str(err), "session_id") from err
    return SessionView.of(stored, chat.settings.session_idle_expiry_s)


@router.get("/sessions/{session_id}")
async def get_session(session_id: SessionId, request: Request, chat: Chat) -> SessionView:
    """A session's turns, books shown, feedback and exclusions."""
    stored = await chat.store.get(session_id, history_turns=chat.settings.session_max_turns)
    if stored is None or stored.owner != principal_of(request):
        raise limit_error(
            404, "session_not_found", f"session {session_id} is unknown or expired", "session_id"
        )
    return SessionView.of(stored, chat.settings.session_idle_expiry_s)


# --- OpenAI-compatible -----------------------------------------------------------------------------


_BOOKS_HEADING = "\n\n**Books**\n\n"


def books_markdown(books: list[BookPick]) -> str:
    """The book cards as a markdown list, appended to the answer for clients that only show text."""
    lines = []
    for n, book in enumerate(books, 1):
        title = f"[{book.title}]({book.link})" if book.link else book.title
        by = f" by {', '.join(book.authors)}" if book.authors else ""
        year = f" ({book.year})" if book.year is not None else ""
        rating = ""
        if book.average_rating is not None:
            count = f" from {book.ratings_count:,} ratings" if book.ratings_count else ""
            rating = f" · rated {book.average_rating:.2f}{count}"
        reason = f" — {book.reason}" if book.reason else ""
        lines.append(f"{n}. **{title}**{by}{year}{rating}{reason}")
    return _BOOKS_HEADING + "\n".join(lines) if lines else ""


async def _completion_turn(chat: ChatServices, body: CompletionRequest, request: Request) -> Turn:
    started = time.perf_counter()
    settings = chat.settings
    refused = unsupported_option(body)
    if refused is not None:
        name, why = refused
        raise limit_error(400, "unsupported_parameter", f"{name}: {why}", name)
    chat.limiter.check(_client(request))
    messages = body.messages
    check_history(len(messages), settings.chat_max_history_messages)
    last = len(messages) - 1
    if messages[last].role != "user":
        raise limit_error(
            422, "invalid_request", "the last message must come from the user", f"messages.{last}.role"
        )
    message = _text(messages[last].content)
    check_message(message, settings.chat_max_message_chars, f"messages.{last}.content")
    # Only an explicit id continues a session: replayed history starts a new one (module docstring).
    session = await _load_or_start(chat, body.vibeshelf_session_id, principal_of(request))
    if session.turns or session.turn_count:
        history = session.history_messages()
    else:
        # A conversation we did not see: its user and assistant text is all the context there is.
        history = [
            {"role": m.role, "content": _text(m.content)}
            for m in messages[:last]
            if m.role in ("user", "assistant") and _text(m.content).strip()
        ]
    return Turn(
        session=session,
        message=message,
        history=history,
        filters=body.vibeshelf_filters,
        surface="completions",
        client=_client(request),
        started=started,
    )


def _chunk(
    cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any
) -> str:
    return json.dumps(
        {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
    )


_ERROR_STATUS = {"invalid_request": 422, "provider_failed": 502, "max_turns": 502}


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: CompletionRequest, request: Request, chat: Chat
) -> EventSourceResponse | JSONResponse:
    """OpenAI-compatible chat completions (stream and non-stream), books in ``vibeshelf_books``."""
    turn = await _completion_turn(chat, body, request)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    model = body.model
    sid = turn.session.id
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return EventSourceResponse(
            _completion_chunks(chat, turn, cid, created, model, include_usage),
            ping=_PING_S,
            sep="\n",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    answer = await collect_answer(_run_turn(chat, turn))
    books, done, error = answer.books, answer.done, answer.error
    if error is not None or done is None:
        code = error.code if error else "internal"
        message = error.message if error else "the answer ended early"
        return JSONResponse(status_code=_ERROR_STATUS.get(code, 500), content=error_body(code, message))
    cards = [b.model_dump(mode="json") for b in books]
    usage = done.usage.model_dump()
    return JSONResponse(
        {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.text + books_markdown(books)},
                    "finish_reason": "stop" if done.finish_reason == "stop" else "length",
                    "logprobs": None,
                    "vibeshelf_books": cards,
                }
            ],
            "usage": usage,
            "system_fingerprint": None,
            "vibeshelf_books": cards,
            "vibeshelf_session_id": sid,
            "vibeshelf_model": done.model,
            "vibeshelf_fell_back": done.fell_back,
        }
    )


async def _completion_chunks(
    chat: ChatServices, turn: Turn, cid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[dict[str, str]]:
    sid = turn.session.id
    answer = Answer()
    books = answer.books
    async for event in _run_turn(chat, turn):
        # BooksEvent is only folded: the answer's cards go out once, all together (below), so a client
        # that keeps the one chunk carrying vibeshelf_books has every book, as in a non-streamed response.
        answer.add(event)
        if isinstance(event, SessionEvent):
            delta = {"role": "assistant", "content": ""}
            yield {"data": _chunk(cid, created, model, delta, vibeshelf_session_id=sid)}
        elif isinstance(event, TextEvent):
            yield {"data": _chunk(cid, created, model, {"content": event.delta})}
        elif isinstance(event, ErrorEvent):
            # OpenAI's own streams report a failure as a data line with an "error" object.
            status = _ERROR_STATUS.get(event.code, 500)
            yield {"data": json.dumps(openai_error(status, error_body(event.code, event.message)))}
            yield {"data": "[DONE]"}
            return
        elif isinstance(event, DoneEvent):
            if books:
                cards = [b.model_dump(mode="json") for b in books]
                delta = {"content": books_markdown(books)}
                yield {
                    "data": _chunk(
                        cid, created, model, delta, vibeshelf_books=cards, vibeshelf_session_id=sid
                    )
                }
            finish = "stop" if event.finish_reason == "stop" else "length"
            yield {"data": _chunk(cid, created, model, {}, finish, vibeshelf_session_id=sid)}
            if include_usage:
                usage = event.usage.model_dump()
                yield {
                    "data": json.dumps(
                        {
                            "id": cid,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    )
                }
            yield {"data": "[DONE]"}


# --- model list (OpenAI-compatible) ----------------------------------------------------------------

MODEL_ID = "vibeshelf"


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="When this server process started (Unix seconds).")
    owned_by: str = "vibeshelf"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _model_card(chat: ChatServices) -> ModelCard:
    return ModelCard(id=MODEL_ID, created=chat.started_at)


@router.get("/models")
async def list_models(chat: Chat) -> ModelList:
    """The models ``/v1/chat/completions`` answers as (one: ``vibeshelf``), for OpenAI-style model pickers."""
    return ModelList(data=[_model_card(chat)])


@router.get("/models/{model_id}")
async def get_model(model_id: str, chat: Chat) -> ModelCard:
    """One model from ``GET /v1/models``; 404 ``model_not_found`` for any other id."""
    if model_id != MODEL_ID:
        raise limit_error(
            404, "model_not_found", f"no model {model_id!r}; GET /v1/models lists {MODEL_ID!r}", "model"
        )
    return _model_card(chat)
