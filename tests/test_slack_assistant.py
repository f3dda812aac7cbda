"""Slack's AI app conventions end to end: the thinking status, suggested prompts, and the buttons on the
book cards through the signed ``/slack/interactivity`` endpoint. Signed with slack_sdk's own
SignatureVerifier; replies go to the fake Slack Web API; the app is tests/slack_test_app.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from chat_server import Server, uvicorn_server
from fake_slack_server import FakeSlackServer
from slack_sdk.models.blocks import ActionsBlock, Block
from slack_sdk.signature import SignatureVerifier
from slack_support import SECRET, TEAM, TOKEN, envelope, finished, mention, post_event

from vibeshelf.web.slack.bot import THINKING_STATUS


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, slack: FakeSlackServer) -> Iterator[Server]:
    env = {
        "VIBESHELF_HOME": str(tmp_path_factory.mktemp("home")),
        "VIBESHELF_SLACK_SIGNING_SECRET": SECRET,
        "VIBESHELF_SLACK_BOT_TOKEN": TOKEN,
        "VIBESHELF_SLACK_API_BASE": slack.api_base,
        "VIBESHELF_SLACK_UPDATE_INTERVAL_S": "0.2",
    }
    with uvicorn_server(env, app="slack_test_app:create_app") as s:
        yield s


def click(url: str, payload: dict, secret: str = SECRET) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return httpx.post(f"{url}/slack/interactivity", content=body, headers=headers, timeout=10)


def button_press(reply_blocks: list[dict], card: int, action_id: str, channel: str, thread_ts: str) -> dict:
    """The block_actions payload Slack sends when the reader presses a button of card ``card`` (0-based)."""
    actions = [b for b in (Block.parse(raw) for raw in reply_blocks) if isinstance(b, ActionsBlock)]
    button = next(e for e in actions[card].elements if e.action_id == action_id)
    return {
        "type": "block_actions",
        "user": {"id": "U0READER", "team_id": TEAM},
        "team": {"id": TEAM},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": "1", "thread_ts": thread_ts},
        "message": {"ts": "1", "thread_ts": thread_ts},
        "trigger_id": "trigger",
        "actions": [
            {
                "type": "button",
                "action_id": button.action_id,
                "block_id": actions[card].block_id,
                "value": button.value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def test_the_thinking_status_comes_before_the_first_text(server: Server, slack: FakeSlackServer) -> None:
    post_event(server.url, mention("CSTATUS", "cozy rainy weekend", ts="1700000101.000100"))
    finished(slack, "CSTATUS")
    calls = slack.calls
    status = [i for i, c in enumerate(calls) if c.method == "assistant.threads.setStatus"]
    stream = [
        i for i, c in enumerate(calls) if c.method == "chat.startStream" and c.body["channel"] == "CSTATUS"
    ]
    assert status and stream and status[0] < stream[0]
    body = calls[status[0]].body
    assert body == {"channel_id": "CSTATUS", "thread_ts": "1700000101.000100", "status": THINKING_STATUS}


def test_a_new_assistant_thread_gets_suggested_prompts(server: Server, slack: FakeSlackServer) -> None:
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U0READER",
            "channel_id": "DPROMPTS",
            "thread_ts": "1700000102.000100",
        },
        "event_ts": "1700000102.000200",
    }
    assert post_event(server.url, envelope(event)).json()["handled"] == "queued"
    calls = slack.wait_for(lambda cs: any(c.method == "assistant.threads.setSuggestedPrompts" for c in cs))
    body = next(c.body for c in calls if c.method == "assistant.threads.setSuggestedPrompts")
    assert body["channel_id"] == "DPROMPTS" and body["thread_ts"] == "1700000102.000100"
    assert 1 <= len(body["prompts"]) <= 4  # Slack shows at most four
    assert all(p["title"] and p["message"] for p in body["prompts"])


def test_ive_read_it_is_confirmed_to_the_reader_and_leaves_later_answers(
    server: Server, slack: FakeSlackServer
) -> None:
    thread = "1700000103.000100"
    post_event(server.url, mention("CREAD", "cozy rainy", ts=thread))
    [first] = finished(slack, "CREAD")
    read_id = first.books()[0]["block_id"].removeprefix("book:")
    answer = click(server.url, button_press(first.blocks, 0, "vibeshelf_read", "CREAD", thread))
    assert answer.status_code == 200 and answer.json()["handled"] == "queued"
    calls = slack.wait_for(lambda cs: any(c.method == "chat.postEphemeral" for c in cs))
    said = next(c.body for c in calls if c.method == "chat.postEphemeral")
    assert said["user"] == "U0READER" and said["thread_ts"] == thread and "you've read" in said["text"]
    post_event(server.url, mention("CREAD", "cozy rainy", ts="1700000103.000300", thread_ts=thread))
    second = finished(slack, "CREAD", count=2)[1]
    ids = [b["block_id"].removeprefix("book:") for b in second.books()]
    assert ids and read_id not in ids


def test_more_like_this_answers_again_in_the_thread(server: Server, slack: FakeSlackServer) -> None:
    thread = "1700000104.000100"
    post_event(server.url, mention("CMORE", "cozy rainy", ts=thread))
    [first] = finished(slack, "CMORE")
    click(server.url, button_press(first.blocks, 0, "vibeshelf_more", "CMORE", thread))
    replies = finished(slack, "CMORE", count=2)
    assert len(replies) == 2 and replies[1].thread_ts == thread and replies[1].books()


def test_interactivity_checks_the_signature_and_the_form(server: Server) -> None:
    payload = {"type": "block_actions", "actions": []}
    forged = click(server.url, payload, secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature"
    body = b"not a form"
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body),
    }
    bad = httpx.post(f"{server.url}/slack/interactivity", content=body, headers=headers, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["field"] == "payload"
    assert click(server.url, {"type": "view_submission"}).json()["handled"] == "ignored"
