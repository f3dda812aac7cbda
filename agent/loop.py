"""The agent loop: model -> tool calls -> tools -> model ... -> grounded answer, streamed as events.

Each model call is one *step* with a typed outcome (:class:`ToolCallsStep`, :class:`FinalAnswerStep`,
:class:`ProviderFailed`); the loop stops at a final answer or after ``max_turns`` steps
(:class:`MaxTurnsReached`). A provider that fails, rate-limits or hangs past its deadline hands the
rest of the message to the next fallback model and finally to the offline planner, and the stream
says so. Tools run concurrently; their books are streamed in call order as they return, before
any explanation (:func:`~vibeshelf.agent.cards.shown_cards` says which, in which order). Every text
delta passes the grounder, so no invented title reaches the reader.

The loop names no tool: a tool's status line and whether its cards are picks are its own metadata
(``Tool.status``, ``Tool.recommends``). Per-request options (filters, model, max_turns) are arguments of
:meth:`Agent.run`; one :class:`~vibeshelf.agent.constraints.ConstraintGuard` per run enforces the reader's
limits and the request's filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from vibeshelf.agent.cards import cards_in, lookup_tools, one_line_reason, shown_cards
from vibeshelf.agent.constraints import ConstraintGuard, HardConstraints
from vibeshelf.agent.events import (
    AgentEvent,
    BookPick,
    BooksEvent,
    DoneEvent,
    ErrorEvent,
    StatusEvent,
    TextEvent,
    ToolCallEvent,
    Usage,
)
from vibeshelf.agent.grounding import BookFacts, Grounder, StreamingGrounder
from vibeshelf.agent.llm import PLANNER_MODEL, LLMClient, ModelRouter, ProviderError, ToolCallDelta
from vibeshelf.agent.planner_client import PlannerClient, catalog_parse_config
from vibeshelf.agent.prompt import fence_data, render, unfence_data
from vibeshelf.agent.reading.reader import KindGuesser, MessageReader, catalog_reader
from vibeshelf.agent.reading.stance import StanceGuesser
from vibeshelf.agent.session_state import SessionState, ShownBook
from vibeshelf.agent.text_calls import (
    TextCallGate,
    is_data,
    looks_like_call,
    parse_text_calls,
    strip_text_calls,
)
from vibeshelf.agent.tool_call_stream import ToolCall, ToolCallAccumulator
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.text import message_text
from vibeshelf.tools.compact import FullProfile, ToolProfile, profile_for
from vibeshelf.tools.models import SearchFilters, ToolError
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, ToolResult, UnknownToolError

log = logging.getLogger(__name__)


# --- step outcomes --------------------------------------------------------------------------------


@dataclass
class ToolCallsStep:
    calls: list[ToolCall]
    text: str  # any text the model wrote alongside the calls


@dataclass
class FinalAnswerStep:
    text: str  # the model's text (grounded before any of it is shown)
    held: list[AgentEvent] = field(default_factory=list)  # its grounded text events, when held back


@dataclass
class ProviderFailed:
    model: str
    error: ProviderError
    streamed_text: bool  # text already reached the reader before the failure


@dataclass
class MaxTurnsReached:
    turns: int


StepOutcome = ToolCallsStep | FinalAnswerStep | ProviderFailed


# --- helpers --------------------------------------------------------------------------------------


def _replayable(message: dict[str, Any]) -> dict[str, Any]:
    """A history message as the model is sent it: user text flattened; an assistant's answer without
    any tool call it once wrote as text (a small model copies what it sees in its history)."""
    role = message.get("role")
    if role == "user":
        return {**message, "content": message_text(message.get("content"))}
    if role == "assistant" and isinstance(message.get("content"), str):
        return {**message, "content": strip_text_calls(message["content"]) or None}
    return message


def _dicts_with_titles(value: Any) -> Iterable[dict[str, Any]]:
    """Book-like dicts (id + title) inside a JSON tool message from earlier turns."""
    if isinstance(value, dict):
        if isinstance(value.get("title"), str) and "id" in value:
            yield value
        for v in value.values():
            yield from _dicts_with_titles(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts_with_titles(v)


def _add_reader_limits(grounder: Grounder, limits: HardConstraints) -> None:
    """The numbers of the reader's limits, which an answer may restate without stating a book's figures."""
    rules = limits.rules
    for year in (rules.year_min, rules.year_max):
        grounder.add_reader_limit("year", year)
    grounder.add_reader_limit("rating", rules.min_average_rating)
    for count in (rules.min_ratings_count, rules.max_ratings_count):
        grounder.add_reader_limit("readers", count)


_STATUS_MAX_CHARS = 160  # a model's words beside its tool calls shown as one status line


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


# --- the run ------------------------------------------------------------------------------------


HISTORY_IN_PROMPT = 50


class ConstraintsSource(Protocol):
    """Where the reader's limits for a message come from (default: ``HardConstraints.from_conversation``)."""

    def __call__(self, messages: list[dict[str, Any]], state: SessionState | None, /) -> HardConstraints: ...


