"""Where one server process spends CPU and memory on planner answers (py-spy + /proc/PID/smaps).

    VIBESHELF_HOME=/path/to/index python bench/profile.py                 # 20 s of sequential chats
    VIBESHELF_HOME=... python bench/profile.py --duration 60 --top 25
    VIBESHELF_HOME=... python bench/profile.py --gil      # only threads holding the GIL: Python's CPU

Starts one server (as bench/chat.py does), warms it up, then samples it with ``py-spy record`` (native
frames included, 100 Hz) while this process sends two-turn conversations one after another. Prints the
share of samples per area (inclusive: a sample counts for every area on its stack), the functions with
the largest inclusive share, the hottest functions by self time, and the server's resident memory per
mapping (shared libraries, anonymous heap), largest first. With ``--gil`` only the thread holding the GIL is
sampled (no native frames): threads parked in futex/epoll, which the default mode still counts, drop out,
so the shares are of the Python work. Needs ``pip install py-spy`` and permission to ptrace the server
(root, or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat import FOLLOW_UPS, MOODS, ask, start_chat_server

# Where a frame belongs, first match wins (frames look like "function (path/to/file.py:line)").
AREAS = [
    ("planner: reading the message", r"agent/reading/"),
    ("planner: plan + answer text", r"agent/(planner|planner_client|answer_writer|intent|constraints)\.py"),
    ("agent loop, grounding, events", r"agent/(loop|grounding|events|conversation|prompt)\.py"),
    (
        "state store (PostgreSQL/DuckDB)",
        r"agent/(session_store|state_db|postgres_state_db)\.py|psycopg|duckdb",
    ),
    ("search: query encoder (onnxruntime)", r"retrieval/(encoder|token_table)\.py|onnxruntime"),
    ("search: LanceDB (vector + full text)", r"lancedb|lance"),
    (
        "search: fusion, filters, rerank",
        r"retrieval/(hybrid_search|book_search|filters|reranker|title_lookup)\.py",
    ),
    ("readers also liked", r"retrieval/readers_also_liked\.py"),
    ("tools: validation + cards", r"tools/"),
    ("HTTP + SSE (uvicorn, starlette, sse)", r"uvicorn|starlette|sse_starlette|fastapi|h11|httptools"),
    ("pydantic", r"pydantic"),
    ("asyncio event loop", r"asyncio/|uvloop"),
]


async def drive(url: str, deadline: float, seed: int) -> int:
    rng = random.Random(seed)
    answers = 0
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < deadline:
            first = await ask(client, url, rng.choice(MOODS), None)
            answers += 1
            if first.session_id and not first.error:
                await ask(client, url, rng.choice(FOLLOW_UPS), first.session_id)
                answers += 1
    return answers


def smaps_by_mapping(pid: int) -> list[tuple[str, float]]:
    """Resident MB per mapped file (anonymous memory as '[anon]', the heap as '[heap]')."""
    sizes: dict[str, float] = collections.Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            name = parts[5] if len(parts) >= 6 else "[anon]"
            name = re.sub(r".*/site-packages/", "", name)
        elif parts and parts[0] == "Rss:":
            sizes[name] += int(parts[1]) / 1024
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--raw", type=Path, help="also keep py-spy's raw stacks here (one stack per line)")
    parser.add_argument(
        "--gil", action="store_true", help="sample only the thread holding the GIL (no native frames)"
    )
    args = parser.parse_args()
    if not os.environ.get("VIBESHELF_HOME"):
        parser.error("set VIBESHELF_HOME to a built index")
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        parser.error("py-spy is not installed in this environment: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="vibeshelf-profile-") as tmp:
        server = start_chat_server(Path(tmp), "vibeshelf.web.app:create_app", None)
        try:
            asyncio.run(drive(server.url, time.monotonic() + 5, args.seed))  # warm-up
            raw = Path(tmp) / "profile.txt"
            spy = subprocess.Popen(
                [
                    str(py_spy),
                    "record",
                    "--pid",
                    str(server.proc.pid),
                    "--duration",
                    str(int(args.duration)),
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    *(["--gil"] if args.gil else ["--native"]),
                    "--output",
                    str(raw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            cpu_before = server.cpu_s()
            answers = asyncio.run(drive(server.url, time.monotonic() + args.duration, args.seed + 1))
            cpu = server.cpu_s() - cpu_before
            _, err = spy.communicate(timeout=args.duration + 60)
            if spy.returncode != 0:
                print(err.decode(errors="replace"), file=sys.stderr)
                return 1
            memory = smaps_by_mapping(server.proc.pid)
            rss = server.rss_mb()
        finally:
            server.stop()
        if args.raw is not None:
            args.raw.write_text(raw.read_text())
        stacks = []
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1
    areas: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        hit = set()
        for frame in frames:
            for area, pattern in AREAS:
                if re.search(pattern, frame):
                    hit.add(area)
                    break
        for area in hit:
            areas[area] += count
        if frames:
            self_time[re.sub(r"\s*\(.*?site-packages/", " (", frames[-1])] += count
    print(
        f"{answers} answers in {args.duration:.0f} s, server CPU {1000 * cpu / max(answers, 1):.1f} ms per answer, "
        f"{total} samples of running threads"
    )
    print("\nshare of samples by area (inclusive):")
    for area, count in areas.most_common():
        print(f"  {100 * count / total:5.1f}%  {area}")
    # Inclusive per function (line numbers dropped): a function counts once per sample it is on the stack.
    inclusive: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        for frame in {re.sub(r":\d+\)", ")", f) for f in frames}:
            inclusive[re.sub(r"\s*\(.*?site-packages/", " (", frame)] += count
    print(f"\nlargest {2 * args.top} functions by inclusive share:")
    for frame, count in inclusive.most_common(2 * args.top):
        print(f"  {100 * count / total:5.1f}%  {frame[:150]}")
    print(f"\nhottest {args.top} frames by self time:")
    for frame, count in self_time.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {frame[:150]}")
    print(f"\nresident memory {rss:.0f} MB, largest mappings:")
    for name, mb in memory[: args.top]:
        print(f"  {mb:7.1f} MB  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
