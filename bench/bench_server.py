"""A vibeshelf server in a subprocess on a free loopback port, for the benchmarks that drive one over HTTP.

Benchmarks run as scripts (`python bench/chat.py`), so their folder is on sys.path and they import this
module by name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(
    command: list[str],
    state_dir: Path,
    port: int,
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 180.0,
) -> Server:
    """Run ``command`` (which must listen on ``port``) with benchmark settings; return once /healthz answers.

    The planner is the model unless VIBESHELF_MODEL says otherwise, there is no rate limit, and sessions
    go to a throw-away state DB in ``state_dir`` so the real query log stays clean.
    """
    log = state_dir / "server.log"
    full_env = {
        **os.environ,
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "VIBESHELF_RATE_LIMIT_PER_MINUTE": "0",  # the load phase is one client on loopback
        "VIBESHELF_STATE_DB": str(state_dir / "state.duckdb"),
        "VIBESHELF_MODEL": os.environ.get("VIBESHELF_MODEL", "vibeshelf/planner"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **(env or {}),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"the server did not come up within {timeout_s:.0f}s:\n{log.read_text()[-3000:]}")
