"""One answer being written into a Slack thread, as it streams.

Two ways to write it, picked by ``Settings.slack_streaming``:

* :class:`StreamedReply`: Slack's streaming methods. ``chat.startStream`` opens the reply,
  ``chat.appendStream`` adds the text as it arrives, ``chat.stopStream`` ends it with the book cards.
* :class:`UpdatedReply`: ``chat.postMessage`` posts a placeholder at once (with the progress line:
  "searching for cozy mysteries…"), ``chat.update`` rewrites it as the text grows, and a last update
  adds the book cards.

Either way at most one write per ``interval_s`` goes to Slack (Slack rate-limits both methods): text
that arrives in between waits in a buffer and goes out with the next write. Failures to write are
logged and the final write is retried as a fresh message, so the reader is never left with silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from vibeshelf.agent.events import BookPick
from vibeshelf.web.slack import blocks
from vibeshelf.web.slack.client import SlackApiError, SlackClient

log = logging.getLogger(__name__)

# What Slack answers when the streaming methods are not available to this app or in this conversation.
STREAMING_UNAVAILABLE = frozenset(
    {
        "unknown_method",
        "not_allowed",
        "not_allowed_token_type",
        "method_not_supported_for_channel_type",
        "feature_not_enabled",
    }
)
# chat.startStream/appendStream/stopStream take at most this much markdown per call.
STREAM_TEXT_CHARS = 12_000


class StreamingUnavailable(RuntimeError):
    """chat.startStream was refused in a way that means: post and update instead."""


@dataclass(frozen=True)
class ReplyTarget:
    """Where the answer goes: the conversation, the thread's parent message, and whom it answers."""

    channel: str
    thread_ts: str
    user: str | None = None
    team: str | None = None


def answer_metadata(session_id: str | None, books: list[BookPick]) -> dict[str, Any] | None:
    """Message metadata naming the vibeshelf session and books (for ops, and to find a thread's session)."""
    if session_id is None:
        return None
    payload = {"session_id": session_id, "book_ids": [b.id for b in books]}
    return {"event_type": "vibeshelf_answer", "event_payload": payload}


def warning_line(message: str) -> str:
    return f":warning: {message}"


