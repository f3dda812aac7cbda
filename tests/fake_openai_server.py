"""A fake OpenAI-compatible server for tests: ``POST /v1/chat/completions`` answers from a script.

Runs a real HTTP server on 127.0.0.1 (a daemon thread), so litellm's own HTTP path is exercised: the
request body it builds, SSE parsing, tool-call delta merging and its error mapping. Each request takes
the next scripted reply:

* ``Text("Hello ", "world")``: streamed content chunks.
* ``ToolCalls(("search_books", {"query": "x"}), ...)``: streamed tool calls, each call's arguments cut
  into ``fragment``-sized pieces and the calls' fragments interleaved across chunks, as real providers do.
* ``Error(429)`` / ``Error(500)``: an OpenAI-style error body with that status.
* ``Hang()``: accept and say nothing; ``Hang(after_chunks=2)``: start streaming, then stall.

The replies and every request received (``server.requests``: parsed JSON bodies) are inspectable. When
the script runs out the server answers 500, so an unexpected extra call fails the test loudly.

Start it in a fixture: ``with FakeOpenAIServer() as server: yield server`` (see test_agent_provider.py).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Text:
    chunks: tuple[str, ...]
    usage: tuple[int, int] = (11, 7)

    def __init__(self, *chunks: str, usage: tuple[int, int] = (11, 7)) -> None:
        self.chunks = chunks
        self.usage = usage


@dataclass
class ToolCalls:
    calls: tuple[tuple[str, dict[str, Any] | str], ...]
    fragment: int = 7
    text: str = ""  # content sent before the calls ("Let me look.")
    omit_index: bool = False  # some providers send no index on continuation fragments

    def __init__(
        self,
        *calls: tuple[str, dict[str, Any] | str],
        fragment: int = 7,
        text: str = "",
        omit_index: bool = False,
    ) -> None:
        self.calls = calls
        self.fragment = fragment
        self.text = text
        self.omit_index = omit_index


@dataclass
class Error:
    status: int
    message: str = "scripted failure"


@dataclass
class Hang:
    after_chunks: int = 0  # 0: never send headers; n: stream n text chunks, then stall
    seconds: float = 30.0


Reply = Text | ToolCalls | Error | Hang


@dataclass
class _State:
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def _chunk(delta: dict[str, Any], finish: str | None = None, model: str = "fake-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def tool_call_chunks(reply: ToolCalls) -> list[dict[str, Any]]:
    """The chunks of a ToolCalls reply: each call's header, then the calls' argument pieces interleaved.

    With ``omit_index`` (one call only) the continuation fragments carry no ``index``, as some
    OpenAI-compatible servers send them.
    """
    if reply.omit_index and len(reply.calls) != 1:
        raise ValueError("omit_index scripts take exactly one call")
    chunks: list[dict[str, Any]] = []
    if reply.text:
        chunks.append(_chunk({"role": "assistant", "content": reply.text}))
    pieces: list[list[str]] = []
    for index, (name, args) in enumerate(reply.calls):
        text = args if isinstance(args, str) else json.dumps(args)
        pieces.append([text[i : i + reply.fragment] for i in range(0, len(text), reply.fragment)] or [""])
        head = {
            "index": index,
            "id": f"call_fake_{index}",
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        chunks.append(_chunk({"role": "assistant", "content": None, "tool_calls": [head]}))
    for step in range(max((len(p) for p in pieces), default=0)):
        for index, parts in enumerate(pieces):
            if step < len(parts):
                fragment: dict[str, Any] = {"function": {"arguments": parts[step]}}
                if not reply.omit_index:
                    fragment["index"] = index
                chunks.append(_chunk({"tool_calls": [fragment]}))
    chunks.append(_chunk({}, finish="tool_calls"))
    return chunks


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.state.lock:
            self.state.requests.append(body)
            self.state.headers.append({k.lower(): v for k, v in self.headers.items()})
            reply = self.state.script.pop(0) if self.state.script else Error(500, "script exhausted")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            reply = Error(404, f"no route {self.path}")
        if isinstance(reply, Error):
            self._json(
                reply.status,
                {"error": {"message": reply.message, "type": "fake_error", "code": reply.status}},
            )
            return
        if isinstance(reply, Hang) and reply.after_chunks == 0:
            self.state.stop.wait(reply.seconds)
            return
        if not body.get("stream"):
            self._complete(reply)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        try:
            if isinstance(reply, Hang):
                for i in range(reply.after_chunks):
                    self._event(_chunk({"role": "assistant", "content": f"part {i} "}))
                self.state.stop.wait(reply.seconds)
                return
            if isinstance(reply, Text):
                self._event(_chunk({"role": "assistant", "content": ""}))
                for piece in reply.chunks:
                    self._event(_chunk({"content": piece}))
                self._event(_chunk({}, finish="stop"))
                usage = reply.usage
            else:
                for chunk in tool_call_chunks(reply):
                    self._event(chunk)
                usage = (13, 5)
            if include_usage:
                self._event(
                    {
                        **_chunk({}),
                        "choices": [],
                        "usage": {
                            "prompt_tokens": usage[0],
                            "completion_tokens": usage[1],
                            "total_tokens": sum(usage),
                        },
                    }
                )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a deadline test): nothing to do
        self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _complete(self, reply: Reply) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if isinstance(reply, Text):
            message["content"] = "".join(reply.chunks)
            finish = "stop"
        else:
            assert isinstance(reply, ToolCalls)
            message["tool_calls"] = [
                {
                    "id": f"call_fake_{i}",
                    "type": "function",
                    "function": {"name": n, "arguments": a if isinstance(a, str) else json.dumps(a)},
                }
                for i, (n, a) in enumerate(reply.calls)
            ]
            finish = "tool_calls"
        self._json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "fake-model",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            },
        )


class FakeOpenAIServer:
    """The server; ``with FakeOpenAIServer() as server: server.script(Text("hi")); server.base_url``."""

    def __init__(self) -> None:
        self._state = _State()
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._state.requests

    @property
    def headers(self) -> list[dict[str, str]]:
        return self._state.headers

    def script(self, *replies: Reply) -> None:
        with self._state.lock:
            self._state.script.extend(replies)

    @property
    def remaining(self) -> int:
        return len(self._state.script)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.stop.set()  # release hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
