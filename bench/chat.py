"""Chat benchmark: the streamed ``POST /v1/chat`` API with the offline planner on the real index.

    VIBESHELF_HOME=/tmp/vs-full python bench/chat.py                 # all phases (about 90 s)
    VIBESHELF_HOME=/tmp/vs-full python bench/chat.py --duration 10   # shorter load phase

Starts its own uvicorn process (``vibeshelf.web.app:create_app``, one worker, the rate limit off, the
sessions in a throw-away DuckDB file so the real query log stays clean), then:

1. latency: N sequential conversations of two turns (a mood, then a refinement). Reports, from the
   client's side, the first SSE event, the first ``books`` event and the full answer (``done``).
   Targets: first event <= 50 ms p50, full answer <= 100 ms p50; the server's CPU per answer is reported.
2. load: C concurrent SSE conversations on loopback for D seconds (default 200 for 60 s), each a loop of
   three-turn sessions. Target: 0 errors; reports p50/p99 first event and answers per second.
3. memory: the server's RSS after warm-up and after the load (target <= 600 MB), and whether torch is
   mapped into the process (it must not be).

Every loop is bounded (count or deadline); Ctrl-C stops the server and exits. Exits 1 when a target is
missed. ``--json PATH`` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_server import Server, free_port, start_server

MOODS = [
    "something cozy and melancholic for a rainy weekend",
    "a fast-paced thriller with a twist I won't see coming",
    "a sweeping fantasy with dragons and court intrigue",
    "funny and heartwarming, like a hug in book form",
    "a haunting gothic novel set in an old house",
    "hard science fiction about first contact",
    "a detective story in foggy Victorian London",
    "an epic family saga across generations",
    "a slow-burn romance in a small coastal town",
    "survival in the wilderness, tense and beautiful",
    "something like The Hobbit",
    "a classic I should have read by now",
    "a thought-provoking dystopia",
    "a light mystery with a cat",
    "a sad book that will make me cry",
    "historical fiction about World War II resistance",
]
FOLLOW_UPS = [
    "nothing young adult",
    "before 2000 please",
    "less well known ones",
    "more like the second one",
    "highly rated only",
    "something different",
    "no vampires",
    "from the 80s",
]


# --- the server -----------------------------------------------------------------------------------


class BenchServer(Server):
    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def has_torch(self) -> bool:
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return "libtorch" in maps or "/torch/" in maps


def start_chat_server(
    state_dir: Path, app: str, app_dir: Path | None, timeout_s: float = 180.0
) -> BenchServer:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--factory"]
    if app_dir is not None:
        cmd += ["--app-dir", str(app_dir)]
    cmd += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--timeout-keep-alive",
        "30",
    ]
    server = start_server(cmd, state_dir, port, timeout_s=timeout_s)
    return BenchServer(server.proc, server.url, server.log)


# --- one streamed answer, timed from the client --------------------------------------------------


@dataclass
class Answer:
    session_id: str | None = None
    first_event_ms: float | None = None
    first_books_ms: float | None = None
    done_ms: float | None = None
    error: str | None = None
    model: str | None = None


async def ask(client: httpx.AsyncClient, url: str, message: str, session_id: str | None) -> Answer:
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    answer = Answer(session_id=session_id)
    started = time.perf_counter()
    event = None
    try:
        async with client.stream("POST", f"{url}/v1/chat", json=body) as response:
            if response.status_code != 200:
                answer.error = f"HTTP {response.status_code}: {(await response.aread())[:200]!r}"
                return answer
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    ms = (time.perf_counter() - started) * 1000
                    if answer.first_event_ms is None:
                        answer.first_event_ms = ms
                    if event == "books" and answer.first_books_ms is None:
                        answer.first_books_ms = ms
                    if event == "done":
                        answer.done_ms = ms
                elif line.startswith("data:") and event in ("session", "error", "done"):
                    data = json.loads(line[5:])
                    if event == "session":
                        answer.session_id = data["session_id"]
                    elif event == "error":
                        answer.error = f"{data['code']}: {data['message']}"
                    else:
                        answer.model = data.get("model")
    except (httpx.HTTPError, OSError) as err:
        answer.error = f"{type(err).__name__}: {err}"
    if answer.done_ms is None and answer.error is None:
        answer.error = "stream ended without a done event"
    return answer


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- phases ----------------------------------------------------------------------------------------


async def latency_phase(url: str, conversations: int, rng: random.Random) -> dict[str, Any]:
    from tqdm import tqdm

    answers: list[Answer] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in tqdm(range(conversations), desc="latency (2-turn conversations)", unit="conv"):
            first = await ask(client, url, rng.choice(MOODS), None)
            answers.append(first)
            if first.session_id and not first.error:
                answers.append(await ask(client, url, rng.choice(FOLLOW_UPS), first.session_id))
    ok = [a for a in answers if not a.error]
    return {
        "answers": len(answers),
        "errors": [a.error for a in answers if a.error][:5],
        "error_count": len(answers) - len(ok),
        "models": sorted({a.model for a in ok if a.model}),
        "first_event_ms_p50": pct([a.first_event_ms for a in ok if a.first_event_ms], 50),
        "first_books_ms_p50": pct([a.first_books_ms for a in ok if a.first_books_ms], 50),
        "done_ms_p50": pct([a.done_ms for a in ok if a.done_ms], 50),
        "done_ms_p95": pct([a.done_ms for a in ok if a.done_ms], 95),
    }


@dataclass
class LoadStats:
    answers: list[Answer] = field(default_factory=list)


async def load_phase(url: str, concurrency: int, duration_s: float, seed: int) -> dict[str, Any]:
    from tqdm import tqdm

    stats = LoadStats()
    deadline = time.monotonic() + duration_s
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10)
    # Generous timeouts: under 200 streams a slow answer is a latency figure, not an error.
    timeout = httpx.Timeout(120, connect=30, pool=60)
    progress = tqdm(total=round(duration_s), desc=f"load ({concurrency} concurrent)", unit="s")

    async def conversation_loop(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(seed + n)
        await asyncio.sleep(rng.random())  # spread the start over a second
        while time.monotonic() < deadline:
            session: str | None = None
            for turn in range(3):
                if time.monotonic() >= deadline:
                    return
                message = rng.choice(MOODS) if turn == 0 else rng.choice(FOLLOW_UPS)
                answer = await ask(client, url, message, session)
                stats.answers.append(answer)
                if answer.error:
                    break
                session = answer.session_id

    async def tick() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            progress.update(1)

    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await asyncio.gather(tick(), *(conversation_loop(n, client) for n in range(concurrency)))
    progress.close()
    elapsed = time.monotonic() - started
    answers = stats.answers
    ok = [a for a in answers if not a.error]
    return {
        "concurrency": concurrency,
        "duration_s": round(elapsed, 1),
        "answers": len(answers),
        "answers_per_s": round(len(ok) / elapsed, 1),
        "error_count": len(answers) - len(ok),
        "errors": [a.error for a in answers if a.error][:5],
        "first_event_ms_p50": pct([a.first_event_ms for a in ok if a.first_event_ms], 50),
        "first_event_ms_p99": pct([a.first_event_ms for a in ok if a.first_event_ms], 99),
        "first_books_ms_p50": pct([a.first_books_ms for a in ok if a.first_books_ms], 50),
        "done_ms_p50": pct([a.done_ms for a in ok if a.done_ms], 50),
        "done_ms_p99": pct([a.done_ms for a in ok if a.done_ms], 99),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50, help="Latency phase: 2-turn conversations.")
    parser.add_argument("--concurrency", type=int, default=200, help="Load phase: concurrent conversations.")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="Load phase length in seconds (0: skip)."
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument(
        "--app",
        default="vibeshelf.web.app:create_app",
        help="App factory to serve (e.g. chat_test_app:create_app with --app-dir tests, to time the HTTP "
        "layer alone over the test shelf and its scripted model).",
    )
    parser.add_argument("--app-dir", type=Path, help="Folder to import --app from.")
    args = parser.parse_args()

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vibeshelf-bench-chat-") as tmp:
        t0 = time.perf_counter()
        server = start_chat_server(Path(tmp), args.app, args.app_dir)
        figures["startup_s"] = round(time.perf_counter() - t0, 1)
        try:
            figures["rss_mb_after_start"] = round(server.rss_mb(), 1)
            rng = random.Random(args.seed)
            # Warm-up beyond the lifespan's own: a few answers so caches are as a reader would find them.
            asyncio.run(latency_phase(server.url, 3, random.Random(args.seed + 1)))
            figures["rss_mb_after_warmup"] = round(server.rss_mb(), 1)
            cpu = server.cpu_s()
            figures["latency"] = asyncio.run(latency_phase(server.url, args.conversations, rng))
            # The server's own CPU per answer (the client runs in this process, not counted).
            figures["latency"]["server_cpu_ms_per_answer"] = round(
                (server.cpu_s() - cpu) * 1000 / max(1, figures["latency"]["answers"]), 1
            )
            if args.duration > 0:
                figures["load"] = asyncio.run(
                    load_phase(server.url, args.concurrency, args.duration, args.seed)
                )
                figures["rss_mb_after_load"] = round(server.rss_mb(), 1)
            figures["torch_in_server"] = server.has_torch()
            tail = server.log.read_text(errors="replace")
            figures["server_tracebacks"] = tail.count("Traceback")
            figures["could_not_set_lock"] = tail.lower().count("could not set lock")
        except KeyboardInterrupt:
            print("interrupted; stopping the server", file=sys.stderr)
            return 130
        finally:
            server.stop()

    lat = figures["latency"]
    load = figures.get("load")
    checks = {
        "first event p50 <= 50 ms": lat["first_event_ms_p50"] <= 50,
        "full answer p50 <= 100 ms": lat["done_ms_p50"] <= 100,
        "latency phase without errors": lat["error_count"] == 0,
        "RSS after warm-up <= 600 MB": figures["rss_mb_after_warmup"] <= 600,
        "no torch in the server": not figures["torch_in_server"],
    }
    if load is not None:
        checks[f"{load['concurrency']} concurrent for {load['duration_s']:.0f}s: 0 errors"] = (
            load["error_count"] == 0
        )
    figures["checks"] = checks
    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
