"""What arrives at ``/slack/interactivity``: a reader pressing a button on a book card.

Slack POSTs ``payload=<json>`` (form-encoded) for each click. vibeshelf reads ``block_actions`` payloads
whose action is one of its card buttons (``blocks.ACTION_IDS``) and reduces each to a :class:`BookAction`:
who pressed what, for which book, in which thread. Anything else (other payload types, unknown actions)
is acknowledged and ignored.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError

from vibeshelf.web.slack.blocks import ACTION_IDS

ActionKind = Literal["more", "up", "down", "read"]


class BookAction(BaseModel):
    """One press of a card button."""

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    book_id: str
    channel: str
    thread_ts: str
    user: str
    team: str | None
    action_ts: str


class PayloadError(ValueError):
    """The body is not an interactivity payload (says why, for the 400)."""


def parse_payload(body: bytes) -> dict[str, Any]:
    """The JSON inside the form field ``payload``."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, IndexError) as err:
        raise PayloadError("expected a form field `payload` holding JSON") from err
    if not isinstance(payload, dict):
        raise PayloadError("`payload` is not a JSON object")
    return payload


def book_actions(payload: dict[str, Any]) -> list[BookAction]:
    """The card-button presses in a ``block_actions`` payload (usually one)."""
    if payload.get("type") != "block_actions":
        return []
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    channel = (payload.get("channel") or {}).get("id") or container.get("channel_id")
    # The card sits in the bot's reply, inside the thread it answers; the thread is the conversation.
    thread_ts = message.get("thread_ts") or container.get("thread_ts") or container.get("message_ts")
    user = payload.get("user") or {}
    found = []
    for action in payload.get("actions") or []:
        kind = ACTION_IDS.get(str(action.get("action_id")))
        if kind is None or not action.get("value"):
            continue
        try:
            found.append(
                BookAction(
                    kind=kind,
                    book_id=str(action["value"]),
                    channel=str(channel or ""),
                    thread_ts=str(thread_ts or ""),
                    user=str(user.get("id") or ""),
                    team=user.get("team_id") or (payload.get("team") or {}).get("id"),
                    action_ts=str(action.get("action_ts") or ""),
                )
            )
        except ValidationError:
            continue
    return [a for a in found if a.channel and a.thread_ts and a.user]
