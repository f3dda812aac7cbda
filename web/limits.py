"""Request limits for the chat API: body size, message length, history length, turns, per-client rate.

Every refusal is a 4xx with the one JSON error body (``web.errors.error_body``) naming the field:

=====  ======================  ==============================================================
 413   ``body_too_large``      request body over ``chat_max_body_bytes`` (checked while reading)
 422   ``message_too_long``    ``message`` (or a ``messages[i].content``) over ``chat_max_message_chars``
 422   ``history_too_long``    more than ``chat_max_history_messages`` in ``messages``
 409   ``max_turns``           the session already has ``session_max_turns`` user messages
 429   ``rate_limited``        over ``chat_rate_limit_per_minute`` for this client; ``Retry-After`` says when
=====  ======================  ==============================================================

The rate limit is a token bucket per client IP, kept in memory per server process: with N uvicorn
workers a client gets up to N times the limit. That keeps the check off the database and off the
first-event latency; a shared limit belongs in the proxy in front.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibeshelf.web.errors import error_body

# Clients remembered by the rate limiter; the least recently seen are forgotten first (a forgotten
# client simply starts with a full bucket again).
_MAX_CLIENTS = 50_000


def limit_error(status: int, code: str, message: str, field: str | None = None) -> HTTPException:
    """An HTTPException whose detail is the JSON error body (``install_error_handlers`` sends it as is)."""
    fields = [{"field": field, "message": message}] if field else None
    return HTTPException(status_code=status, detail=error_body(code, message, fields))


def check_message(text: str, max_chars: int, field: str = "message") -> None:
    if not text.strip():
        raise limit_error(422, "invalid_request", "the message is empty", field)
    if len(text) > max_chars:
        raise limit_error(
            422,
            "message_too_long",
            f"{field} has {len(text):,} characters; the limit is {max_chars:,} "
            "(VIBESHELF_CHAT_MAX_MESSAGE_CHARS)",
            field,
        )


def check_history(count: int, max_messages: int, field: str = "messages") -> None:
    if count > max_messages:
        raise limit_error(
            422,
            "history_too_long",
            f"{field} has {count} entries; the limit is {max_messages} (VIBESHELF_CHAT_MAX_HISTORY_MESSAGES)",
            field,
        )


def check_turns(turn_count: int, max_turns: int, field: str = "session_id") -> None:
    if turn_count >= max_turns:
        raise limit_error(
            409,
            "max_turns",
            f"this session has reached its {max_turns} messages; start a new session (omit session_id)",
            field,
        )


class RateLimiter:
    """Token bucket per client: ``per_minute`` requests a minute, bursts up to ``per_minute``."""

    def __init__(self, per_minute: int, *, clock: Any = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float | None:
        """Take one token; None when allowed, else the seconds until one is available."""
        if self.per_minute <= 0:
            return None
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                allowed = True
            else:
                self._buckets[client] = (tokens, now)
                allowed = False
            while len(self._buckets) > _MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self._rate

    def check(self, client: str) -> None:
        """Raise the 429 (with ``Retry-After`` in whole seconds) when ``client`` is over its limit."""
        wait = self.acquire(client)
        if wait is None:
            return
        retry_after = max(1, math.ceil(wait))
        exc = limit_error(
            429,
            "rate_limited",
            f"too many requests from {client}: the limit is {self.per_minute} a minute; "
            f"retry in {retry_after}s",
        )
        exc.headers = {"Retry-After": str(retry_after)}
        raise exc


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware refusing bodies over ``max_bytes`` with 413, before they are read into memory.

    A declared ``Content-Length`` is refused up front; a chunked body is counted as it arrives.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        path_prefix: tuple[str, ...] = ("/v1/", "/mcp"),
        setting: str = "VIBESHELF_CHAT_MAX_BODY_BYTES",
        larger: tuple[tuple[str, int, str], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_prefix = path_prefix
        self.setting = setting
        # (path suffix, limit, setting) for routes that take files (a reader's library export).
        self.larger = larger

    def _limit(self, path: str) -> tuple[int, str]:
        for suffix, limit, setting in self.larger:
            if path.endswith(suffix):
                return limit, setting
        return self.max_bytes, self.setting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        max_bytes, setting = self._limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send, max_bytes, setting)
            return
        seen = 0
        too_large = refused = started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may turn the aborted read into an error response of its own (FastAPI says 400
            # "error parsing the body"); replace whatever it sends with the 413.
            nonlocal started, refused
            if too_large:
                if not refused and not started:
                    refused = True
                    await self._refuse(send, max_bytes, setting)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not refused and not started:
                await self._refuse(send, max_bytes, setting)

    async def _refuse(self, send: Send, max_bytes: int, setting: str) -> None:
        import json

        message = f"request body is larger than {max_bytes:,} bytes ({setting})"
        body = json.dumps(error_body("body_too_large", message, [{"field": "body", "message": message}]))
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


# --- who the client is, and a limit for every route group -----------------------------------------


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed (``VIBESHELF_TRUSTED_PROXIES``).

    Empty by default: the client is the TCP peer, whatever headers it sends (a client that rotates a
    forged header must not get a fresh rate-limit bucket per request).
    """

    def __init__(self, entries: list[str]) -> None:
        import ipaddress

        self._networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()]

    def trusts(self, address: str) -> bool:
        import ipaddress

        if not self._networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)

    def client(self, scope: Scope) -> str:
        """The client's address: the peer, or, behind trusted proxies, the nearest untrusted hop."""
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self.trusts(peer):
            return peer
        forwarded = [
            v.decode("latin-1") for k, v in scope.get("headers") or [] if k.lower() == b"x-forwarded-for"
        ]
        hops = [h.strip() for line in forwarded for h in line.split(",") if h.strip()]
        # Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


class RateLimitMiddleware:
    """A token bucket per route group and client (``VIBESHELF_RATE_LIMIT_PER_MINUTE``), before any route.

    Groups are those of the access table (web/access.py), each with its own buckets so a burst of tool
    calls does not use up a reader's chat. ``/healthz`` is exempt (orchestrators poll it). The client's
    address is stored as ``scope["state"]["client"]`` for the chat routes' own, stricter limit.
    """

    def __init__(
        self, app: ASGIApp, per_minute: int, proxies: TrustedProxies, exempt: tuple[str, ...] = ("/healthz",)
    ) -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)
        self.proxies = proxies
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from vibeshelf.web.access import route_group

        client = self.proxies.client(scope)
        scope.setdefault("state", {})["client"] = client
        path = scope["path"]
        if self.limiter.per_minute > 0 and not path.startswith(self.exempt):
            wait = self.limiter.acquire(f"{route_group(path)}:{client}")
            if wait is not None:
                await self._refuse(send, client, max(1, math.ceil(wait)))
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, client: str, retry_after: int) -> None:
        import json

        message = (
            f"too many requests from {client}: the limit is {self.limiter.per_minute} a minute per route "
            f"group (VIBESHELF_RATE_LIMIT_PER_MINUTE); retry in {retry_after}s"
        )
        body = json.dumps(error_body("rate_limited", message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
