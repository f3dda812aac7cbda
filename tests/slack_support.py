"""What the Slack tests share: signed Events API requests as Slack sends them, and waiting for replies."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
from fake_slack_server import FakeSlackServer, Message

from vibeshelf.web.slack.signature import sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
TEAM = "T0TEST"
BOT_USER = "U0BOT"

_ids = itertools.count(1)


def _event_id() -> str:
    return f"Ev{next(_ids):08d}"


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0TEST",
        "type": "event_callback",
        "event_id": event_id or _event_id(),
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def mention(channel: str, text: str, ts: str, thread_ts: str | None = None, user: str = "U0READER") -> dict:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
        "team": TEAM,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return envelope(event)


def direct_message(channel: str, text: str, ts: str, **extra: Any) -> dict:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U0READER",
        "text": text,
        "ts": ts,
        "channel": channel,
        "team": TEAM,
        "event_ts": ts,
        **extra,
    }
    return envelope(event)


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
    }


def post_event(
    url: str, payload: dict[str, Any], *, retry_num: int | None = None, secret: str = SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = signed_headers(body, secret=secret)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=10)


def finished(slack: FakeSlackServer, channel: str, count: int = 1, timeout: float = 20.0) -> list[Message]:
    """Wait until ``count`` answers in ``channel`` are complete (stream stopped / metadata written)."""

    def done(_: object) -> bool:
        msgs = slack.messages(channel)
        complete = [m for m in msgs if not m.stream_open and (m.metadata or "warning" in m.text)]
        return len(complete) >= count

    slack.wait_for(done, timeout)
    return slack.messages(channel)
