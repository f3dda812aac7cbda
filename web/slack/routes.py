"""``POST /slack/events``: the Slack Events API endpoint, and ``POST /slack/interactivity``: the card
buttons (see docs/slack.md for setting up the app). Both check the same v0 signature in the same order.

Order matters: the signature headers (present, fresh) are checked before the body is read, the body is
read only up to ``Settings.slack_max_body_bytes`` (Slack's payloads are a few KB; a bigger one is 413),
the signature is checked on the raw body before anything is parsed; then
``url_verification`` is answered with its challenge, and an ``event_callback`` is queued on the
:class:`~vibeshelf.web.slack.bot.SlackBot` and acknowledged at once (Slack retries anything not
acknowledged within 3 s). ``/slack/`` is a public prefix in ``web/access.py``: Slack proves itself
with the signature, not an API key.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from vibeshelf.settings import Settings
from vibeshelf.web.errors import error_body
from vibeshelf.web.slack.actions import PayloadError, book_actions, parse_payload
from vibeshelf.web.slack.events import SlackEnvelope
from vibeshelf.web.slack.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SlackSignatureError,
    check_headers,
    verify,
)

if TYPE_CHECKING:
    from vibeshelf.web.slack.bot import SlackBot

log = logging.getLogger(__name__)

RETRY_NUM_HEADER = "X-Slack-Retry-Num"
RETRY_REASON_HEADER = "X-Slack-Retry-Reason"

router = APIRouter(prefix="/slack", tags=["slack"])


def install_slack(app: FastAPI, settings: Settings) -> None:
    """Add ``/slack/events`` to ``app``. The bot itself (``app.state.slack``) is opened in the lifespan:
    ``SlackBot.open(settings, store, agent)`` then ``await bot.start()``, and ``await bot.aclose()``."""
    app.state.slack_settings = settings
    app.include_router(router)


def _error(status: int, code: str, message: str) -> JSONResponse:
    fields = [{"field": "body", "message": message}] if code == "body_too_large" else None
    return JSONResponse(status_code=status, content=error_body(code, message, fields))


async def _read_capped(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it is over ``max_bytes`` (declared or counted while arriving)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)


@router.post(
    "/events",
    responses={
        200: {"description": "Acknowledged (or the url_verification challenge)."},
        401: {"description": "Missing, stale or wrong X-Slack-Signature."},
        413: {"description": "Body larger than VIBESHELF_SLACK_MAX_BODY_BYTES (checked while reading)."},
        503: {"description": "Slack is not configured on this server."},
    },
)
async def slack_events(request: Request) -> JSONResponse:
    """Receive one Slack event: verify, acknowledge, and answer in the background."""
    verified = await _verified_body(request)
    if isinstance(verified, JSONResponse):
        return verified
    body = verified
    try:
        envelope = SlackEnvelope.model_validate(json.loads(body))
    except (ValueError, ValidationError) as err:
        message = str(err).splitlines()[0][:200]
        return _error(400, "invalid_request", f"the body is not a Slack event envelope: {message}")
    if envelope.type == "url_verification":
        return JSONResponse({"challenge": envelope.challenge or ""})
    if envelope.type != "event_callback":
        return JSONResponse({"ok": True, "handled": "ignored"})  # app_rate_limited and other notices
    bot = _bot(request)
    if isinstance(bot, JSONResponse):
        return bot
    retry = request.headers.get(RETRY_NUM_HEADER)
    retry_num = int(retry) if retry and retry.isdigit() else None
    if retry_num:
        reason = request.headers.get(RETRY_REASON_HEADER)
        log.info("Slack retry %d (%s) of %s", retry_num, reason, envelope.event_id)
    handled = bot.accept(envelope, retry_num)
    return JSONResponse({"ok": True, "handled": handled})


@router.post(
    "/interactivity",
    responses={
        200: {"description": "Acknowledged; the click is acted on in the background."},
        400: {"description": "Not a form with a JSON `payload` field."},
        401: {"description": "Missing, stale or wrong X-Slack-Signature."},
        413: {"description": "Body larger than VIBESHELF_SLACK_MAX_BODY_BYTES (checked while reading)."},
        503: {"description": "Slack is not configured on this server."},
    },
)
async def slack_interactivity(request: Request) -> JSONResponse:
    """Receive a button press on a book card: verify, acknowledge, act in the background."""
    verified = await _verified_body(request)
    if isinstance(verified, JSONResponse):
        return verified
    try:
        payload = parse_payload(verified)
    except PayloadError as err:
        return JSONResponse(
            status_code=400,
            content=error_body("invalid_request", str(err), [{"field": "payload", "message": str(err)}]),
        )
    actions = book_actions(payload)
    if not actions:
        return JSONResponse({"ok": True, "handled": "ignored"})
    bot = _bot(request)
    if isinstance(bot, JSONResponse):
        return bot
    handled = [bot.accept_action(action) for action in actions]
    return JSONResponse({"ok": True, "handled": handled[0] if len(handled) == 1 else handled})


def _bot(request: Request) -> SlackBot | JSONResponse:
    bot = getattr(request.app.state, "slack", None)
    if bot is None:
        return _error(
            503,
            "slack_not_configured",
            "The Slack bot is not running: set VIBESHELF_SLACK_BOT_TOKEN so replies can be posted.",
        )
    return bot


async def _verified_body(request: Request) -> bytes | JSONResponse:
    """The raw body once the v0 signature is proven, else the refusal to send."""
    settings: Settings = request.app.state.slack_settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not secret:
        return _error(
            503,
            "slack_not_configured",
            "Slack is not configured on this server: set VIBESHELF_SLACK_SIGNING_SECRET and "
            "VIBESHELF_SLACK_BOT_TOKEN (see docs/slack.md).",
        )
    timestamp, signature = request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
    try:
        check_headers(timestamp, signature)  # before a byte of the body is read
    except SlackSignatureError as err:
        log.warning("Slack request refused: %s", err)
        return _error(401, "invalid_signature", str(err))
    body = await _read_capped(request, settings.slack_max_body_bytes)
    if body is None:
        return _error(
            413,
            "body_too_large",
            f"request body is larger than {settings.slack_max_body_bytes:,} bytes "
            "(VIBESHELF_SLACK_MAX_BODY_BYTES)",
        )
    try:
        verify(secret, timestamp, signature, body)
    except SlackSignatureError as err:
        log.warning("Slack request refused: %s", err)
        return _error(401, "invalid_signature", str(err))
    return body
