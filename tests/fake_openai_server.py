"""A fake OpenAI-compatible server for tests: ``POST /v1/chat/completions`` answers from a script.

Runs a real HTTP server on 127.0.0.1 (a daemon thread), so litellm's own HTTP path is exercised: the
request body it builds, SSE parsing, tool-call delta merging and its error mapping. Each request takes
the next scripted reply:

* ``Text("Hello ", "world")``: streamed content chunks.
* ``ToolCalls(("search_books", {"query": "x"}), ...)``: streamed tool calls, each call's arguments cut
  into ``fragment``-sized pieces and the calls' fragments interleaved across chunks, as real providers do.
* ``Error(429)`` / ``Error(500)``: an OpenAI-style error body with that status.
* ``Hang()``: accept and say nothing; ``Hang(after_chunks=2)``: start streaming, then stall.
* ``EmptyStream()``: a 200 whose stream holds no content and no call, just a finish and ``[DONE]``.
* ``RaiseAfter200()``: a 200 with stream headers, then the connection closes (a server that raised
  after answering, as llama-cpp-python does); ``RaiseAfter200(chunks=("Here ",))`` sends those first.

Quirks real servers have in their tool-call streams are ``ToolCalls`` options: ``args_in_final_chunk``
(the header names the call, the arguments arrive whole in the chunk carrying ``finish_reason``),
``empty_deltas`` (empty argument fragments and bare-index deltas between the real ones), ``omit_ids``
(no call id anywhere: calls are told apart by index only), ``whole_calls_at_index_0`` (each call whole
in one chunk, every one at index 0 with its own id, as Ollama and some Gemini proxies send them).
Tool calls written as text (Hermes/Qwen ``<tool_call>``, bare or fenced JSON) are plain ``Text``
replies; ``Text(..., first_token_after_s=1.0)`` is a slow prompt read (a CPU model).

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
    first_token_after_s: float = 0.0  # a slow prompt read (a CPU model): the 200, then this long silent
    usage_on_finish: bool = False  # usage in the finish chunk, beside choices (llama.cpp's server)

    def __init__(
        self,
        *chunks: str,
        usage: tuple[int, int] = (11, 7),
        first_token_after_s: float = 0.0,
        usage_on_finish: bool = False,
    ) -> None:
        self.chunks = chunks
        self.usage = usage
        self.first_token_after_s = first_token_after_s
        self.usage_on_finish = usage_on_finish


@dataclass
class ToolCalls:
    calls: tuple[tuple[str, dict[str, Any] | str], ...]
    fragment: int = 7
    text: str = ""  # content sent before the calls ("Let me look.")
    omit_index: bool = False  # some providers send no index on continuation fragments
    args_in_final_chunk: bool = False  # arguments whole, in the chunk that carries finish_reason
    empty_deltas: bool = False  # empty argument fragments and bare-index deltas in between
    omit_ids: bool = False  # no call ids at all
    whole_calls_at_index_0: bool = False  # each call whole in one chunk, all at index 0, own ids

    def __init__(
        self,
        *calls: tuple[str, dict[str, Any] | str],
        fragment: int = 7,
        text: str = "",
        omit_index: bool = False,
        args_in_final_chunk: bool = False,
        empty_deltas: bool = False,
        omit_ids: bool = False,
        whole_calls_at_index_0: bool = False,
    ) -> None:
        self.calls = calls
        self.fragment = fragment
        self.text = text
        self.omit_index = omit_index
        self.args_in_final_chunk = args_in_final_chunk
        self.empty_deltas = empty_deltas
        self.omit_ids = omit_ids
        self.whole_calls_at_index_0 = whole_calls_at_index_0


@dataclass
class Error:
    status: int
    message: str = "scripted failure"


@dataclass
class Hang:
    after_chunks: int = 0  # 0: never send headers; n: stream n text chunks, then stall
    seconds: float = 30.0


@dataclass
class EmptyStream:
    """200, a role chunk, a ``stop`` finish and ``[DONE]``: nothing said, nothing called."""


@dataclass
class RaiseAfter200:
    chunks: tuple[str, ...] = ()  # text chunks sent before the connection drops


Reply = Text | ToolCalls | Error | Hang | EmptyStream | RaiseAfter200


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


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}


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
    if reply.whole_calls_at_index_0:
        for index, (name, args) in enumerate(reply.calls):
            whole = {
                "index": 0,
                "id": f"call_fake_{index}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            chunks.append(_chunk({"role": "assistant", "tool_calls": [whole]}))
        chunks.append(_chunk({}, finish="tool_calls"))
        return chunks
    for index, (name, args) in enumerate(reply.calls):
        text = args if isinstance(args, str) else json.dumps(args)
        pieces.append([text[i : i + reply.fragment] for i in range(0, len(text), reply.fragment)] or [""])
        head: dict[str, Any] = {
            "index": index,
            "id": f"call_fake_{index}",
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        if reply.omit_ids:
            del head["id"]
        chunks.append(_chunk({"role": "assistant", "content": None, "tool_calls": [head]}))
    if reply.args_in_final_chunk:
        whole = [{"index": i, "function": {"arguments": "".join(p)}} for i, p in enumerate(pieces)]
        chunks.append(_chunk({"tool_calls": whole}, finish="tool_calls"))
        return chunks
    for step in range(max((len(p) for p in pieces), default=0)):
        for index, parts in enumerate(pieces):
            if step < len(parts):
                fragment: dict[str, Any] = {"function": {"arguments": parts[step]}}
                if not reply.omit_index:
                    fragment["index"] = index
                chunks.append(_chunk({"tool_calls": [fragment]}))
                if reply.empty_deltas:
                    chunks.append(_chunk({"tool_calls": [{"index": index, "function": {"arguments": ""}}]}))
                    chunks.append(_chunk({"tool_calls": [{"index": index}]}))
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
            if isinstance(reply, RaiseAfter200):
                for piece in reply.chunks:
                    self._event(_chunk({"role": "assistant", "content": piece}))
                self.close_connection = True
                return
            if isinstance(reply, Hang):
                for i in range(reply.after_chunks):
                    self._event(_chunk({"role": "assistant", "content": f"part {i} "}))
                self.state.stop.wait(reply.seconds)
                return
            if isinstance(reply, Text):
                if reply.first_token_after_s:
                    self.state.stop.wait(reply.first_token_after_s)
                self._event(_chunk({"role": "assistant", "content": ""}))
                for piece in reply.chunks:
                    self._event(_chunk({"content": piece}))
                usage = reply.usage
                if reply.usage_on_finish:
                    self._event({**_chunk({}, finish="stop"), "usage": _usage(usage)})
                    include_usage = False
                else:
                    self._event(_chunk({}, finish="stop"))
            elif isinstance(reply, EmptyStream):
                self._event(_chunk({"role": "assistant", "content": ""}))
                self._event(_chunk({}, finish="stop"))
                usage = (11, 0)
            else:
                for chunk in tool_call_chunks(reply):
                    self._event(chunk)
                usage = (13, 5)
            if include_usage:
                self._event(
                    {
                        **_chunk({}),
                        "choices": [],
                        "usage": _usage(usage),
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
