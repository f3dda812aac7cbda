"""The Slack bot end to end: signed events into a real uvicorn process, replies into a fake Slack Web API.

The app is tests/slack_test_app.py (the real Slack route, bot, session store and agent loop over the
chat tests' shelf and scripted model). Each test talks in its own channel.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_server import Server, uvicorn_server
from fake_slack_server import FakeSlackServer
from slack_support import SECRET, TOKEN, direct_message, finished, mention, post_event

from vibeshelf.web.slack.bot import HINT

INTERVAL_S = 0.3


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, slack: FakeSlackServer, markers: Path
) -> Iterator[Server]:
    env = {
        "VIBESHELF_HOME": str(tmp_path_factory.mktemp("home")),
        "VIBESHELF_SLACK_SIGNING_SECRET": SECRET,
        "VIBESHELF_SLACK_BOT_TOKEN": TOKEN,
        "VIBESHELF_SLACK_API_BASE": slack.api_base,
        "VIBESHELF_SLACK_UPDATE_INTERVAL_S": str(INTERVAL_S),
        "VIBESHELF_CHAT_MAX_MESSAGE_CHARS": "300",
        "CHAT_TEST_MARKERS": str(markers),
    }
    with uvicorn_server(env, app="slack_test_app:create_app") as s:
        yield s


def test_a_mention_is_answered_in_its_thread_as_a_stream_with_book_cards(
    server: Server, slack: FakeSlackServer
) -> None:
    response = post_event(server.url, mention("CMENTION", "cozy rainy weekend", ts="1700000001.000100"))
    assert response.status_code == 200 and response.json() == {"ok": True, "handled": "queued"}

    [reply] = finished(slack, "CMENTION")
    assert reply.streamed and reply.thread_ts == "1700000001.000100"
    start = next(c for c in slack.in_channel("CMENTION") if c.method == "chat.startStream")
    assert start.body["recipient_user_id"] == "U0READER" and start.body["recipient_team_id"] == "T0TEST"
    assert reply.text.startswith("Here is what I found.")
    assert "**The Rain Cottage** fits the mood." in reply.text
    cards = reply.books()
    assert [c["block_id"] for c in cards][:2] == ["book:t:1", "book:t:12"]
    first = cards[0]["text"]["text"].splitlines()
    assert first == [
        "*<https://example.org/book/t:1|The Rain Cottage>*",
        "by Ada Moss · 2015",
        "★ 4.10 (12,000 ratings)",
        first[3],
    ]
    assert first[3].startswith("_") and len(first[3]) > 2  # the one-line why
    assert reply.blocks[0]["type"] == "divider"
    payload = reply.metadata["event_payload"]
    assert reply.metadata["event_type"] == "vibeshelf_answer"
    assert payload["book_ids"][:2] == ["t:1", "t:12"] and payload["session_id"]
    # Nothing went to the channel itself: only the one streamed reply in the thread.
    assert {c.method for c in slack.in_channel("CMENTION")} <= {
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    }


def test_the_ack_is_immediate_while_the_answer_streams_slowly(
    server: Server, slack: FakeSlackServer, markers: Path
) -> None:
    start = time.monotonic()
    response = post_event(server.url, mention("CSLOW", "slow-text cozy mystery", ts="1700000002.000100"))
    ack_s = time.monotonic() - start
    assert response.status_code == 200
    # The answer takes seconds (0.5 s per sentence); it arrives in throttled pieces after the ack.
    [reply] = finished(slack, "CSLOW", timeout=30)
    appends = [c for c in slack.in_channel("CSLOW") if c.method == "chat.appendStream"]
    assert len(appends) >= 2
    gaps = [b.at - a.at for a, b in itertools.pairwise(appends)]
    assert min(gaps) >= INTERVAL_S * 0.8, gaps
    assert appends[0].at - start > ack_s  # text was written after the request had been answered
    assert "".join(c.body["markdown_text"] for c in appends) in reply.text


def test_the_ack_does_not_wait_for_a_stalled_model(server: Server, markers: Path) -> None:
    # The model stalls for 30 s and post_event gives up after 10 s: an ack that waited for it would fail here.
    response = post_event(server.url, mention("CSTALL", "stall-model anything", ts="1700000003.000100"))
    assert response.status_code == 200 and response.json()["handled"] == "queued"
    deadline = time.monotonic() + 10
    while not (markers / "model-started").exists():
        assert time.monotonic() < deadline, "the model was never called"
        time.sleep(0.05)


def test_slack_retries_are_answered_once(server: Server, slack: FakeSlackServer) -> None:
    event = mention("CRETRY", "space exploration", ts="1700000004.000100")
    handled = [post_event(server.url, event).json()["handled"]]
    for retry in (1, 2, 3):
        response = post_event(server.url, event, retry_num=retry)
        assert response.status_code == 200
        handled.append(response.json()["handled"])
    assert handled == ["queued", "duplicate", "duplicate", "duplicate"]
    finished(slack, "CRETRY")
    # A known point instead of a pause: a later message in the same thread is queued behind anything the
    # retries could have queued and answered under the same thread lock, so once it is answered a second
    # answer to the retried event would be on record.
    later = mention("CRETRY", "space opera", ts="1700000004.000200", thread_ts="1700000004.000100")
    assert post_event(server.url, later).json()["handled"] == "queued"
    finished(slack, "CRETRY", count=2)
    starts = [c for c in slack.in_channel("CRETRY") if c.method in ("chat.startStream", "chat.postMessage")]
    assert len(starts) == 2  # the event once, the later message once


def test_direct_messages_are_answered_and_bot_and_edited_messages_ignored(
    server: Server, slack: FakeSlackServer
) -> None:
    ignored = [
        direct_message("DBOT", "I am a bot", ts="1700000005.000100", bot_id="B0OTHER"),
        direct_message("DEDIT", "edited", ts="1700000005.000200", subtype="message_changed"),
        {**direct_message("CPLAIN", "hello", ts="1700000005.000300")},
    ]
    ignored[2]["event"]["channel_type"] = "channel"  # a channel message without a mention
    for payload in ignored:
        assert post_event(server.url, payload).json()["handled"] == "ignored"

    assert (
        post_event(
            server.url, direct_message("DREADER", "a vampire teen book", ts="1700000005.000400")
        ).json()["handled"]
        == "queued"
    )
    [reply] = finished(slack, "DREADER")
    assert reply.thread_ts == "1700000005.000400"
    assert "Vampire Summer" in reply.text and reply.books()[0]["block_id"] == "book:t:3"
    for channel in ("DBOT", "DEDIT", "CPLAIN"):
        assert slack.in_channel(channel) == []


def test_one_session_per_thread_across_messages(server: Server, slack: FakeSlackServer) -> None:
    parent = "1700000006.000100"
    post_event(server.url, mention("CTHREAD", "a cozy mystery", ts=parent))
    first = finished(slack, "CTHREAD")[0]
    post_event(
        server.url, mention("CTHREAD", "something with a garden", ts="1700000006.000200", thread_ts=parent)
    )
    replies = finished(slack, "CTHREAD", count=2)
    assert [r.thread_ts for r in replies] == [parent, parent]
    session_id = first.metadata["event_payload"]["session_id"]
    assert replies[1].metadata["event_payload"]["session_id"] == session_id

    # Slack's sessions are not open to HTTP credentials (docs/access.md)...
    assert httpx.get(f"{server.url}/v1/sessions/{session_id}", timeout=10).status_code == 404
    session = httpx.get(f"{server.url}/test/slack-sessions/{session_id}", timeout=10).json()
    assert session["turn_count"] == 2
    assert [t["user"] for t in session["turns"]] == ["a cozy mystery", "something with a garden"]
    assert [t["book_ids"] for t in session["turns"]] == [
        r.metadata["event_payload"]["book_ids"] for r in replies
    ]

    # A new top-level mention is a new thread, so a new session.
    post_event(server.url, mention("CTHREAD", "a cozy mystery", ts="1700000006.000300"))
    third = finished(slack, "CTHREAD", count=3)[2]
    assert third.thread_ts == "1700000006.000300"
    assert third.metadata["event_payload"]["session_id"] != session_id


def test_streaming_refused_falls_back_to_post_and_throttled_updates(
    server: Server, slack: FakeSlackServer
) -> None:
    slack.reject_streaming = "unknown_method"
    try:
        post_event(server.url, mention("CFALLBACK", "slow-text cozy rainy weekend", ts="1700000007.000100"))
        [reply] = finished(slack, "CFALLBACK", timeout=30)
    finally:
        slack.reject_streaming = None
    calls = slack.in_channel("CFALLBACK")
    methods = [c.method for c in calls]
    assert methods[0] == "chat.startStream" and calls[0].response["error"] == "unknown_method"
    assert methods[1] == "chat.postMessage" and set(methods[2:]) == {"chat.update"}
    assert not reply.streamed and reply.thread_ts == "1700000007.000100"
    updates = [c for c in calls if c.method == "chat.update"]
    assert len(updates) >= 3  # the text grew over several updates, then the final one
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates[:-1])]
    assert all(g >= INTERVAL_S * 0.8 for g in gaps), gaps
    # The finished message: the answer as mrkdwn sections, then the cards; the text is the fallback.
    text_blocks = [b for b in reply.blocks if b["type"] == "section" and "block_id" not in b]
    assert text_blocks and "*The Rain Cottage* fits the mood." in text_blocks[0]["text"]["text"]
    assert reply.books()[0]["block_id"] == "book:t:1"
    assert "*The Rain Cottage*" in reply.text
    assert reply.metadata["event_payload"]["book_ids"][0] == "t:1"
    # While it was written, a progress line ended the message: the search, then "Writing…".
    progress = [c.body["blocks"][-1]["elements"][0]["text"] for c in updates[:-1]]
    assert progress[0] == "_searching for slow-text cozy rainy weekend…_"
    assert progress[-1] == "_Writing…_"
    # ...and it is gone from the final message.
    assert all(b["type"] != "context" for b in reply.blocks)


def test_an_empty_mention_gets_a_hint_and_a_long_one_a_limit(server: Server, slack: FakeSlackServer) -> None:
    post_event(server.url, mention("CHINT", "", ts="1700000008.000100"))
    post_event(server.url, mention("CLONG", "x" * 400, ts="1700000008.000200"))
    slack.wait_for(lambda _: slack.messages("CHINT") and slack.messages("CLONG"))
    [hint] = slack.messages("CHINT")
    assert hint.text == HINT and hint.thread_ts == "1700000008.000100"
    [long] = slack.messages("CLONG")
    assert long.text.startswith(":warning: That message is 400 characters long; I read at most 300.")


def test_a_stream_that_cannot_be_finished_is_posted_whole(server: Server, slack: FakeSlackServer) -> None:
    slack.fail_next("chat.stopStream", "internal_error")
    post_event(server.url, mention("CBROKEN", "cozy rainy weekend", ts="1700000009.000100"))
    slack.wait_for(lambda _: any(c.method == "chat.postMessage" for c in slack.in_channel("CBROKEN")))
    streamed, posted = slack.messages("CBROKEN")
    assert streamed.streamed and streamed.stream_open  # Slack refused to close it
    assert not posted.streamed and posted.thread_ts == "1700000009.000100"
    assert posted.books()[0]["block_id"] == "book:t:1"
    assert "*The Rain Cottage* fits the mood." in posted.block_text()
    assert posted.metadata["event_payload"]["session_id"]
