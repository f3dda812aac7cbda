"""OpenAI-shaped errors on the OpenAI-compatible routes (``/v1/chat/completions``, ``/v1/models``).

OpenAI clients and the UIs built on them read ``{"error": {"message", "type", "param", "code"}}``; the rest
of the API answers ``{"error": {"code", "message", "fields"?}}`` (``web/errors.py``). The OpenAI body is a
superset of ours (``code``, ``message`` and ``fields`` stay), so one middleware adds ``type`` and ``param``
to every error these routes send, whoever raised it: the route, validation, the access check (401/403),
the rate limit (429) or the body limit (413).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPENAI_EXACT = ("/v1/chat/completions", "/v1/models")
OPENAI_PREFIXES = ("/v1/models/",)

# OpenAI's error `type` for each status; anything 5xx is "server_error".
_TYPE_BY_STATUS = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


def is_openai_path(path: str) -> bool:
    return path in OPENAI_EXACT or path.startswith(OPENAI_PREFIXES)


def openai_error(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (our error shape) with OpenAI's ``type`` and ``param`` added; ``param`` is the first
    offending field, as OpenAI names one parameter per error."""
    error = dict(body.get("error") or {})
    fields = error.get("fields") or []
    error.setdefault("message", "request failed")
    error.setdefault("code", None)
    error["type"] = "server_error" if status >= 500 else _TYPE_BY_STATUS.get(status, "invalid_request_error")
    error["param"] = fields[0].get("field") if fields else None
    return {"error": error}


class OpenAIErrorShape:
    """Pure ASGI, so successful responses (SSE streams included) pass through untouched; only a JSON
    answer with status >= 400 on an OpenAI path is read whole (error bodies are small) and rewritten."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_openai_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def shaping_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                is_json = headers.get(b"content-type", b"").startswith(b"application/json")
                if message["status"] >= 400 and is_json:
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._send_shaped(start, b"".join(chunks), send)

        await self.app(scope, receive, shaping_send)

    @staticmethod
    async def _send_shaped(start: Message, raw: bytes, send: Send) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raw = json.dumps(openai_error(start["status"], body)).encode()
        headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": raw, "more_body": False})
