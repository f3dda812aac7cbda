"""The Slack Events API payloads vibeshelf reads, and which of them are messages it should answer.

Slack wraps every event in an envelope (``type: event_callback`` with ``event_id`` and the ``event``);
the app answers ``app_mention`` events (someone wrote ``@vibeshelf ...`` in a channel) and direct
messages (``message`` events with ``channel_type: im``). Messages from bots (itself included), edits,
deletions, joins and other subtypes are not questions and are ignored. ``assistant_thread_started`` (a
reader opened the bot's assistant pane) is read too: the bot offers suggested prompts there.
"""

from __future__ import annotations

import html
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SlackEvent(BaseModel):
    """The inner ``event`` of an ``event_callback`` (the fields vibeshelf uses)."""

    model_config = ConfigDict(extra="allow")

    type: str
    user: str | None = None
    text: str | None = None
    channel: str | None = None
    channel_type: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    team: str | None = None
    user_team: str | None = None


class Authorization(BaseModel):
    model_config = ConfigDict(extra="allow")

    user_id: str | None = None
    team_id: str | None = None


class SlackEnvelope(BaseModel):
    """What Slack POSTs to the events URL: ``url_verification`` or an ``event_callback``."""

    model_config = ConfigDict(extra="allow")

    type: str
    challenge: str | None = None
    team_id: str | None = None
    api_app_id: str | None = None
    event_id: str | None = None
    event_time: int | None = None
    event: dict[str, Any] | None = None
    authorizations: list[Authorization] = Field(default_factory=list)


class IncomingMessage(BaseModel):
    """A message vibeshelf answers, reduced to what answering needs."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    kind: Literal["mention", "dm"]
    channel: str
    ts: str
    thread_ts: str = Field(description="The thread to answer in: the parent's ts, or the message's own.")
    user: str
    team: str | None
    text: str = Field(description="What the person wrote, as plain text (mentions and markup removed).")


_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<![^>]*>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>|<#[A-Z0-9]+>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def plain_text(text: str) -> str:
    """Slack message markup as the words a person typed: mentions dropped, links as their label,
    ``&amp;``/``&lt;``/``&gt;`` decoded."""
    text = _USER_MENTION.sub(" ", text)
    text = _SPECIAL.sub(" ", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(html.unescape(text).split())


def incoming_message(envelope: SlackEnvelope) -> IncomingMessage | None:
    """The message to answer in this envelope, or None when it is nothing vibeshelf answers."""
    if envelope.type != "event_callback" or not envelope.event or not envelope.event_id:
        return None
    try:
        event = SlackEvent.model_validate(envelope.event)
    except ValidationError:
        return None
    if event.bot_id or event.subtype or not event.user or not event.channel or not event.ts:
        return None  # bots (ourselves included), edits, deletions, joins, file shares...
    if event.type == "app_mention":
        kind: Literal["mention", "dm"] = "mention"
    elif event.type == "message" and event.channel_type == "im":
        kind = "dm"
    else:
        return None
    return IncomingMessage(
        event_id=envelope.event_id,
        kind=kind,
        channel=event.channel,
        ts=event.ts,
        thread_ts=event.thread_ts or event.ts,
        user=event.user,
        team=event.user_team or event.team or envelope.team_id,
        text=plain_text(event.text or ""),
    )


class ThreadStarted(BaseModel):
    """A reader opened a new assistant thread with the bot (Slack's AI app pane)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    channel: str
    thread_ts: str
    user: str | None = None


def thread_started(envelope: SlackEnvelope) -> ThreadStarted | None:
    """The assistant thread this envelope opens, or None when it is another event."""
    event = envelope.event or {}
    if envelope.type != "event_callback" or event.get("type") != "assistant_thread_started":
        return None
    thread = event.get("assistant_thread") or {}
    channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
    if not (envelope.event_id and isinstance(channel, str) and isinstance(thread_ts, str)):
        return None
    return ThreadStarted(
        event_id=envelope.event_id, channel=channel, thread_ts=thread_ts, user=thread.get("user_id")
    )
