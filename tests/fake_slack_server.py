"""A fake Slack Web API for tests: a real HTTP server on 127.0.0.1 that records every call.

It answers the methods the bot uses the way Slack does (``{"ok": true, ...}`` with a fresh ``ts`` for
new messages, ``{"ok": false, "error": ...}`` for bad tokens or missing arguments) and keeps the
conversation it is told, so a test can read what a Slack user would see:

* ``server.calls``: every call as :class:`Call` (method, JSON body, headers), in order.
* ``server.reject_streaming = "unknown_method"``: the ``chat.*Stream`` methods fail with that error.
* ``server.fail_next("chat.update", "ratelimited", status=429, retry_after=1)``: script one failure.
* ``server.wait_for(lambda calls: ..., timeout)``: block until the recorded calls satisfy a predicate.

Start it in a fixture: ``with FakeSlackServer(token) as slack: ... slack.api_base``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Required arguments per method, as Slack documents them (a missing one is ``invalid_arguments``).
REQUIRED = {
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "chat.startStream": ("channel",),
    "chat.appendStream": ("channel", "ts", "markdown_text"),
    "chat.stopStream": ("channel", "ts"),
    "chat.postEphemeral": ("channel", "user", "text"),
    "assistant.threads.setStatus": ("channel_id", "thread_ts", "status"),
    "assistant.threads.setSuggestedPrompts": ("channel_id", "thread_ts", "prompts"),
}
ASSISTANT_METHODS = ("assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts")
STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class Message:
    """A message as a Slack user would see it once the calls so far are applied."""

    ts: str
    thread_ts: str | None
    text: str  # postMessage/update: ``text``; streams: all markdown_text appended
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    streamed: bool
    stream_open: bool = False
    updates: int = 0

    def block_text(self) -> str:
        """All mrkdwn/text in the blocks, one block per line."""
        parts = []
        for block in self.blocks:
            if "text" in block:
                parts.append(block["text"].get("text", ""))
            for element in block.get("elements", []):
                text = element.get("text", "")
                parts.append(text.get("text", "") if isinstance(text, dict) else text)  # button labels
        return "\n".join(parts)

    def books(self) -> list[dict[str, Any]]:
        return [b for b in self.blocks if str(b.get("block_id", "")).startswith("book:")]


@dataclass
class _Failure:
    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class _State:
    token: str
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    reject_streaming: str | None = None
    cond: threading.Condition = field(default_factory=threading.Condition)
    ts: itertools.count = field(default_factory=lambda: itertools.count(1))


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        method = self.path.rsplit("/", 1)[-1]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.state.cond:
            queued = self.state.failures.get(method) or []
            failure = queued.pop(0) if queued else None
            reply = self._reply(method, body, headers, failure)
            self.state.calls.append(Call(method, body, headers, time.monotonic(), reply[1]))
            self.state.cond.notify_all()
        status, payload, extra = reply
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _reply(
        self, method: str, body: dict[str, Any], headers: dict[str, str], failure: _Failure | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, {"ok": False, "error": failure.error}, extra
        if headers.get("authorization") != f"Bearer {self.state.token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method not in REQUIRED:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if method in STREAM_METHODS and self.state.reject_streaming:
            return 200, {"ok": False, "error": self.state.reject_streaming}, {}
        if not headers.get("content-type", "").startswith("application/json"):
            return 200, {"ok": False, "error": "invalid_arg_name"}, {}
        missing = [name for name in REQUIRED[method] if not body.get(name)]
        if missing:
            return 200, {"ok": False, "error": "invalid_arguments", "missing": missing}, {}
        if method in ASSISTANT_METHODS:
            return 200, {"ok": True}, {}
        channel = body["channel"]
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"1700000000.{next(self.state.ts):06d}"}, {}
        if method in ("chat.postMessage", "chat.startStream"):
            ts = f"1700000000.{next(self.state.ts):06d}"
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}, {}
        return 200, {"ok": True, "channel": channel, "ts": body["ts"]}, {}


class FakeSlackServer:
    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        self._state = _State(token=token)
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-slack", daemon=True)

    @property
    def api_base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/api"

    @property
    def calls(self) -> list[Call]:
        with self._state.cond:
            return list(self._state.calls)

    @property
    def reject_streaming(self) -> str | None:
        return self._state.reject_streaming

    @reject_streaming.setter
    def reject_streaming(self, error: str | None) -> None:
        self._state.reject_streaming = error

    def fail_next(
        self, method: str, error: str, *, status: int = 200, retry_after: int | None = None
    ) -> None:
        with self._state.cond:
            self._state.failures.setdefault(method, []).append(_Failure(error, status, retry_after))

    def in_channel(self, channel: str) -> list[Call]:
        return [c for c in self.calls if c.body.get("channel") == channel]

    def messages(self, channel: str) -> list[Message]:
        """The messages the bot wrote in ``channel`` (successful calls applied in order)."""
        out: dict[str, Message] = {}
        for call in self.in_channel(channel):
            body, ok = call.body, call.response.get("ok")
            if not ok:
                continue
            if call.method in ("chat.postMessage", "chat.startStream"):
                ts = call.response["ts"]
                streamed = call.method == "chat.startStream"
                text = body.get("markdown_text", "") if streamed else body.get("text", "")
                out[ts] = Message(
                    ts,
                    body.get("thread_ts"),
                    text,
                    body.get("blocks") or [],
                    body.get("metadata"),
                    streamed=streamed,
                    stream_open=streamed,
                )
            elif call.method == "chat.update":
                m = out[body["ts"]]
                m.text, m.blocks, m.updates = body.get("text", ""), body.get("blocks") or [], m.updates + 1
                m.metadata = body.get("metadata", m.metadata)
            elif call.method == "chat.appendStream":
                m = out[body["ts"]]
                m.text += body["markdown_text"]
                m.updates += 1
            elif call.method == "chat.stopStream":
                m = out[body["ts"]]
                m.text += body.get("markdown_text") or ""
                m.blocks, m.metadata, m.stream_open = body.get("blocks") or [], body.get("metadata"), False
        return list(out.values())

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 15.0) -> list[Call]:
        """Wait until ``predicate(calls)`` holds; returns the calls then (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._state.cond:
            while not predicate(list(self._state.calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [(c.method, c.body.get("channel")) for c in self._state.calls]
                    raise AssertionError(f"fake Slack: condition not met within {timeout}s; calls: {methods}")
                self._state.cond.wait(left)
            return list(self._state.calls)

    def __enter__(self) -> FakeSlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