class Reply:
    """The buffer and the write throttle both ways share; subclasses say how a write is made."""

    def __init__(self, client: SlackClient, target: ReplyTarget, interval_s: float) -> None:
        self.client = client
        self.target = target
        self.interval_s = interval_s
        self.ts: str | None = None
        self.answer = ""  # markdown: model text plus notes, as a reader sees it
        self.progress = ""
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()
        self._pump_task: asyncio.Task[None] | None = None
        self._closing = False  # finish/fail started: a second one (shutdown mid-finish) does nothing
        self.finished = False

    # --- what the bot feeds in --------------------------------------------------------------------
    async def start(self) -> None:
        await self._open()
        self._pump_task = asyncio.create_task(self._pump(), name=f"slack-reply:{self.target.channel}")

    def status(self, message: str) -> None:
        """Progress ("searching for ..."), shown while the answer is being written."""
        self.progress = message
        self._changed()

    def note(self, message: str) -> None:
        """A remark that stays in the answer (a fallback to another model, a cut-short answer)."""
        self._add(f"{self._gap()}_{message}_\n\n")

    def text(self, delta: str) -> None:
        self.progress = ""  # the answer is being written: "searching for ..." is over
        self._add(delta)

    async def finish(
        self, books: list[BookPick], footer: str | None, metadata: dict[str, Any] | None
    ) -> None:
        """The complete answer: the remaining text, the book cards and an optional footer line."""
        if self._closing:
            return
        self._closing = True
        await self._stop_pump()
        extra = blocks.book_blocks(books)
        if footer:
            extra.append(blocks.context(blocks.escape(footer)))
        await self._close(books, extra, metadata)
        self.finished = True

    async def fail(
        self, message: str, books: list[BookPick] | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        """End the answer with a visible error line (never leave the thread silent), plus the cards of
        any books found before it broke."""
        if self._closing:
            return
        self._closing = True
        await self._stop_pump()
        self._add(f"{self._gap()}{warning_line(message)}")
        await self._close(books or [], blocks.book_blocks(books or []), metadata)
        self.finished = True

    def _gap(self) -> str:
        """A paragraph break before a note, unless the answer is empty or already ends with one."""
        if not self.answer.strip() or self.answer.endswith("\n\n"):
            return ""
        return "\n\n"

    # --- the throttle ----------------------------------------------------------------------------
    def _add(self, markdown: str) -> None:
        self.answer += markdown
        self._pending(markdown)
        self._changed()

    def _pending(self, markdown: str) -> None:
        """Hook: streaming keeps the not-yet-sent text; updating re-renders everything."""

    def _changed(self) -> None:
        self._dirty.set()

    async def _pump(self) -> None:
        # First write at once, then at most one per interval; changes in between are coalesced.
        while True:
            await self._dirty.wait()
            async with self._lock:
                self._dirty.clear()
                try:
                    await self._write()
                except SlackApiError as err:
                    log.warning("Slack reply in %s: %s", self.target.channel, err)
                except Exception:  # keep writing later pieces; the final write retries everything
                    log.exception("Slack reply in %s: write failed", self.target.channel)
            await asyncio.sleep(self.interval_s)

    def abandon(self) -> None:
        """Stop the background writer without a last write (the answer was finished or gave up)."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            self._pump_task = None

    async def _stop_pump(self) -> None:
        task, self._pump_task = self._pump_task, None
        if task is None:
            return
        async with self._lock:  # let a write in flight complete
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _post_whole(self, books: list[BookPick], extra: list[dict[str, Any]], metadata: Any) -> None:
        """Last resort: the complete answer as a new message in the thread."""
        body = blocks.fit([*blocks.text_sections(self.answer), *extra])
        await self.client.call(
            "chat.postMessage",
            {
                "channel": self.target.channel,
                "thread_ts": self.target.thread_ts,
                "text": blocks.fallback_text(self.answer, books),
                "blocks": body,
                "metadata": metadata,
                "unfurl_links": False,
            },
        )

    # --- per mode --------------------------------------------------------------------------------
    async def _open(self) -> None:
        raise NotImplementedError

    async def _write(self) -> None:
        raise NotImplementedError

    async def _close(self, books: list[BookPick], extra: list[dict[str, Any]], metadata: Any) -> None:
        raise NotImplementedError


class UpdatedReply(Reply):
    """``chat.postMessage`` once, then throttled ``chat.update`` of the whole message."""

    async def _open(self) -> None:
        posted = await self.client.call(
            "chat.postMessage",
            {
                "channel": self.target.channel,
                "thread_ts": self.target.thread_ts,
                "text": "Looking for books…",
                "blocks": [blocks.context("_Looking for books…_")],
                "unfurl_links": False,
            },
        )
        self.ts = str(posted.get("ts") or "")
        if not self.ts:
            raise SlackApiError("chat.postMessage", "bad_response", "the reply has no ts")

    def _working_blocks(self) -> list[dict[str, Any]]:
        body = blocks.text_sections(self.answer)
        line = f"_{blocks.escape(self.progress)}…_" if self.progress else "_Writing…_"
        return blocks.fit([*body, blocks.context(line)])

    async def _write(self) -> None:
        await self.client.call(
            "chat.update",
            {
                "channel": self.target.channel,
                "ts": self.ts,
                "text": blocks.fallback_text(self.answer, []),
                "blocks": self._working_blocks(),
            },
        )

    async def _close(self, books: list[BookPick], extra: list[dict[str, Any]], metadata: Any) -> None:
        body = blocks.fit([*blocks.text_sections(self.answer), *extra])
        try:
            await self.client.call(
                "chat.update",
                {
                    "channel": self.target.channel,
                    "ts": self.ts,
                    "text": blocks.fallback_text(self.answer, books),
                    "blocks": body,
                    "metadata": metadata,
                },
            )
        except SlackApiError as err:
            log.warning("Slack final update in %s failed (%s); posting it anew", self.target.channel, err)
            await self._post_whole(books, extra, metadata)


class StreamedReply(Reply):
    """``chat.startStream``, throttled ``chat.appendStream`` of the new text, ``chat.stopStream``."""

    def __init__(self, client: SlackClient, target: ReplyTarget, interval_s: float) -> None:
        super().__init__(client, target, interval_s)
        self._unsent = ""
        self._broken = False  # an append failed: the streamed message is incomplete

    async def _open(self) -> None:
        try:
            started = await self.client.call(
                "chat.startStream",
                {
                    "channel": self.target.channel,
                    "thread_ts": self.target.thread_ts,
                    # Required outside DMs: the person the streamed answer is for.
                    "recipient_user_id": self.target.user,
                    "recipient_team_id": self.target.team,
                },
            )
        except SlackApiError as err:
            if err.error in STREAMING_UNAVAILABLE:
                raise StreamingUnavailable(err.error) from err
            raise
        self.ts = str(started.get("ts") or "")
        if not self.ts:
            raise SlackApiError("chat.startStream", "bad_response", "the reply has no ts")

    def status(self, message: str) -> None:
        # Progress lines would stay in a streamed message for good; the stream shows only the answer.
        self.progress = message

    def _pending(self, markdown: str) -> None:
        self._unsent += markdown

    async def _write(self) -> None:
        if not self._unsent or self._broken:
            return
        piece, self._unsent = self._unsent[:STREAM_TEXT_CHARS], self._unsent[STREAM_TEXT_CHARS:]
        try:
            await self.client.call(
                "chat.appendStream",
                {"channel": self.target.channel, "ts": self.ts, "markdown_text": blocks.defuse(piece)},
            )
        except SlackApiError:
            self._broken = True
            raise
        if self._unsent:
            self._dirty.set()

    async def _close(self, books: list[BookPick], extra: list[dict[str, Any]], metadata: Any) -> None:
        try:
            while len(self._unsent) > STREAM_TEXT_CHARS and not self._broken:
                await self._write()
            await self.client.call(
                "chat.stopStream",
                {
                    "channel": self.target.channel,
                    "ts": self.ts,
                    "markdown_text": blocks.defuse(self._unsent) if self._unsent else None,
                    "blocks": blocks.fit(extra) if extra else None,
                    "metadata": metadata,
                },
            )
            self._unsent = ""
        except SlackApiError as err:
            self._broken = True
            log.warning("Slack stream in %s could not be finished: %s", self.target.channel, err)
        if self._broken:
            # The streamed message is missing text: post the complete answer so nothing is lost.
            await self._post_whole(books, extra, metadata)


def new_reply(mode: str, client: SlackClient, target: ReplyTarget, interval_s: float) -> Reply:
    """A reply of the configured kind (``auto`` starts as a stream; the caller falls back on refusal)."""
    cls = UpdatedReply if mode == "update" else StreamedReply
    return cls(client, target, interval_s)
