"""Memory benchmark: the server's resident memory after start and after a warm-up, against 600 MB.

    VIBESHELF_HOME=/tmp/vs-full python bench/memory.py --home /tmp/vs-full        # 200 + 200 requests
    python bench/memory.py --home /tmp/vs-full -n 50 --json /tmp/mem.json

Starts ``vibeshelf serve`` (``python -m vibeshelf.cli serve``) as a subprocess on a free loopback port,
with ``VIBESHELF_HOME`` from ``--home``, the offline planner, no rate limit and the sessions in a
throw-away DuckDB file (the only thing written). Waits for ``/healthz``, then reports:

1. the bare-import baseline: RSS of a fresh interpreter that only imports the app modules (what the
   imports cost before any index, encoder or request),
2. the server's RSS (VmRSS of the process and any children, from ``/proc``) right after start,
3. the RSS after N varied ``POST /v1/chat`` requests (SSE, read to the end) and N
   ``GET /v1/books/search`` requests,
4. whether torch is mapped into the server (it must not be).

Target (issue): RSS after warm-up <= 600 MB, no torch. Exits 1 when missed. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench_server import free_port, start_server

TARGET_MB = 600.0

MOODS = [
    "cozy mystery for a rainy day",
    "like The Hunger Games but not young adult",
    "highly rated science fiction before 1980",
    "something melancholic and literary about memory",
    "a funny fantasy with dragons",
    "epic fantasy with political intrigue",
    "short classic novels under 200 pages",
    "a thriller set in Scandinavia",
    "books like Pride and Prejudice",
    "historical fiction about world war two from a child's view",
    "hopeful books about grief",
    "space opera with found family",
    "nonfiction about the history of science",
    "a romance that is not too sappy",
    "creepy gothic horror in an old house",
    "something like Harry Potter for adults",
    "dystopian novels written before 1960",
    "books by Terry Pratchett",
    "a page-turner for a long flight",
    "philosophical science fiction about artificial intelligence",
    "poetry that is easy to get into",
    "magical realism from Latin America",
    "a memoir about food and cooking",
    "true crime that reads like a novel",
]
REFINEMENTS = ["", " but shorter", " published after 2000", " not by a famous author", " with a female lead"]
SEARCHES = [
    "dragons",
    "murder on a train",
    "coming of age in a small town",
    "Tolkien",
    "robots",
    "vampire romance",
    "the great depression",
    "detective in victorian london",
    "a boy and his dog",
    "time travel",
    "space exploration",
    "pirates",
    "ancient rome",
    "witches",
    "zombie apocalypse",
    "family saga",
]
IMPORT_PROBE = (
    "import os, vibeshelf.web.app, vibeshelf.retrieval.services, vibeshelf.retrieval.encoder, "
    "vibeshelf.retrieval.book_index, vibeshelf.agent.loop\n"
    "import lancedb, onnxruntime, litellm\n"
    "for line in open(f'/proc/{os.getpid()}/status'):\n"
    "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)\n"
)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for k in map(int, kids):
            found.append(k)
            todo.append(k)
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and its descendants (uvicorn workers, if any), in MB."""
    return sum(_status_kb(p, "VmRSS") for p in [pid, *_children(pid)]) / 1024


def rss_detail(pid: int) -> dict[str, float]:
    """RssAnon / RssFile split of the main process (heap vs mapped libraries and files), and its threads."""
    detail = {k: round(_status_kb(pid, k) / 1024, 1) for k in ("RssAnon", "RssFile", "RssShmem", "VmHWM")}
    detail["threads"] = _status_kb(pid, "Threads")  # a count, not kB
    return detail


def top_mappings(pid: int, n: int = 15) -> list[tuple[str, float]]:
    """The largest contributors to RSS by mapping (library path, or [anon] for heap/arenas), in MB."""
    sizes: dict[str, int] = {}
    name = "[anon]"
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else "[anon]"
            if "site-packages/" in name:
                name = name.split("site-packages/", 1)[1]
        elif head[0] == "Rss:":
            sizes[name] = sizes.get(name, 0) + int(head[1])
    ranked = sorted(sizes.items(), key=lambda kv: -kv[1])[:n]
    return [(k, round(v / 1024, 1)) for k, v in ranked]


def has_torch(pid: int) -> bool:
    for p in [pid, *_children(pid)]:
        try:
            maps = Path(f"/proc/{p}/maps").read_text()
        except OSError:
            continue
        if "libtorch" in maps or "/torch/" in maps:
            return True
    return False


