"""One turn of a stored conversation, the same for every surface (HTTP chat, OpenAI-style API, Slack).

:func:`run_turn` runs the agent on one user message of a session, yields the event union (``session``
first), saves the finished turn to the :class:`~vibeshelf.agent.session_store.SessionStore` before
``done`` goes out, and writes one query-log row whatever happened (ok, error, or cancelled because the
reader went away). Surfaces decide how to load or start the session and how to show the events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import anyio

from vibeshelf.agent.events import (
    AgentEvent,
    BookPick,
    DoneEvent,
    ErrorEvent,
    SessionEvent,
    StatusEvent,
)
from vibeshelf.agent.loop import AgentRun
from vibeshelf.agent.session_state import SessionState
from vibeshelf.agent.session_store import QueryLogEntry, SessionStore, StoredSession, TurnRecord
from vibeshelf.agent.state_db import StateDBError
from vibeshelf.tools.models import SearchFilters

log = logging.getLogger(__name__)

Surface = Literal["chat", "completions", "slack"]


@dataclass
class Turn:
    """One message being answered: where it came from and the session it belongs to.

    ``filters`` are the request's hard filters, enforced on every tool call of the turn.
    """

    session: StoredSession
    message: str
    history: list[dict[str, Any]]
    surface: Surface
    client: str
    started: float
    filters: SearchFilters | None = None


class Answerer(Protocol):
    """What answers a turn: :class:`~vibeshelf.agent.loop.Agent` (its ``run``)."""

    def run(
        self,
        messages: list[dict[str, Any]],
        *,
        session_state: SessionState | None = None,
        filters: SearchFilters | None = None,
    ) -> AgentRun: ...


async def run_turn(store: SessionStore, agent: Answerer, turn: Turn) -> AsyncIterator[AgentEvent]:
    """Yield the turn's events (``session`` first), then save the turn and log it, whatever happened.

    The agent's run ends every turn with ``done`` or ``error`` (an unexpected exception included, see
    :meth:`~vibeshelf.agent.loop.Agent.run`). Leaving the iteration early (a disconnect) cancels the
    agent's model call and tools; the turn is then logged as ``cancelled`` and not saved.
    """
    session = turn.session
    state = session.state.model_copy(deep=True)
    state.turns = session.turn_count
    before = state.model_copy(deep=True)
    user = {"role": "user", "content": turn.message}
    status: Literal["ok", "error", "cancelled"] = "cancelled"  # until the stream completes
    error_code: str | None = None
    first_event_ms: float | None = None
    run: AgentRun | None = None
    done: DoneEvent | None = None
    try:
        yield SessionEvent(session_id=session.id)
        first_event_ms = (time.perf_counter() - turn.started) * 1000
        run = agent.run([*turn.history, user], session_state=state, filters=turn.filters)
        async for event in run:
            if isinstance(event, ErrorEvent):
                error_code = event.code
            elif isinstance(event, DoneEvent):
                done = event
                # Save before `done` goes out, so the client's next message (maybe on another worker)
                # finds this turn.
                if not await save_turn(store, turn, state, before, user, run):
                    yield StatusEvent(message="this answer could not be saved to the session")
            yield event
        status = "error" if error_code else "ok"
    except Exception:
        # A bug outside the agent's run (which ends its own failures with an error event): logged as
        # an error, not as the reader leaving.
        status, error_code = "error", "internal"
        raise
    finally:
        # On a disconnect this task is being cancelled; shield the clean-up so it runs to the end.
        with anyio.CancelScope(shield=True):
            if run is not None:
                await run.aclose()  # ends the model call and tool tasks if we stopped early
        store.log_query(
            QueryLogEntry(
                session_id=session.id,
                surface=turn.surface,
                client=turn.client,
                message=turn.message,
                model=(done.model if done else run.model if run else None),
                fell_back=bool(run and run.fell_back),
                status=status,
                error_code=error_code,
                book_ids=[b.id for b in run.books] if run else [],
                tool_calls=[c.model_dump() for c in run.tool_calls] if run else [],
                first_event_ms=first_event_ms,
                total_ms=(time.perf_counter() - turn.started) * 1000,
                usage=done.usage.model_dump() if done else None,
            )
        )


async def save_turn(
    store: SessionStore,
    turn: Turn,
    state: SessionState,
    before: SessionState,
    user: dict[str, Any],
    run: AgentRun,
) -> bool:
    """Append the finished turn to its session; False (logged) when the state file is unavailable."""
    # The agent has recorded the books it showed in ``state`` (and counted the turn).
    books: list[BookPick] = list(run.books)
    record = TurnRecord(
        user=turn.message,
        answer=run.answer,
        messages=[user, *run.new_messages],
        book_ids=[b.id for b in books],
        model=run.model,
        fell_back=run.fell_back,
        state_before=before,
        state_after=state,
        owner=turn.session.owner,
    )
    try:
        await store.append_turn(turn.session.id, record)
    except StateDBError:
        log.exception("could not save turn of session %s", turn.session.id)
        return False
    return True