@dataclass
class AgentRun:
    """One answer in progress: iterate it for events; afterwards it holds what to persist.

    ``new_messages``: the OpenAI-format messages this answer added (assistant tool calls, tool
    results, the final assistant answer), to store with the turn and replay next time.
    ``aclose()`` (or leaving ``async for`` early) cancels the model call and any tool work.
    """

    _events: AsyncGenerator[AgentEvent, None] | None = None
    new_messages: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""
    books: list[BookPick] = field(default_factory=list)
    model: str | None = None
    fell_back: bool = False
    usage: Usage = field(default_factory=Usage)
    tool_calls: list[ToolCallEvent] = field(default_factory=list)
    removed_titles: list[str] = field(default_factory=list)

    def __aiter__(self) -> AgentRun:
        return self

    async def __anext__(self) -> AgentEvent:
        if self._events is None:
            raise StopAsyncIteration
        return await self._events.__anext__()

    async def aclose(self) -> None:
        if self._events is not None:
            await self._events.aclose()


@dataclass(frozen=True)
class _RunOptions:
    """One run's per-request options, resolved against the settings (see :meth:`Agent.run`)."""

    chain: list[str]
    filters: SearchFilters | None
    max_turns: int


def default_client(
    settings: Settings, kinds: KindGuesser | None = None, stance: StanceGuesser | None = None
) -> LLMClient:
    """The planner for its model name (its vague words fitted to the catalog), litellm for the rest."""
    planner = PlannerClient(catalog=Layout(settings.home_dir).catalog, kinds=kinds, stance=stance)
    return ModelRouter(settings, planner)