def import_baseline_mb(env: dict[str, str]) -> float | None:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], env=env, capture_output=True, text=True, timeout=180
    )
    try:
        return round(float(out.stdout.strip().splitlines()[-1]), 1)
    except (ValueError, IndexError):
        print(f"import probe failed: {out.stderr[-500:]}", file=sys.stderr)
        return None


def chat_once(
    client: httpx.Client, url: str, message: str, session_id: str | None
) -> tuple[str | None, str | None]:
    """One streamed answer read to the end: (session id, error or None)."""
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    event = None
    done = False
    try:
        with client.stream("POST", f"{url}/v1/chat", json=body) as response:
            if response.status_code != 200:
                return session_id, f"HTTP {response.status_code}"
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    done = done or event == "done"
                elif line.startswith("data:") and event == "session":
                    session_id = json.loads(line[5:]).get("session_id", session_id)
                elif line.startswith("data:") and event == "error":
                    return session_id, line[5:].strip()[:200]
    except (httpx.HTTPError, OSError) as err:
        return session_id, f"{type(err).__name__}: {err}"
    return session_id, None if done else "stream ended without a done event"


def warm_up(url: str, n: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    errors = {"chat": 0, "search": 0}
    with httpx.Client(timeout=60) as client:
        session: str | None = None
        for i in range(n):
            if i % 3 == 0:
                session = None  # a new conversation every third message
            message = rng.choice(MOODS) + (rng.choice(REFINEMENTS) if session else "")
            session, err = chat_once(client, url, message, session)
            if err:
                errors["chat"] += 1
                session = None
                if errors["chat"] <= 3:
                    print(f"  chat error: {err}", file=sys.stderr)
        for i in range(n):
            q = rng.choice(SEARCHES)
            params: dict[str, Any] = {"q": q, "limit": rng.choice([5, 10, 20])}
            if i % 4 == 1:
                params["year_max"] = rng.choice([1950, 1980, 2000])
            if i % 4 == 2:
                params["min_rating"] = 4.0
            try:
                ok = client.get(f"{url}/v1/books/search", params=params).status_code == 200
            except httpx.HTTPError:
                ok = False
            errors["search"] += not ok
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("VIBESHELF_HOME", ".vibeshelf")))
    parser.add_argument("-n", "--requests", type=int, default=200, help="chat and search requests each")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-import measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    args = parser.parse_args()

    figures: dict[str, Any] = {"home": str(args.home.resolve()), "requests": args.requests}
    if not args.no_baseline:
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1"}
        figures["rss_mb_bare_imports"] = import_baseline_mb(env)
    with tempfile.TemporaryDirectory(prefix="vibeshelf-mem-") as tmp:
        port = free_port()
        command = [sys.executable, "-m", "vibeshelf.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = start_server(
            command,
            Path(tmp),
            port,
            env={"VIBESHELF_HOME": str(args.home.resolve())},
            timeout_s=args.startup_timeout,
        )
        proc, url = server.proc, server.url
        try:
            time.sleep(1.0)  # the lifespan's background warm-up answer
            figures["rss_mb_after_start"] = round(rss_mb(proc.pid), 1)
            figures["detail_after_start"] = rss_detail(proc.pid)
            started = time.perf_counter()
            figures["errors"] = warm_up(url, args.requests, args.seed)
            figures["warmup_s"] = round(time.perf_counter() - started, 1)
            figures["rss_mb_after_warmup"] = round(rss_mb(proc.pid), 1)
            figures["detail_after_warmup"] = rss_detail(proc.pid)
            figures["torch_loaded"] = has_torch(proc.pid)
            figures["top_mappings_mb"] = top_mappings(proc.pid)
        finally:
            server.stop()
    passed = (
        figures["rss_mb_after_warmup"] <= TARGET_MB
        and not figures["torch_loaded"]
        and not any(figures["errors"].values())
    )
    figures["pass"] = passed
    print(f"bare imports (no index): {figures.get('rss_mb_bare_imports')} MB")
    print(f"after start:             {figures['rss_mb_after_start']} MB  {figures['detail_after_start']}")
    print(
        f"after warm-up:           {figures['rss_mb_after_warmup']} MB  {figures['detail_after_warmup']}"
        f"  ({args.requests} chat + {args.requests} search in {figures['warmup_s']} s, errors {figures['errors']})"
    )
    print(f"torch in the process:    {figures['torch_loaded']}")
    print(
        "largest mappings after warm-up (MB): " + ", ".join(f"{k} {v}" for k, v in figures["top_mappings_mb"])
    )
    print(f"{'PASS' if passed else 'FAIL'}: RSS after warm-up <= {TARGET_MB:.0f} MB, no torch, no errors")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
