"""The offline planner's own time per model call (target < 20 ms), on a real index.

Runs a 10-message conversation through the real agent loop (planner + the six tools over the index in
VIBESHELF_HOME or --home), then re-plans every prefix at which the loop asked the model, timing only
`plan()` in thread CPU time (what the planner itself costs, not the tools or other load):

    python bench/planner.py --home /tmp/vs-full
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from vibeshelf.tools.tool import ToolContext

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SCRIPT = [
    "cozy and melancholic for a rainy weekend",
    "nothing young adult",
    "before 1990",
    "more like the second one",
    "something like The Hunger Games but not by Suzanne Collins",
    "I've read Divergent",
    "something different",
    "I'm feeling lucky",
    "highly rated fantasy, no vampires",
    "more like the first one",
]


async def conversation(home: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from vibeshelf.agent.loop import Agent
    from vibeshelf.agent.session_state import SessionState
    from vibeshelf.layout import Layout
    from vibeshelf.retrieval.services import open_services
    from vibeshelf.settings import Settings
    from vibeshelf.tools.default_registry import default_registry

    services = open_services(Layout(home))
    registry = default_registry()
    agent = Agent(registry, ToolContext(deps=services), Settings(home=home))
    messages: list[dict[str, Any]] = []
    state = SessionState()
    for text in SCRIPT:
        messages.append({"role": "user", "content": text})
        run = agent.run(list(messages), session_state=state)
        async for _ in run:
            pass
        messages.extend(run.new_messages)
    return messages, registry.openai_schemas()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("VIBESHELF_HOME", ".vibeshelf")))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from vibeshelf.agent import intent, planner

    messages, schemas = asyncio.run(conversation(args.home.resolve()))
    prefixes = [
        messages[:cut]
        for cut in range(1, len(messages) + 1)
        if messages[cut - 1]["role"] in ("user", "tool")
        and (cut == len(messages) or messages[cut]["role"] == "assistant")
    ]
    cold: list[float] = []
    warm: list[float] = []
    for prefix in prefixes:
        for _ in range(args.repeat):
            intent._parse_cached.cache_clear()
            planner._json_payload.cache_clear()
            start = time.thread_time()
            planner.plan(prefix, schemas)
            cold.append((time.thread_time() - start) * 1000)
            start = time.thread_time()
            planner.plan(prefix, schemas)
            warm.append((time.thread_time() - start) * 1000)

    def line(name: str, xs: list[float]) -> str:
        xs = sorted(xs)
        p99 = xs[min(len(xs) - 1, int(0.99 * len(xs)))]
        return f"{name:<6} p50 {statistics.median(xs):6.2f} ms   p99 {p99:6.2f} ms   max {xs[-1]:6.2f} ms"

    print(f"planner own CPU time per model call: {len(prefixes)} calls x {args.repeat} repeats")
    print(line("cold", cold))
    print(line("warm", warm))
    print(f"target < 20 ms per call: {'PASS' if max(cold) < 20 else 'FAIL'}")


if __name__ == "__main__":
    main()