class Agent:
    """The conversation engine. One per process is enough: ``run`` keeps its state per call."""

    def __init__(
        self,
        registry: ToolRegistry,
        context: ToolContext[Any] | None,
        settings: Settings,
        *,
        llm: LLMClient | None = None,
        constraints_from: ConstraintsSource | None = None,
        kinds: KindGuesser | None = None,
        stance: StanceGuesser | None = None,
    ) -> None:
        """``registry``: the tools the model may call; ``context``: passed to every tool call.

        ``llm``: the model client (default: the offline planner for its model name, litellm for the
        rest, see ``ModelRouter``); tests pass a scripted one. ``constraints_from``:
        ``(messages, state) -> HardConstraints`` (default: the planner's intent parser over every user
        turn, folded onto the limits the session kept from earlier turns, plus the session's read and
        disliked books; see ``HardConstraints.from_conversation``). ``kinds``: the shelf guesser both the
        planner and the constraint guard read refused kinds with (the retrieval shelf predictor);
        ``stance``: the judge both read unmarked refusals with (``agent.reading.stance``).
        """
        self.registry = registry
        self.context = context
        self.settings = settings
        self._kinds = kinds
        self._stance = stance
        self.llm: LLMClient = llm or default_client(settings, kinds, stance)
        self._constraints_from = constraints_from
        self._lookups = lookup_tools(registry)  # tools whose cards are not picks (Tool.recommends)

    def warm_up(self) -> None:
        """Do the model client's one-time setup (importing litellm for a provider: seconds) now."""
        warm = getattr(self.llm, "warm_up", None)
        if warm is not None:
            warm()

    def models(self, model: str | None = None, fallback_models: Sequence[str] | None = None) -> list[str]:
        """The models tried in order (default: the settings'); the offline planner is always the last resort."""
        first = self.settings.model if model is None else model
        fallbacks = self.settings.fallback_models if fallback_models is None else fallback_models
        chain = list(dict.fromkeys([first, *fallbacks]))
        if PLANNER_MODEL not in chain:
            chain.append(PLANNER_MODEL)
        return chain[: chain.index(PLANNER_MODEL) + 1]

    def tool_profile(self, model: str) -> ToolProfile:
        """How ``model`` sees the tools (``Settings.tool_profile``; ``auto`` picks by the model's name)."""
        deps = getattr(self.context, "deps", None)
        genres = getattr(deps, "genres", None) or {}
        shelves = sorted(genres, key=lambda g: -genres[g]) if isinstance(genres, dict) else []
        return profile_for(self.settings.tool_profile, model, self.registry, shelves)

    def constraints(self, messages: list[dict[str, Any]], state: SessionState | None) -> HardConstraints:
        if self._constraints_from is not None:
            return self._constraints_from(messages, state)
        return HardConstraints.from_conversation(messages, state, self._reader())

    def _reader(self) -> MessageReader:
        """The catalog's reading of messages, shared with the offline planner (same words, same limits)."""
        catalog = Layout(self.settings.home_dir).catalog
        return catalog_reader(catalog, catalog_parse_config(catalog), self._kinds, self._stance)

    def run(
        self,
        messages: list[dict[str, Any]],
        *,
        session_state: SessionState | None = None,
        filters: SearchFilters | None = None,
        model: str | None = None,
        fallback_models: Sequence[str] | None = None,
        max_turns: int | None = None,
    ) -> AgentRun:
        """Answer the last user message of ``messages`` (OpenAI chat format, oldest first).

        Returns an :class:`AgentRun`, an async iterator of events: status / tool_call / books as tools
        run, then text deltas, then exactly one ``done`` or ``error``.

        Per-request options (default: the settings'): ``filters``, hard filters enforced on every tool
        call beside the reader's own limits; ``model`` and ``fallback_models``, the models tried in order
        before the offline planner; ``max_turns``, the most model calls for this message.
        """
        run = AgentRun()
        options = _RunOptions(
            chain=self.models(model, fallback_models),
            filters=filters,
            max_turns=self.settings.max_turns if max_turns is None else max_turns,
        )
        run._events = self._run(run, messages, session_state, options)
        return run

    async def _run(
        self,
        run: AgentRun,
        messages: list[dict[str, Any]],
        state: SessionState | None,
        options: _RunOptions,
    ) -> AsyncGenerator[AgentEvent, None]:
        start = time.perf_counter()
        timings: dict[str, float] = {}
        first = True

        def stamp(event: AgentEvent) -> AgentEvent:
            nonlocal first
            if first:
                timings["first_event_ms"] = _ms(start)
                first = False
            if isinstance(event, BooksEvent):
                timings.setdefault("first_books_ms", _ms(start))
            elif isinstance(event, TextEvent):
                timings.setdefault("first_text_ms", _ms(start))
                run.answer += event.delta
            return event

        # The one place an unexpected exception ends a turn: the reader gets an error event, never a
        # broken stream. (Expected failures are outcomes: a tool's become tool results in Tool.call, a
        # provider's a ProviderFailed step that falls back to the next model.)
        try:
            async for event in self._converse(run, messages, state, timings, options):
                yield stamp(event)
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception:
            log.exception("agent run failed")
            yield stamp(
                ErrorEvent(code="internal", message="Something went wrong on our side; please try again.")
            )

    async def _converse(
        self,
        run: AgentRun,
        messages: list[dict[str, Any]],
        state: SessionState | None,
        timings: dict[str, float],
        options: _RunOptions,
    ) -> AsyncGenerator[AgentEvent, None]:
        start = time.perf_counter()
        history = [
            _replayable(m)
            for m in messages
            if m.get("role") in ("user", "assistant", "tool")  # a client's system prompt is not ours to obey
        ]
        if (
            not history
            or history[-1].get("role") != "user"
            or not message_text(history[-1].get("content")).strip()
        ):
            yield ErrorEvent(
                code="invalid_request", message="The last message must be a non-empty user message."
            )
            return

        # The offline planner reads the full tools; a provider model gets its profile's (see tool_profile).
        chain = options.chain
        profiles = {m: self.tool_profile(m) for m in chain}
        full = FullProfile(self.registry)
        allowed = set(profiles[chain[0]].tool_names())
        constraints = self.constraints(history, state)
        guard = ConstraintGuard(self.registry, constraints, options.filters)
        grounder = Grounder()
        _add_reader_limits(grounder, constraints)
        if options.filters:
            _add_reader_limits(grounder, HardConstraints.from_filters(options.filters))
        reader = self._reader()
        for m in history:
            if m.get("role") == "user":
                text = message_text(m.get("content"))
                grounder.add_user_text(text)
                # The books the reader named, as the catalog spells them ("the hobit" is The Hobbit): an answer
                # may name them back ("In the spirit of The Hobbit"), though one is ruled out as a pick.
                reading = reader.read(text)
                for ref in [*reading.like_titles, *reading.read_titles, *reading.avoid_titles]:
                    grounder.add_user_text(ref.title)
            elif m.get("role") == "tool":
                for book in self._books_in_tool_message(m):
                    # A book an earlier look-up returned that the reader has since ruled out may not be named.
                    if not constraints.rules_out(str(book.get("id", "")), book.get("authors") or []):
                        facts = BookFacts.of(book)
                        grounder.add_book(
                            book["title"], book.get("authors") or [], book.get("series"), facts=facts
                        )
        for shown in state.shown if state is not None else []:
            # A book shown earlier that the reader has since ruled out may not be named again.
            if not constraints.rules_out(shown.id, shown.authors):
                grounder.add_book(shown.title, shown.authors)
        # Static instructions (and, in the request, the tools) first, the same for every turn and
        # session, so a server's prompt cache holds them; the reader's limits and session come in a
        # later message, just before the message being answered.
        convo = [
            {"role": "system", "content": render("system", tool_names=", ".join(sorted(allowed)) or "none")},
            *history[:-1],
            {"role": "system", "content": self._context_prompt(constraints, state)},
            history[-1],
        ]

        initial = list(convo)  # what the planner answers from if a model fails partway through
        model_index = 0
        usage = Usage()
        seen_books: set[str] = set()
        turn = 0
        llm_ms = tools_ms = 0.0
        streamed_any_text = False
        outcome: StepOutcome | MaxTurnsReached | None = None
        called_tools = False  # a tool ran for this message
        calls_run: set[str] = set()  # signatures of the calls run for this message
        before_nudge: list[dict[str, Any]] | None = None  # the conversation before the nudge, once sent

        planner_tools: list[dict[str, Any]] | None = None  # the planner only reads them: built once

        def hand_to_planner(why: str) -> StatusEvent:
            """The turn goes to the offline planner, which reads the reader's messages, not the model's tries."""
            convo[:] = initial
            run.fell_back = True
            return StatusEvent(message=f"{why}; answering with the offline planner instead")

        while True:
            if turn >= options.max_turns:
                outcome = MaxTurnsReached(turn)
                break
            model = chain[model_index]
            profile = full if model == PLANNER_MODEL else profiles[model]
            if model == PLANNER_MODEL:
                planner_tools = planner_tools or full.schemas()
                tools = planner_tools
            else:
                tools = profile.schemas()  # a provider's client may change what it is sent: fresh each step
            allowed = {t["function"]["name"] for t in tools}
            step_start = time.perf_counter()
            outcome = None
            # Until a tool has run, a model's answer is held back: one that names books from memory is
            # not shown (see the nudge below).
            hold = not run.books and model != PLANNER_MODEL
            removed_before = len(grounder.removed)
            # After the nudge, a profile that names its search tool has the model call it (a small model
            # asked in words often answers from memory again).
            force = profile.search_tool if before_nudge is not None and not called_tools else None
            async for item in self._step(
                model, convo, tools, grounder, usage, separate=streamed_any_text, hold=hold, force=force
            ):
                if isinstance(item, (ToolCallsStep, FinalAnswerStep, ProviderFailed)):
                    outcome = item
                else:
                    if isinstance(item, TextEvent):
                        streamed_any_text = True
                    yield item
            llm_ms += (time.perf_counter() - step_start) * 1000
            if isinstance(outcome, ProviderFailed):
                streamed_any_text = streamed_any_text or outcome.streamed_text
                log.warning("model %s failed: %s", model, outcome.error)
                if model_index + 1 >= len(chain):
                    yield ErrorEvent(
                        code="provider_failed", message=f"The model failed: {outcome.error.message}"
                    )
                    return
                model_index += 1
                nxt = chain[model_index]
                who = "the offline planner" if nxt == PLANNER_MODEL else nxt
                if nxt == PLANNER_MODEL:
                    # The planner reads the reader's message, not a failed model's half-made calls.
                    convo[:] = initial
                yield StatusEvent(
                    message=f"{model} is unavailable ({outcome.error.code}); answering with {who} instead"
                )
                run.fell_back = True
                continue  # the same turn again, on the next model
            turn += 1
            if isinstance(outcome, FinalAnswerStep):
                invented = len(grounder.removed) > removed_before
                named = grounder.names_a_returned_book(outcome.text)
                # A message with a kind, a name or a limit is answered from a look-up made for it: books named
                # from earlier answers do not account for what it just said ("only ones before 2000").
                unanswered = constraints.asks_for_books and not (named and called_tools)
                # It looked, showed nothing and names nothing, and does not ask the reader anything back.
                fruitless = called_tools and not named and not outcome.text.rstrip().endswith("?")
                # Nothing left to show (it wrote only data, or nothing): never an answer.
                empty = not any(isinstance(e, TextEvent) and e.delta.strip() for e in outcome.held)
                if hold and (invented or unanswered or fruitless or empty):
                    # No grounding, no answer: it named books no tool returned, or it asked for books (a kind,
                    # a name, a limit) and got none, or its own look-ups came to nothing. Nudged once (when it
                    # has not looked anything up yet), then the planner answers from the same tools.
                    if before_nudge is None and not called_tools and turn < options.max_turns:
                        before_nudge = list(convo)
                        convo.append({"role": "assistant", "content": strip_text_calls(outcome.text)})
                        convo.append({"role": "user", "content": render("nudge").strip()})
                        yield StatusEvent(message="looking the books up in the catalog first")
                        continue
                    model_index = chain.index(PLANNER_MODEL)
                    yield hand_to_planner(f"{model} answered without looking any book up")
                    continue
                for event in outcome.held:
                    streamed_any_text = True
                    yield event
                break
            assert isinstance(outcome, ToolCallsStep)
            # The same call written several times in one reply (a small model's text calls) runs once.
            unique: dict[str, ToolCall] = {}
            for call in outcome.calls:
                unique.setdefault(call.signature(), call)
            outcome.calls = list(unique.values())
            asked = set(unique)
            if called_tools and asked <= calls_run:
                # It only repeats calls already answered (small models loop like this): what it wrote, or
                # the cards already shown, are the answer; with neither, it is stuck and the planner answers.
                if run.answer.strip() or run.books or model == PLANNER_MODEL:
                    break
                model_index = chain.index(PLANNER_MODEL)
                yield hand_to_planner(f"{model} repeated its look-ups without finding books")
                continue
            calls_run |= asked
            called_tools = True
            if turn >= options.max_turns:
                outcome = MaxTurnsReached(turn)  # calls the model asked for on its last turn are not run
                break
            tools_start = time.perf_counter()
            async for event in self._run_tools(
                outcome, convo, run, allowed, guard, grounder, seen_books, state, profile
            ):
                yield event
            tools_ms += (time.perf_counter() - tools_start) * 1000

        if isinstance(outcome, MaxTurnsReached):
            yield StatusEvent(message=f"stopped after {outcome.turns} model calls")
        if not run.answer.strip():
            # Nothing (grounded) was said: describe the tool results ourselves so the reader gets an answer.
            text = self._fallback_text(run.books)
            yield TextEvent(delta=text)
        elif (
            run.books
            and chain[model_index] != PLANNER_MODEL
            and not grounder.names_a_returned_book(run.answer)
        ):
            # Cards shown under a text that names none of them ("Sorry, I can't help with that."): the cards
            # get their description.
            yield TextEvent(delta="\n\n" + self._fallback_text(run.books))
        run.new_messages.append({"role": "assistant", "content": run.answer if run.answer else None})
        if state is not None:
            state.turns += 1
        run.model = chain[model_index]
        run.usage = usage
        run.removed_titles = list(grounder.removed)
        timings.update(llm_ms=round(llm_ms, 1), tools_ms=round(tools_ms, 1), total_ms=_ms(start))
        yield DoneEvent(
            usage=usage,
            timings=timings,
            model=run.model,
            fell_back=run.fell_back,
            turns=turn,
            finish_reason="max_turns" if isinstance(outcome, MaxTurnsReached) else "stop",
            removed_titles=run.removed_titles,
        )

    # --- one model call -------------------------------------------------------------------------

    async def _step(
        self,
        model: str,
        convo: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        grounder: Grounder,
        usage: Usage,
        *,
        separate: bool,
        hold: bool = False,
        force: str | None = None,
    ) -> AsyncGenerator[AgentEvent | StepOutcome, None]:
        """Stream one completion: yields grounded TextEvents as lines complete, then the outcome.

        ``hold``: keep the text events back; a final answer carries them (``FinalAnswerStep.held``),
        text before tool calls is released with them, and a failed call shows nothing.
        """
        held: list[AgentEvent] = []
        loop = asyncio.get_running_loop()
        calls = ToolCallAccumulator()
        gate = TextCallGate()  # tool calls written as text never reach the reader
        stream = StreamingGrounder(grounder)
        raw: list[str] = []
        streamed = False
        finished = False  # a finish_reason arrived: the stream was not cut short
        pending_break = separate  # a paragraph break before text that follows earlier text
        step_usage: Usage | None = None
        agen = self.llm.stream(model, convo, tools, force)
        # Timed from here: the client's one-off set-up (importing litellm) is not the provider's delay.
        deadline = loop.time() + self.settings.stream_deadline_s
        first = True
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise ProviderError(
                        model, "timeout", f"no complete answer within {self.settings.stream_deadline_s}s"
                    )
                limit = self.settings.first_token_timeout_s if first else self.settings.llm_timeout_s
                wait = min(limit, remaining)
                try:
                    delta = await asyncio.wait_for(anext(agen), timeout=wait)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    what = "no first token" if first else "no data"
                    raise ProviderError(model, "timeout", f"{what} for {wait:.1f}s") from None
                first = False
                if delta.usage is not None:
                    step_usage = delta.usage
                finished = finished or bool(delta.finish_reason)
                calls.add(delta.tool_calls)
                if delta.text:
                    raw.append(delta.text)
                    safe = stream.feed(gate.feed(delta.text))
                    if safe:
                        event = TextEvent(delta=("\n\n" if pending_break else "") + safe)
                        pending_break = False
                        if hold:
                            held.append(event)
                        else:
                            streamed = True
                            yield event
            text_calls = parse_text_calls(gate.held) if gate.holding and not calls else None
            if text_calls is not None and text_calls.looked_like_call and not text_calls.calls:
                raise ProviderError(
                    model, "bad_response", "the reply looked like a tool call but could not be read"
                )
            said = "".join(raw).strip()
            if not calls and not said:
                raise ProviderError(model, "empty_response", "the model sent no text and no tool call")
            if not finished:
                raise ProviderError(model, "truncated", "the stream ended before the model finished")
        except ProviderError as exc:
            yield ProviderFailed(model, exc, streamed)
            return
        finally:
            close = getattr(agen, "aclose", None)  # an async generator (any LLMClient's stream) has one
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        if step_usage is not None:
            usage.prompt_tokens += step_usage.prompt_tokens
            usage.completion_tokens += step_usage.completion_tokens
            usage.total_tokens += step_usage.total_tokens
        if text_calls is not None and text_calls.calls:
            for index, (name, arguments) in enumerate(text_calls.calls):
                calls.add([ToolCallDelta(index=index, name=name, arguments=arguments)])
            # What the model said around the calls goes through the grounder like any text.
            tail = stream.feed(gate.flush()) + stream.flush()
            prose = text_calls.prose
            if prose:
                tail = (tail + "\n" if tail else "") + grounder.ground(prose)
            raw = [strip_text_calls("".join(raw))]
        else:
            # Held text that was no call after all (a code block, a JSON example) is answer text.
            not_calls = gate.held if text_calls is not None else ""  # beside real calls: dropped
            if is_data(not_calls):
                # A JSON object is never an answer: a small model copying its context block or a result.
                log.warning("model %s wrote data as its answer; not shown: %.200s", model, not_calls.strip())
                not_calls = ""
            tail = stream.feed(gate.flush() + not_calls) + stream.flush()
        if calls:
            for held_event in held:
                yield held_event
            said = tail.strip()
            if said and "\n" not in said and len(said) <= _STATUS_MAX_CHARS and not looks_like_call(said):
                # "Let me look that up." before tool calls reads best as a status line; a longer text
                # beside a call is the model answering before it has results, not progress.
                yield StatusEvent(message=said)
            yield ToolCallsStep(calls.calls(turn=len(convo)), "".join(raw).strip())
            return
        if tail:
            event = TextEvent(delta=("\n\n" if pending_break else "") + tail)
            if hold:
                held.append(event)
            else:
                yield event
        yield FinalAnswerStep("".join(raw), held)

    # --- tools ----------------------------------------------------------------------------------

    async def _run_tools(
        self,
        step: ToolCallsStep,
        convo: list[dict[str, Any]],
        run: AgentRun,
        allowed: set[str],
        guard: ConstraintGuard,
        grounder: Grounder,
        seen_books: set[str],
        state: SessionState | None,
        profile: ToolProfile,
    ) -> AsyncGenerator[AgentEvent, None]:
        assistant = {
            "role": "assistant",
            "content": step.text or None,
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in step.calls
            ],
        }
        convo.append(assistant)
        run.new_messages.append(assistant)
        for call in step.calls:
            event = ToolCallEvent(name=call.name, arguments=call.parsed())
            run.tool_calls.append(event)
            yield StatusEvent(message=self._describe(call))
            yield event

        context = self._session_context(state)
        tasks = [
            asyncio.ensure_future(self._call_tool(i, c, allowed, guard, profile, context))
            for i, c in enumerate(step.calls)
        ]
        results: dict[int, ToolResult] = {}
        released = 0  # calls whose books have gone out
        try:
            # Books go out before any explanation, in call order (so an answer can number them as
            # shown): each call's as soon as it and every call before it have returned.
            for done in asyncio.as_completed(tasks):
                index, result = await done
                results[index] = result
                for card in cards_in(result.output):
                    facts = BookFacts.of(card.model_dump())
                    grounder.add_book(card.title, card.authors, card.series, card.genres, facts)
                ready = []
                while released in results:
                    ready.append((results[released].tool, results[released].output))
                    released += 1
                picks = [
                    BookPick(**card.model_dump(), reason=one_line_reason(card))
                    for card in shown_cards(ready, seen_books, self._lookups)
                    if not isinstance(card, dict)  # results are models here; dicts come from JSON
                ]
                seen_books.update(p.id for p in picks)
                if picks:
                    run.books.extend(picks)
                    if state is not None:
                        state.record_shown(
                            [
                                ShownBook(id=p.id, title=p.title, authors=p.authors, turn=state.turns)
                                for p in picks
                            ]
                        )
                    yield BooksEvent(books=picks)
        finally:
            for task in tasks:
                task.cancel()
        for index, call in enumerate(step.calls):
            message = {
                "role": "tool",
                "tool_call_id": call.id,
                "name": call.name,
                "content": fence_data(profile.result_json(results[index])),
            }
            convo.append(message)
            run.new_messages.append(message)

    def _session_context(self, state: SessionState | None) -> ToolContext[Any] | None:
        """The tool context for this session's calls: the shared one plus the reader's rated history,
        which whole-history picks score from (the model passes ids only, and only some of them)."""
        history = state.rated_history() if state is not None else {}
        if self.context is None or not history:
            return self.context
        return replace(self.context, reader_history=history)

    async def _call_tool(
        self,
        index: int,
        call: ToolCall,
        allowed: set[str],
        guard: ConstraintGuard,
        profile: ToolProfile,
        context: ToolContext[Any] | None,
    ) -> tuple[int, ToolResult]:
        if call.name not in allowed:
            error = ToolError.of(
                "not_found",
                f"There is no tool named {call.name!r}. Use one of: {', '.join(sorted(allowed))}.",
            )
            return index, ToolResult(call.name, error)
        # A tool's own failures come back as results (Tool.call decides which); anything raised here is
        # a bug of ours and ends the turn (see _run).
        result = await guard.call(call.name, profile.arguments(call.name, call.arguments), context)
        return index, result

    # --- prompt and helpers ---------------------------------------------------------------------

    def _describe(self, call: ToolCall) -> str:
        """The status line for a call, in the tool's own words (``Tool.status``)."""
        try:
            tool = self.registry.get(call.name)
        except UnknownToolError:
            return f"calling {call.name}"
        return tool.describe(call.parsed())

    def _context_prompt(self, constraints: HardConstraints, state: SessionState | None) -> str:
        state = state or SessionState()
        last = state.last_shown()
        session = {
            "last_shown": [
                {"position": i + 1, "id": b.id, "title": b.title, "authors": b.authors}
                for i, b in enumerate(last)
            ],
            "shown_earlier": [b.title for b in state.shown if b not in last][-30:],
            "liked_ids": state.liked_ids,
            # What the reader liked, imported library first (best rated first): "what should I read next?"
            # is answered from it. Capped: every id here is paid for in every turn's prompt.
            "history_ids": state.liked_history()[:HISTORY_IN_PROMPT],
            "disliked_ids": state.disliked_ids,
            "read_ids": state.read_ids,
            # The reader's limits, including those said before the replayed turns: the offline planner
            # starts its own fold from them (the prose list below is for a real model).
            "constraints": constraints.rules.model_dump(
                mode="json", exclude_defaults=True, exclude={"exclude_ids"}
            ),
        }
        return render(
            "context",
            session_data=fence_data(json.dumps(session, ensure_ascii=False)),
            constraints=constraints.describe(),
        )

    @staticmethod
    def _books_in_tool_message(message: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            data = json.loads(unfence_data(message_text(message.get("content"))))
        except (json.JSONDecodeError, TypeError):
            return []
        return list(_dicts_with_titles(data))

    @staticmethod
    def _fallback_text(books: list[BookPick]) -> str:
        if not books:
            return "I couldn't find books that fit that. Could you describe it another way?"
        lines = ["Here is what I found:"]
        for book in books[:5]:
            by = f" by {', '.join(book.authors[:2])}" if book.authors else ""
            reason = f" — {book.reason}" if book.reason else ""
            lines.append(f"- **{book.title}**{by}{reason}")
        return "\n".join(lines)
