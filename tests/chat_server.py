"""Run the chat test app (or the real app) as a real uvicorn process on a free loopback port, and read
its SSE streams as typed events."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from vibeshelf.agent.events import AgentEvent, BooksEvent, decode_event

TESTS = Path(__file__).resolve().parent


@dataclass
class Server:
    url: str
    log_path: Path

    def output(self) -> str:
        """What the server printed so far (errors, tracebacks)."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def uvicorn_server(
    env: dict[str, str],
    app: str = "chat_test_app:create_app",
    workers: int = 1,
    timeout_s: float = 30.0,
    python: str = sys.executable,
    cwd: Path | None = None,
    cli: bool = False,
) -> Iterator[Server]:
    """Run ``app`` (a factory) under uvicorn, or with ``cli`` the real app as ``vibeshelf serve`` runs it;
    yields its URL and log, and stops it afterwards."""
    port = free_port()
    if cli:
        vibeshelf = str(Path(python).parent / "vibeshelf")
        cmd = [vibeshelf, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    else:
        # --no-proxy-headers as `vibeshelf serve` runs it: the app, not uvicorn, decides whom to believe.
        cmd = [python, "-m", "uvicorn", app, "--factory", "--app-dir", str(TESTS), "--no-proxy-headers"]
        cmd += [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
    full_env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **env,
    }
    # Output goes to a file: a pipe nobody reads would block the server once it filled.
    log = tempfile.NamedTemporaryFile(prefix="uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{Path(log.name).read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not answer on {url} within {timeout_s}s")
            time.sleep(0.1)
        yield Server(url, Path(log.name))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def iter_sse(response: httpx.Response) -> Iterator[AgentEvent]:
    """Typed events as they arrive (not after the stream ends)."""
    type_, data = None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            type_ = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and type_ and data:
            yield decode_event(type_, "\n".join(data))
            type_, data = None, []


def chat(server: Server, headers: dict[str, str] | None = None, **body: Any) -> list[AgentEvent]:
    url = f"{server.url}/v1/chat"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(iter_sse(response))


def books_of(events: list[AgentEvent]) -> list[str]:
    return [b.id for e in events if isinstance(e, BooksEvent) for b in e.books]


def read_marks_during_a_slow_turn(
    servers: list[Server], session_id: str, marks: int, threads: int
) -> list[int]:
    """Send ``marks`` "read" feedbacks (books ``t:mark0``...) to ``servers`` in turn, from ``threads`` threads,
    while a slow turn of the same session streams on the last server; the HTTP status of each mark.

    The turn's own save must keep every mark acknowledged while it ran."""
    turn = threading.Thread(
        target=chat, args=(servers[-1],), kwargs={"session_id": session_id, "message": "slow-text cozy"}
    )
    turn.start()

    def mark(n: int) -> int:
        body = {"session_id": session_id, "book_id": f"t:mark{n}", "kind": "read"}
        return httpx.post(f"{servers[n % len(servers)].url}/v1/feedback", json=body, timeout=60).status_code

    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(mark, range(marks)))
    turn.join(120)
    return statuses
