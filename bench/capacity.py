"""Capacity: N API server processes sharing PostgreSQL, driven by streamed chats from this process.

    VIBESHELF_HOME=/path/to/index python bench/capacity.py                      # N = 1, 2; 30 s each
    VIBESHELF_HOME=/path/to/index python bench/capacity.py --servers 1 2 4 --duration 60 --concurrency 64
    VIBESHELF_HOME=... python bench/capacity.py --state-url postgresql://user:pw@db:5432/vibeshelf

For each N it starts N separate ``uvicorn vibeshelf.web.app:create_app`` processes (one worker each, own
port, as N replicas behind a load balancer), all with ``VIBESHELF_STATE_URL`` on one PostgreSQL database.
Without ``--state-url`` a throwaway cluster is started from Debian's binaries (tests/postgres_cluster.py).
The client (this process, asyncio + httpx) plays the load balancer: C concurrent conversations of three
turns each, every turn sent to the next server round-robin, so one session is answered by every server
in turn (the state must be shared for that to work). Reports per N: answers/s, first SSE event p50/p99,
full answer p50/p99, errors, RSS of each server after the run, and the machine's CPU count and load
average (other work on the machine slows the figures; say so next to them).

The offline planner answers, so every answer is CPU on the server: answers/s grows with server processes
until the cores run out. ``--json PATH`` also writes the figures.
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_server import free_port, start_server
from chat import FOLLOW_UPS, MOODS, Answer, BenchServer, ask, pct


def start_servers(n: int, state_url: str, work: Path) -> list[BenchServer]:
    servers = []
    for i in range(n):
        folder = work / f"server-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "vibeshelf.web.app:create_app", "--factory"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        # Every conversation comes from 127.0.0.1: the per-client limits would throttle the bench itself.
        env = {"VIBESHELF_STATE_URL": state_url, "VIBESHELF_RATE_LIMIT_PER_MINUTE": "0"}
        server = start_server(cmd, folder, port, env=env)
        servers.append(BenchServer(server.proc, server.url, server.log))
    return servers


async def drive(
    urls: list[str], concurrency: int, duration_s: float, seed: int
) -> tuple[list[Answer], float]:
    answers: list[Answer] = []
    deadline = time.monotonic() + duration_s
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10)
    timeout = httpx.Timeout(120, connect=30, pool=60)
    turn_counter = 0

    async def conversation_loop(n: int, client: httpx.AsyncClient) -> None:
        nonlocal turn_counter
        rng = random.Random(seed + n)
        await asyncio.sleep(rng.random())  # spread the start over a second
        while time.monotonic() < deadline:
            session: str | None = None
            for turn in range(3):
                if time.monotonic() >= deadline:
                    return
                url = urls[turn_counter % len(urls)]  # round-robin, as a load balancer without affinity
                turn_counter += 1
                message = rng.choice(MOODS) if turn == 0 else rng.choice(FOLLOW_UPS)
                answer = await ask(client, url, message, session)
                answers.append(answer)
                if answer.error:
                    break
                session = answer.session_id

    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(conversation_loop(n, client) for n in range(concurrency)))
    return answers, time.monotonic() - started


async def warm(urls: list[str]) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        for url in urls:
            for mood in MOODS[:3]:
                await ask(client, url, mood, None)


def run_one(n: int, state_url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    servers = start_servers(n, state_url, work / f"n{n}")
    try:
        urls = [s.url for s in servers]
        asyncio.run(warm(urls))
        cpu_before = [s.cpu_s() for s in servers]
        load_before = os.getloadavg()[0]
        answers, elapsed = asyncio.run(drive(urls, args.concurrency, args.duration, args.seed))
        load_after = os.getloadavg()[0]
        cpu = [s.cpu_s() - c for s, c in zip(servers, cpu_before, strict=True)]
        rss = [round(s.rss_mb()) for s in servers]
    finally:
        for s in servers:
            s.stop()
    ok = [a for a in answers if not a.error]
    return {
        "servers": n,
        "concurrency": args.concurrency,
        "duration_s": round(elapsed, 1),
        "answers": len(answers),
        "answers_per_s": round(len(ok) / elapsed, 1),
        "error_count": len(answers) - len(ok),
        "errors": [a.error for a in answers if a.error][:3],
        "first_event_ms_p50": round(pct([a.first_event_ms for a in ok if a.first_event_ms], 50), 1),
        "first_event_ms_p99": round(pct([a.first_event_ms for a in ok if a.first_event_ms], 99), 1),
        "done_ms_p50": round(pct([a.done_ms for a in ok if a.done_ms], 50), 1),
        "done_ms_p99": round(pct([a.done_ms for a in ok if a.done_ms], 99), 1),
        "server_cpu_ms_per_answer": round(1000 * sum(cpu) / max(len(ok), 1), 1),
        "rss_mb_per_server": rss,
        "load_avg_1m_before_after": [round(load_before, 2), round(load_after, 2)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--servers", type=int, nargs="+", default=[1, 2], help="Server process counts to run."
    )
    parser.add_argument("--concurrency", type=int, default=32, help="Concurrent conversations.")
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds of load per server count.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--state-url", help="PostgreSQL URL; default: a throwaway local cluster.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    if not os.environ.get("VIBESHELF_HOME"):
        parser.error("set VIBESHELF_HOME to a built index (vibeshelf ingest)")

    results = []
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="vibeshelf-capacity-") as tmp:
        state_url = args.state_url
        if state_url is None:
            from postgres_cluster import fresh_database, postgres_cluster

            state_url = fresh_database(stack.enter_context(postgres_cluster()))
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
            f"{args.concurrency} concurrent conversations, {args.duration:.0f} s per server count",
            flush=True,
        )
        for n in args.servers:
            row = run_one(n, state_url, args, Path(tmp))
            results.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(
        "| servers | answers/s | first event p50 / p99 ms | full answer p50 / p99 ms | server CPU ms/answer "
        "| RSS per server MB | errors | load avg before/after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['servers']} | {r['answers_per_s']} | {r['first_event_ms_p50']} / {r['first_event_ms_p99']} | "
            f"{r['done_ms_p50']} / {r['done_ms_p99']} | {r['server_cpu_ms_per_answer']} | "
            f"{', '.join(map(str, r['rss_mb_per_server']))} | {r['error_count']} | "
            f"{r['load_avg_1m_before_after'][0]} / {r['load_avg_1m_before_after'][1]} |"
        )
    if len(results) > 1:
        base = results[0]["answers_per_s"] or float("nan")
        for r in results[1:]:
            print(
                f"{r['servers']} servers / {results[0]['servers']}: {r['answers_per_s'] / base:.2f}x answers/s"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if any(r["error_count"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
