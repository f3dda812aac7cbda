"""Slack request signatures, and ``/slack/events`` refusing anything unsigned, stale or misconfigured
(the app in-process through httpx.ASGITransport: none of this needs the bot running)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from fastapi import FastAPI
from slack_support import SECRET, mention, signed_headers

from vibeshelf.settings import Settings
from vibeshelf.web.errors import install_error_handlers
from vibeshelf.web.slack.routes import install_slack
from vibeshelf.web.slack.signature import SlackSignatureError, sign, verify

# Slack's own worked example (api.slack.com "Verifying requests from Slack").
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_signature_matches_slacks_documented_example() -> None:
    assert sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    verify(DOC_SECRET, DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, now=int(DOC_TIMESTAMP) + 60)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now_offset", "reason"),
    [
        (DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY + b"x", 0, "does not match"),
        (DOC_TIMESTAMP, DOC_SIGNATURE.replace("a2", "b2", 1), DOC_BODY, 0, "does not match"),
        (DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, 301, "old"),
        (DOC_TIMESTAMP, DOC_SIGNATURE, DOC_BODY, -301, "future"),
        (None, DOC_SIGNATURE, DOC_BODY, 0, "missing X-Slack-Request-Timestamp"),
        (DOC_TIMESTAMP, None, DOC_BODY, 0, "missing X-Slack-Signature"),
        ("yesterday", DOC_SIGNATURE, DOC_BODY, 0, "not a Unix time"),
        (DOC_TIMESTAMP, "v1=" + DOC_SIGNATURE[3:], DOC_BODY, 0, "version"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    timestamp: str | None, signature: str | None, body: bytes, now_offset: int, reason: str
) -> None:
    with pytest.raises(SlackSignatureError, match=reason):
        verify(DOC_SECRET, timestamp, signature, body, now=int(DOC_TIMESTAMP) + now_offset)


def test_the_signature_binds_the_timestamp() -> None:
    # A captured signature replayed with a fresh timestamp (to pass the age check) must fail.
    later = str(int(DOC_TIMESTAMP) + 1000)
    with pytest.raises(SlackSignatureError, match="does not match"):
        verify(DOC_SECRET, later, DOC_SIGNATURE, DOC_BODY, now=int(later))


def app_with(**slack: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    # Explicit Nones: a VIBESHELF_SLACK_* variable in the environment must not leak into these tests.
    install_slack(app, Settings(**{"slack_signing_secret": None, "slack_bot_token": None, **slack}))
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    app = app_with(slack_signing_secret=SECRET, slack_bot_token="xoxb-unused")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


def challenge_body() -> bytes:
    return json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()


async def test_url_verification_answers_the_challenge(client: httpx.AsyncClient) -> None:
    body = challenge_body()
    response = await client.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_wrong_secret_is_401_and_the_body_is_not_parsed(client: httpx.AsyncClient) -> None:
    body = challenge_body()
    response = await client.post("/slack/events", content=body, headers=signed_headers(body, secret="other"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert "challenge" not in response.text
    # Not JSON at all: still 401 (the signature is checked first), never a parse error.
    junk = b"\x00not json"
    response = await client.post("/slack/events", content=junk, headers=signed_headers(junk, secret="other"))
    assert response.status_code == 401


async def test_stale_and_unsigned_requests_are_401(client: httpx.AsyncClient) -> None:
    body = challenge_body()
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await client.post("/slack/events", content=body, headers=stale)
    assert response.status_code == 401 and "old" in response.json()["error"]["message"]
    response = await client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and "missing" in response.json()["error"]["message"]


async def test_signed_garbage_is_a_clear_400(client: httpx.AsyncClient) -> None:
    for body in (b"{not json", json.dumps({"no": "type"}).encode()):
        response = await client.post("/slack/events", content=body, headers=signed_headers(body))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"


async def test_without_a_signing_secret_the_endpoint_says_so() -> None:
    app = app_with()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        body = challenge_body()
        response = await c.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "slack_not_configured" and "VIBESHELF_SLACK_SIGNING_SECRET" in error["message"]


async def test_events_without_a_running_bot_say_which_setting_is_missing() -> None:
    app = app_with(slack_signing_secret=SECRET)  # no bot token: verification works, answering cannot
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        body = challenge_body()
        verified = await c.post("/slack/events", content=body, headers=signed_headers(body))
        body = json.dumps(mention("C1", "hello", "1.000001")).encode()
        event = await c.post("/slack/events", content=body, headers=signed_headers(body))
    assert verified.status_code == 200
    assert event.status_code == 503 and "VIBESHELF_SLACK_BOT_TOKEN" in event.json()["error"]["message"]


class _CountingBody:
    """A request body streamed in 1 MiB chunks that records how many the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self):
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * (1 << 20)


async def test_an_unsigned_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    # The audit's 300 MB unsigned POST grew the server by 600 MB before the 401: headers come first now.
    body = _CountingBody(300)
    response = await client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and "missing" in response.json()["error"]["message"]
    assert body.pulled <= 1


async def test_a_signed_looking_body_is_read_only_up_to_the_cap(client: httpx.AsyncClient) -> None:
    headers = signed_headers(b"whatever")  # fresh timestamp and a v0 signature: the body decides
    body = _CountingBody(300)
    response = await client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "body_too_large" and error["fields"][0]["field"] == "body"
    assert body.pulled <= 2  # the cap is 256 KiB: the first chunk is over it
    declared = {**headers, "Content-Length": str(300 << 20)}
    response = await client.post("/slack/events", content=b"x" * 10, headers=declared)
    assert response.status_code == 413
