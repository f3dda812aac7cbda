"""The offline planner behind the same :class:`~vibeshelf.agent.llm.LLMClient` seam as a real model.

:meth:`PlannerClient.stream` reads the OpenAI-format messages and the offered tool schemas, plans the next
step with :func:`vibeshelf.agent.planner.plan`, and streams it as the deltas a provider would send: tool
calls (one delta each, with ids), or the answer text in short pieces, then a finish reason and a usage
estimate. No litellm, no network, deterministic, a few milliseconds per call.

Vague words are read against the catalog (``Layout(settings.home_dir).catalog``) when one is built:
"recent" counts back from its newest year, "less well known" means under its median ratings count,
"popular" over its 90th percentile (each rounded to one significant figure). Without a catalog the
goodbooks defaults in :class:`~vibeshelf.agent.intent.ParseConfig` apply.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from vibeshelf.agent.events import Usage
from vibeshelf.agent.intent import ParseConfig
from vibeshelf.agent.llm import PLANNER_MODEL, LLMDelta, ProviderError, ToolCallDelta
from vibeshelf.agent.planner import PlannerConfig, PlannerStep, ToolCallsStep, plan
from vibeshelf.agent.reading.reader import KindGuesser, catalog_reader
from vibeshelf.agent.reading.stance import StanceGuesser

log = logging.getLogger(__name__)

# Characters per streamed text delta (cut at a space). The planner's text is ready at once, so finer pieces
# show nothing sooner; each one is an SSE frame written to the socket, a measurable cost per answer.
TEXT_CHUNK = 1024


# --- configuration from the catalog ---------------------------------------------------------------

_stats_cache: dict[tuple[str, float], ParseConfig] = {}


def _one_figure(value: float) -> int:
    if value <= 0:
        return 0
    magnitude = 10 ** math.floor(math.log10(value))
    return int(round(value / magnitude) * magnitude)


def catalog_parse_config(catalog: Path) -> ParseConfig:
    """``ParseConfig`` fitted to a built catalog (cached per file version); defaults when there is none."""
    try:
        mtime = catalog.stat().st_mtime
    except OSError:
        return ParseConfig()
    key = (str(catalog), mtime)
    if key not in _stats_cache:
        _stats_cache.clear()
        _stats_cache[key] = _fit(catalog)
    return _stats_cache[key]


def _fit(catalog: Path) -> ParseConfig:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(catalog, columns=["year", "ratings_count"])
    except Exception as exc:  # a half-written or foreign file: the defaults still work
        log.warning("planner: cannot read %s (%s); using default thresholds", catalog, exc)
        return ParseConfig()
    defaults = ParseConfig()
    latest = pc.max(table["year"]).as_py()
    counts = table["ratings_count"].drop_null()
    if len(counts) == 0:
        return defaults.model_copy(update={"latest_year": latest or defaults.latest_year})
    median, p90 = pc.quantile(counts, q=[0.5, 0.9]).to_pylist()
    return defaults.model_copy(
        update={
            "latest_year": int(latest) if latest is not None else defaults.latest_year,
            "obscure_max_ratings": max(1, _one_figure(median)),
            "popular_min_ratings": max(1, _one_figure(p90)),
        }
    )


# --- the client -----------------------------------------------------------------------------------


def _estimate_tokens(chars: int) -> int:
    return max(1, chars // 4) if chars else 0


def _prompt_chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        total += len(content) if isinstance(content, str) else len(str(content or ""))
    return total


def text_pieces(text: str) -> Iterator[str]:
    """Text deltas of about ``TEXT_CHUNK`` characters, cut after a space or newline."""
    start = 0
    while start < len(text):
        end = min(len(text), start + TEXT_CHUNK)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


class PlannerClient:
    """An :class:`~vibeshelf.agent.llm.LLMClient` answering every model name with the offline planner.

    ``config``: fixed planning knobs; without one, the catalog under ``catalog`` fits the vague words
    (re-read when the file changes, so a reindex is picked up).
    """

    def __init__(
        self,
        config: PlannerConfig | None = None,
        *,
        catalog: Path | None = None,
        kinds: KindGuesser | None = None,
        stance: StanceGuesser | None = None,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._kinds = kinds  # the shelf guesser for refused kinds no word list covers
        self._stance = stance  # the judge of refusals no cue marks
        # The planner's own time on the latest call (wall and this thread's CPU), for benchmarks and tests.
        self.last_plan_ms = 0.0
        self.last_plan_cpu_ms = 0.0

    @property
    def config(self) -> PlannerConfig:
        if self._config is not None:
            return self._config
        if self._catalog is None:
            return PlannerConfig()
        return PlannerConfig(parse=catalog_parse_config(self._catalog))

    def decide(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> PlannerStep:
        """Plan the next step. A planner bug is a failed model call (``ProviderError``, code ``planner_failed``):
        the reader gets a clear error event and evaluations count it, where an apology would pass for an
        answer."""
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            config = self.config
            step = plan(
                messages,
                tools,
                config,
                catalog_reader(self._catalog, config.parse, self._kinds, self._stance),
            )
        except Exception as exc:
            log.exception("planner failed")
            raise ProviderError(
                PLANNER_MODEL, "planner_failed", "the offline planner could not read this conversation"
            ) from exc
        self.last_plan_ms = (time.perf_counter() - start) * 1000
        self.last_plan_cpu_ms = (time.thread_time() - cpu) * 1000
        return step

    def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        return self._stream(messages, tools)

    async def _stream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[LLMDelta]:
        step = self.decide(messages, tools)
        if isinstance(step, ToolCallsStep):
            for index, call in enumerate(step.calls):
                yield LLMDelta(
                    tool_calls=[
                        ToolCallDelta(
                            index=index, id=call.id, name=call.name, arguments=call.arguments_json()
                        )
                    ]
                )
            completion = sum(len(c.name) + len(c.arguments_json()) for c in step.calls)
            finish = "tool_calls"
        else:
            for piece in text_pieces(step.text):
                yield LLMDelta(text=piece)
            completion = len(step.text)
            finish = "stop"
        prompt = _estimate_tokens(_prompt_chars(messages))
        done = _estimate_tokens(completion)
        yield LLMDelta(
            finish_reason=finish,
            usage=Usage(prompt_tokens=prompt, completion_tokens=done, total_tokens=prompt + done),
        )
