"""The Slack bot inside the real app (web/app.py) over the goodbooks-mini index, with API keys on:
``/slack/events`` is reachable without a key (Slack signs instead) and answers from the real catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from chat_server import Server, uvicorn_server
from fake_slack_server import FakeSlackServer
from slack_support import SECRET, TOKEN, direct_message, finished, post_event, signed_headers

from vibeshelf.layout import Layout

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlackServer]:
    with FakeSlackServer(TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def live(goodbooks_mini_index: Layout, slack: FakeSlackServer, tmp_path_factory: pytest.TempPathFactory):
    env = {
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        # The shared index is read-only for tests: sessions go to a file of this module's own.
        "VIBESHELF_STATE_DB": str(tmp_path_factory.mktemp("state") / "state.duckdb"),
        "VIBESHELF_API_KEYS": json.dumps(["server-key"]),
        "VIBESHELF_SLACK_SIGNING_SECRET": SECRET,
        "VIBESHELF_SLACK_BOT_TOKEN": TOKEN,
        "VIBESHELF_SLACK_API_BASE": slack.api_base,
        "VIBESHELF_SLACK_STREAMING": "update",
    }
    with uvicorn_server(env, app="vibeshelf.web.app:create_app", timeout_s=90) as server:
        yield server


def test_slack_events_need_no_api_key_but_a_signature(live: Server) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()
    ok = httpx.post(f"{live.url}/slack/events", content=body, headers=signed_headers(body), timeout=10)
    assert ok.status_code == 200 and ok.json() == {"challenge": "abc"}
    forged = httpx.post(
        f"{live.url}/slack/events", content=body, headers=signed_headers(body, secret="guess"), timeout=10
    )
    assert forged.status_code == 401
    # The rest of the API still wants its key.
    assert httpx.post(f"{live.url}/v1/chat", json={"message": "x"}, timeout=10).status_code == 401


def test_a_direct_message_is_answered_from_the_catalog(live: Server, slack: FakeSlackServer) -> None:
    response = post_event(
        live.url, direct_message("DLIVE", "a whimsical fantasy with a dragon", ts="1.000100")
    )
    assert response.json()["handled"] == "queued"
    [reply] = finished(slack, "DLIVE", timeout=60)
    assert not reply.streamed and reply.thread_ts == "1.000100"  # VIBESHELF_SLACK_STREAMING=update
    cards = reply.books()
    assert cards, reply.blocks
    ids = reply.metadata["event_payload"]["book_ids"]
    assert [c["block_id"] for c in cards] == [f"book:{i}" for i in ids]
    # Real catalog books: a title linked to its page and a cover image.
    first = cards[0]
    assert first["text"]["text"].startswith("*<https://")
    assert first["accessory"]["type"] == "image" and first["accessory"]["image_url"].startswith("http")
    assert reply.text and ":warning:" not in reply.text
