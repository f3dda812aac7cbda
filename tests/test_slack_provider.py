"""When the model provider fails mid-answer, the Slack thread says so (it is never left silent).

The provider is tests/fake_openai_server.py reached through litellm (``VIBESHELF_MODEL=openai/fake``);
the app is tests/slack_test_app.py in a real uvicorn process, replying into the fake Slack Web API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_server import Server, uvicorn_server
from fake_openai_server import Error, FakeOpenAIServer, Hang, Text, ToolCalls
from fake_slack_server import FakeSlackServer
from slack_support import SECRET, TOKEN, finished, mention, post_event


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def env_for(home: Path, slack: FakeSlackServer, provider: FakeOpenAIServer, model: str) -> dict[str, str]:
    return {
        "VIBESHELF_HOME": str(home),
        "VIBESHELF_SLACK_SIGNING_SECRET": SECRET,
        "VIBESHELF_SLACK_BOT_TOKEN": TOKEN,
        "VIBESHELF_SLACK_API_BASE": slack.api_base,
        "VIBESHELF_SLACK_UPDATE_INTERVAL_S": "0.2",
        "VIBESHELF_MODEL": "openai/fake",
        "VIBESHELF_API_BASE": provider.base_url,
        "VIBESHELF_LLM_TIMEOUT_S": "5",
        "VIBESHELF_STREAM_DEADLINE_S": "1.5",
        "SLACK_TEST_MODEL": model,
    }


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, slack: FakeSlackServer, provider: FakeOpenAIServer
) -> Iterator[Server]:
    """Production's chain (the provider, then the offline planner); ``planner-off`` in a message makes
    the planner fail too, so the provider's failure ends the answer."""
    env = env_for(tmp_path_factory.mktemp("home"), slack, provider, "settings")
    with uvicorn_server(env, app="slack_test_app:create_app", timeout_s=60) as server:
        # litellm's first completions in a process load its cost, token-counting and proxy code
        # (about a second here, more on a busy CI host), which the short stream deadline these tests
        # use would cut. Asking until one answer comes back whole puts that before the tests, so the
        # deadline cuts only the provider's scripted hangs.
        for attempt in range(1, 6):
            provider.script(Text("Ready."))
            channel = f"CWARM{attempt}"
            post_event(server.url, mention(channel, "planner-off hello", ts=f"16999999{attempt:02d}.000100"))
            [reply] = finished(slack, channel, timeout=60)
            assert provider.remaining == 0
            if reply.text.startswith("Ready."):
                break
        else:
            pytest.fail(f"no whole provider answer within the stream deadline in 5 tries: {reply.text!r}")
        yield server


def test_a_provider_that_dies_mid_answer_leaves_a_clear_error_in_the_thread(
    server: Server, slack: FakeSlackServer, provider: FakeOpenAIServer
) -> None:
    provider.script(
        ToolCalls(("search_books", {"query": "cozy mystery", "limit": 3})),
        Hang(after_chunks=2),  # starts the answer, then stalls past the stream deadline
    )
    post_event(server.url, mention("CDIES", "planner-off a cozy mystery please", ts="1700000101.000100"))
    [reply] = finished(slack, "CDIES", timeout=30)
    assert reply.streamed and reply.thread_ts == "1700000101.000100"
    # The stream ends with the error (the agent names the last model it tried), never in silence.
    assert reply.text.rstrip().endswith(
        ":warning: The model failed: the planner is switched off in this test"
    )
    # The books found before it broke are still shown, and the turn is tied to its session.
    assert reply.books() and reply.books()[0]["block_id"] == "book:t:2"
    assert reply.metadata["event_payload"]["book_ids"][0] == "t:2"
    assert reply.metadata["event_payload"]["session_id"]
    assert provider.remaining == 0


def test_a_provider_error_before_any_text_is_reported_too(
    server: Server, slack: FakeSlackServer, provider: FakeOpenAIServer
) -> None:
    slack.reject_streaming = "not_allowed"  # and through the post + update path this time
    try:
        provider.script(Error(500, "upstream exploded"))
        post_event(server.url, mention("CERR", "planner-off anything", ts="1700000102.000100"))
        [reply] = finished(slack, "CERR", timeout=30)
    finally:
        slack.reject_streaming = None
    assert not reply.streamed
    assert reply.text == ":warning: The model failed: the planner is switched off in this test"
    assert reply.block_text() == reply.text


def test_with_the_planner_as_last_resort_the_reader_gets_an_answer_and_a_note(
    server: Server, slack: FakeSlackServer, provider: FakeOpenAIServer
) -> None:
    provider.script(Hang(after_chunks=2))  # the provider starts, then stalls; the planner takes over
    post_event(server.url, mention("CPLANNER", "a cozy mystery", ts="1700000103.000100"))
    [reply] = finished(slack, "CPLANNER", timeout=30)
    seen = reply.text + "\n" + reply.block_text()
    assert "unavailable" in seen and "planner" in seen
    assert reply.books()  # the planner searched the shelf and showed cards
    assert ":warning:" not in reply.text


def test_shutting_down_mid_answer_says_so_in_the_thread(
    tmp_path: Path, slack: FakeSlackServer, provider: FakeOpenAIServer
) -> None:
    env = env_for(tmp_path, slack, provider, "scripted")
    env["CHAT_TEST_MARKERS"] = str(tmp_path)
    with uvicorn_server(env, app="slack_test_app:create_app") as server:
        post_event(server.url, mention("CBYE", "stall-model please", ts="1700000104.000100"))
        deadline = time.monotonic() + 10
        while not (tmp_path / "model-started").exists():
            assert time.monotonic() < deadline, "the model was never called"
            time.sleep(0.05)
    [reply] = finished(slack, "CBYE", timeout=10)
    assert reply.text.endswith(":warning: I was interrupted (the server is restarting); please ask again.")
    assert (tmp_path / "model-cancelled").exists()
