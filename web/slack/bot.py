"""The Slack bot: answers mentions and direct messages in their thread, one vibeshelf session per thread.

``/slack/events`` hands each message to :meth:`SlackBot.accept`, which only queues it (Slack wants its
acknowledgement within 3 s) and drops the retries Slack sends for events it already delivered. A few
worker tasks (``Settings.slack_concurrency``) then answer the queue: claim the event in the state
DuckDB (so a retry that reached another worker process is dropped too), find or start the thread's
session, run the turn through :func:`~vibeshelf.agent.conversation.run_turn` (saved and logged like
any chat turn) and stream it into the thread with a :class:`~vibeshelf.web.slack.reply.Reply`.
Messages in one thread are answered one after the other, in the order they arrived.

As Slack's AI apps do, the bot sets the thread's status ("is looking for books…",
``assistant.threads.setStatus``) before the first text, offers suggested prompts when a reader opens an
assistant thread (``assistant.threads.setSuggestedPrompts``, texts in ``suggested_prompts.json``), and
acts on the buttons under each book card (:meth:`SlackBot.accept_action`, from ``/slack/interactivity``):
"More like this" asks for more in the thread, "I've read it" and up/down are session feedback, confirmed
to the reader alone (``chat.postEphemeral``). Outside assistant threads Slack refuses the assistant
methods; that is logged and the answer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any, Literal

from vibeshelf.agent.conversation import Answerer, Turn, run_turn
from vibeshelf.agent.events import (
    Answer,
    DoneEvent,
    ErrorEvent,
    StatusEvent,
    TextEvent,
    ToolCallEvent,
)
from vibeshelf.agent.llm import PLANNER_MODEL
from vibeshelf.agent.session_store import SessionNotFound, SessionStore, StoredSession
from vibeshelf.settings import Settings
from vibeshelf.web.slack.actions import BookAction
from vibeshelf.web.slack.blocks import escape as blocks_escape
from vibeshelf.web.slack.client import SlackApiError, SlackClient
from vibeshelf.web.slack.events import (
    IncomingMessage,
    SlackEnvelope,
    ThreadStarted,
    incoming_message,
    thread_started,
)
from vibeshelf.web.slack.reply import (
    Reply,
    ReplyTarget,
    StreamingUnavailable,
    UpdatedReply,
    answer_metadata,
    new_reply,
    warning_line,
)
from vibeshelf.web.slack.store import SlackStore, thread_key

log = logging.getLogger(__name__)

Accepted = Literal["queued", "duplicate", "ignored"]

# Event keys remembered in memory for the fast duplicate check (Slack retries within about an hour).
_SEEN_MAX = 10_000
_SEEN_TTL_S = 3600.0
# How long shutdown waits to tell a reader whose answer was cut off.
_GOODBYE_S = 3.0

THINKING_STATUS = "is looking for books…"
_FEEDBACK_SAID = {
    "up": "Noted: you liked *{title}*.",
    "down": "Noted: *{title}* is not for you; I won't suggest it again in this thread.",
    "read": "Noted: you've read *{title}*; I won't suggest it again in this thread.",
}

HINT = (
    "Hi! Tell me what you feel like reading — a mood, a book you loved, a genre — "
    'for example _"a cozy mystery set in a small village"_ or _"like The Martian but funnier"_.'
)


class SlackBot:
    """Queue + workers answering Slack messages; open with :meth:`open`, stop with :meth:`aclose`."""

    def __init__(self, settings: Settings, store: SessionStore, agent: Answerer, client: SlackClient) -> None:
        self.settings = settings
        self.store = store
        self.agent = agent
        self.client = client
        self.threads = SlackStore(store)
        self._queue: asyncio.Queue[IncomingMessage | ThreadStarted | BookAction] = asyncio.Queue()
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._thread_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._workers: list[asyncio.Task[None]] = []

    @classmethod
    def open(cls, settings: Settings, store: SessionStore, agent: Answerer) -> SlackBot | None:
        """A bot over the chat's store and agent, or None when no bot token is configured."""
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        if not token:
            return None
        return cls(settings, store, agent, SlackClient(token, settings.slack_api_base))

    async def start(self) -> None:
        try:
            await self.threads.ensure_schema()
        except Exception:  # retried on first use; the server still starts
            log.exception("Slack bot: the state database is unavailable for now")
        self._workers = [
            asyncio.create_task(self._work(), name=f"slack-worker-{n}")
            for n in range(self.settings.slack_concurrency)
        ]

    async def aclose(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        await self.client.aclose()

    @property
    def pending(self) -> int:
        """Messages queued and not yet picked up (for tests and ops)."""
        return self._queue.qsize()

    # --- acknowledging (in the request, so: no waiting) ------------------------------------------
    def accept(self, envelope: SlackEnvelope, retry_num: int | None = None) -> Accepted:
        """Queue the envelope's message for answering; never waits. Retries of queued events are dropped."""
        started = thread_started(envelope)
        if started is not None:
            key = f"event:{started.event_id}"
            if key in self._seen:
                return "duplicate"
            self._seen[key] = time.monotonic()
            self._queue.put_nowait(started)
            return "queued"
        message = incoming_message(envelope)
        if message is None:
            return "ignored"
        keys = self._keys(message)
        now = time.monotonic()
        # Forget the oldest keys past the size cap or the retry window (insertion order is age order).
        while self._seen and (
            len(self._seen) > _SEEN_MAX or next(iter(self._seen.values())) < now - _SEEN_TTL_S
        ):
            self._seen.popitem(last=False)
        if any(key in self._seen for key in keys):
            log.info("Slack event %s is a duplicate (retry %s); dropped", message.event_id, retry_num)
            return "duplicate"
        for key in keys:
            self._seen[key] = now
        if retry_num:
            # A retry we have not seen (another worker, or before a restart): the claim in the state
            # database decides whether it was answered already.
            log.info("Slack retry %d of unseen event %s queued", retry_num, message.event_id)
        self._queue.put_nowait(message)
        return "queued"

    def accept_action(self, action: BookAction) -> Accepted:
        """Queue a card-button press; never waits (Slack wants the click acknowledged within 3 s)."""
        key = f"action:{action.channel}:{action.action_ts}:{action.kind}:{action.book_id}"
        if key in self._seen:
            return "duplicate"
        self._seen[key] = time.monotonic()
        self._queue.put_nowait(action)
        return "queued"

    @staticmethod
    def _keys(message: IncomingMessage) -> tuple[str, str]:
        # A DM that also mentions the bot arrives as two events with two ids: the message key joins them.
        return f"event:{message.event_id}", f"message:{message.channel}:{message.ts}"

    # --- answering -------------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self.handle(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Slack message %s could not be answered", message.event_id)
            finally:
                self._queue.task_done()

    async def handle(self, message: IncomingMessage | ThreadStarted | BookAction) -> None:
        """Answer one message in its thread (after the thread's earlier messages), offer prompts in a new
        assistant thread, or act on a card button."""
        if isinstance(message, ThreadStarted):
            await self._suggest_prompts(message)
            return
        if isinstance(message, BookAction):
            await self._act(message)
            return
        key = thread_key(message.channel, message.thread_ts)
        async with self._thread_lock(key):
            try:
                fresh = await self.threads.claim(*self._keys(message))
            except Exception:  # StateDBError, or a DuckDB error: better a rare double answer than none
                log.exception("Slack: cannot record event %s; answering anyway", message.event_id)
                fresh = True
            if not fresh:
                log.info("Slack event %s was answered already (by another worker)", message.event_id)
                return
            await self._answer(message, key)

    @contextlib.asynccontextmanager
    async def _thread_lock(self, key: str) -> AsyncIterator[None]:
        lock, users = self._thread_locks.get(key, (asyncio.Lock(), 0))
        self._thread_locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._thread_locks[key]
            if users <= 1:
                del self._thread_locks[key]
            else:
                self._thread_locks[key] = (lock, users - 1)

    # --- Slack's assistant conventions and card buttons -------------------------------------------
    async def _assistant_call(self, method: str, payload: dict[str, Any]) -> bool:
        """An ``assistant.threads.*`` call; False (logged) where Slack refuses it (not an assistant thread,
        an app without the assistant feature): the answer does not depend on it."""
        try:
            await self.client.call(method, payload)
        except SlackApiError as err:
            log.info("Slack %s skipped: %s", method, err.error)
            return False
        return True

    async def _suggest_prompts(self, started: ThreadStarted) -> None:
        suggested = json.loads(
            resources.files("vibeshelf.web.slack").joinpath("suggested_prompts.json").read_text("utf-8")
        )
        await self._assistant_call(
            "assistant.threads.setSuggestedPrompts",
            {"channel_id": started.channel, "thread_ts": started.thread_ts, **suggested},
        )

    async def _tell(self, action: BookAction, mrkdwn: str) -> None:
        """A line only the reader who pressed the button sees."""
        try:
            await self.client.call(
                "chat.postEphemeral",
                {
                    "channel": action.channel,
                    "user": action.user,
                    "thread_ts": action.thread_ts,
                    "text": mrkdwn,
                },
            )
        except SlackApiError as err:
            log.warning("Slack ephemeral reply in %s failed: %s", action.channel, err)

    async def _act(self, action: BookAction) -> None:
        key = thread_key(action.channel, action.thread_ts)
        async with self._thread_lock(key):
            session_id = await self.threads.session_for(key)
            stored = None
            if session_id is not None:
                stored = await self.store.get(session_id, history_turns=self.settings.chat_history_turns)
            if stored is None:
                await self._tell(
                    action, warning_line("This conversation has expired; mention me to start anew.")
                )
                return
            shown = {b.id: b.title for b in stored.state.shown}
            title = shown.get(action.book_id)
            if title is None:
                await self._tell(action, warning_line("That book is not from this conversation."))
                return
            if action.kind != "more":
                try:
                    await self.store.add_feedback(session_id, action.book_id, action.kind, owner="slack")
                except SessionNotFound:
                    await self._tell(action, warning_line("This conversation has expired; mention me again."))
                    return
                await self._tell(action, _FEEDBACK_SAID[action.kind].format(title=blocks_escape(title)))
                return
            # "More like this" is the reader asking for it in the thread: the same turn as typing it.
            message = IncomingMessage(
                event_id=f"action:{action.action_ts}",
                kind="mention",
                channel=action.channel,
                ts=action.action_ts,
                thread_ts=action.thread_ts,
                user=action.user,
                team=action.team,
                text=f"more like {title}",
            )
            await self._answer(message, key)

    async def _say(self, target: ReplyTarget, mrkdwn: str) -> None:
        await self.client.call(
            "chat.postMessage",
            {"channel": target.channel, "thread_ts": target.thread_ts, "text": mrkdwn, "unfurl_links": False},
        )

    async def _session(self, key: str) -> StoredSession:
        session_id = await self.threads.session_for(key)
        if session_id is not None:
            stored = await self.store.get(session_id, history_turns=self.settings.chat_history_turns)
            if stored is not None:
                await self.threads.touch(key)
                return stored
        # A new thread, or its session expired. Slack's sessions are no HTTP credential's to open.
        stored = await self.store.create(owner="slack")
        await self.threads.bind(key, stored.id)
        return stored

    async def _open_reply(self, target: ReplyTarget) -> Reply:
        mode = self.settings.slack_streaming
        interval = self.settings.slack_update_interval_s
        reply = new_reply(mode, self.client, target, interval)
        try:
            await reply.start()
        except StreamingUnavailable as err:
            if mode != "auto":
                raise SlackApiError("chat.startStream", str(err)) from err
            log.info("Slack streaming unavailable (%s); posting and updating instead", err)
            reply = UpdatedReply(self.client, target, interval)
            await reply.start()
        return reply

    async def _answer(self, message: IncomingMessage, key: str) -> None:
        started = time.perf_counter()
        settings = self.settings
        target = ReplyTarget(message.channel, message.thread_ts, message.user, message.team)
        if not message.text:
            await self._say(target, HINT)
            return
        if len(message.text) > settings.chat_max_message_chars:
            await self._say(
                target,
                warning_line(
                    f"That message is {len(message.text):,} characters long; I read at most "
                    f"{settings.chat_max_message_chars:,}. Could you say it more briefly?"
                ),
            )
            return
        try:
            session = await self._session(key)
        except Exception:  # StateDBError, or a DuckDB error
            log.exception("Slack: sessions unavailable for %s", key)
            trouble = "I can't reach my memory right now; please try again shortly."
            await self._say(target, warning_line(trouble))
            return
        if session.turn_count >= settings.session_max_turns:
            await self._say(
                target,
                warning_line(
                    f"This thread has reached {settings.session_max_turns} messages, my limit for one "
                    "conversation. Mention me in a new thread to keep going."
                ),
            )
            return
        # Slack's "is thinking" line in the thread until the reply's first text replaces it.
        await self._assistant_call(
            "assistant.threads.setStatus",
            {"channel_id": target.channel, "thread_ts": target.thread_ts, "status": THINKING_STATUS},
        )
        reply = await self._open_reply(target)
        turn = Turn(
            session=session,
            message=message.text,
            history=session.history_messages(),
            surface="slack",
            client=f"slack:{message.team or '-'}/{message.user}",
            started=started,
        )
        try:
            await self._stream(turn, reply)
        except asyncio.CancelledError:
            # Shutting down mid-answer: say so in the thread rather than leave half an answer hanging.
            # (The cancellation was delivered; these awaits are not cancelled again.)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    reply.fail("I was interrupted (the server is restarting); please ask again."), _GOODBYE_S
                )
            raise
        except Exception:
            log.exception("Slack answer in %s failed", key)
            if not reply.finished:
                await reply.fail("Something went wrong on our side; please try again.")
        finally:
            reply.abandon()

    async def _stream(self, turn: Turn, reply: Reply) -> None:
        answer = Answer()
        books = answer.books
        status: str | None = None  # the last status line, until the next event says what it was
        noted = False

        def settle(progress: bool) -> None:
            # A status followed by a tool call is progress ("searching for ..."); any other status
            # said after some text is a remark on the answer (a model fallback) and stays in it.
            nonlocal status, noted
            if status is None:
                return
            if progress or not reply.answer.strip():
                reply.status(status)
            else:
                reply.note(status)
                noted = True
            status = None

        async for event in run_turn(self.store, self.agent, turn):
            if isinstance(event, StatusEvent):
                settle(progress=False)
                status = event.message
                continue
            settle(progress=isinstance(event, ToolCallEvent))
            answer.add(event)
            session_id = answer.session_id
            if isinstance(event, TextEvent):
                reply.text(event.delta)
            elif isinstance(event, DoneEvent):
                footer = None
                if event.fell_back and not noted:
                    who = "the offline planner" if event.model == PLANNER_MODEL else event.model
                    footer = f"The configured model was unavailable, so {who} wrote this answer."
                await reply.finish(books, footer, answer_metadata(session_id, books))
            elif isinstance(event, ErrorEvent):
                await reply.fail(event.message, books, answer_metadata(session_id, books))
        if not reply.finished:
            await reply.fail("The answer ended early; please try again.")
