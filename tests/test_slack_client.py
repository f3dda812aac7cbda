"""The Slack Web API client against the fake Slack server: auth, typed errors, Retry-After."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from fake_slack_server import FakeSlackServer
from slack_support import TOKEN

from vibeshelf.web.slack.client import SlackApiError, SlackClient


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(TOKEN) as server:
        yield server


@pytest.fixture
async def client(slack: FakeSlackServer) -> AsyncIterator[SlackClient]:
    c = SlackClient(TOKEN, slack.api_base, max_retry_after_s=5)
    yield c
    await c.aclose()


async def test_a_call_posts_json_with_the_bearer_token(slack: FakeSlackServer, client: SlackClient) -> None:
    reply = await client.call("chat.postMessage", {"channel": "CCLIENT1", "text": "hi", "thread_ts": None})
    assert reply["ok"] is True and reply["ts"]
    call = slack.in_channel("CCLIENT1")[-1]
    assert call.method == "chat.postMessage"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["content-type"].startswith("application/json")
    assert call.body == {"channel": "CCLIENT1", "text": "hi"}  # None values are not sent


async def test_ok_false_is_a_typed_error(slack: FakeSlackServer, client: SlackClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.call("chat.update", {"channel": "CCLIENT2"})  # no ts
    assert caught.value.error == "invalid_arguments" and caught.value.method == "chat.update"
    assert caught.value.response["missing"] == ["ts"]
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.call("chat.doesNotExist", {"channel": "CCLIENT2"})


async def test_a_wrong_token_is_invalid_auth(slack: FakeSlackServer) -> None:
    bad = SlackClient("xoxb-wrong", slack.api_base)
    try:
        with pytest.raises(SlackApiError) as caught:
            await bad.call("chat.postMessage", {"channel": "CCLIENT3", "text": "x"})
    finally:
        await bad.aclose()
    assert caught.value.error == "invalid_auth"


async def test_rate_limits_wait_for_retry_after(slack: FakeSlackServer, client: SlackClient) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    start = time.monotonic()
    reply = await client.call("chat.postMessage", {"channel": "CCLIENT4", "text": "after the wait"})
    elapsed = time.monotonic() - start
    assert reply["ok"] is True
    attempts = slack.in_channel("CCLIENT4")
    assert [c.response.get("ok") for c in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 0.95 and elapsed >= 0.95


async def test_rate_limits_give_up_past_the_retry_budget(slack: FakeSlackServer) -> None:
    client = SlackClient(TOKEN, slack.api_base, max_rate_limit_retries=1)
    for _ in range(2):
        slack.fail_next("chat.update", "ratelimited", status=429, retry_after=0)
    try:
        with pytest.raises(SlackApiError) as caught:
            await client.call("chat.update", {"channel": "CCLIENT5", "ts": "1.2", "text": "x"})
    finally:
        await client.aclose()
    assert caught.value.error == "ratelimited"
    assert len(slack.in_channel("CCLIENT5")) == 2
    # A Retry-After longer than the cap is not waited out at all.
    client = SlackClient(TOKEN, slack.api_base, max_retry_after_s=2)
    slack.fail_next("chat.update", "ratelimited", status=429, retry_after=60)
    try:
        with pytest.raises(SlackApiError, match="Retry-After 60s"):
            await client.call("chat.update", {"channel": "CCLIENT5", "ts": "1.2", "text": "x"})
    finally:
        await client.aclose()
    assert len(slack.in_channel("CCLIENT5")) == 3  # one more attempt, not retried after a wait


async def test_transport_failures_are_typed() -> None:
    client = SlackClient(TOKEN, "http://127.0.0.1:9/api", timeout_s=2)  # port 9: nothing listens
    try:
        with pytest.raises(SlackApiError) as caught:
            await client.call("chat.postMessage", {"channel": "C", "text": "x"})
    finally:
        await client.aclose()
    assert caught.value.error == "unreachable"


async def test_server_errors_are_typed(slack: FakeSlackServer, client: SlackClient) -> None:
    slack.fail_next("chat.postMessage", "internal_error", status=503)
    with pytest.raises(SlackApiError) as caught:
        await client.call("chat.postMessage", {"channel": "CCLIENT6", "text": "x"})
    assert caught.value.error == "http_503"
