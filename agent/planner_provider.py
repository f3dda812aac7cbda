"""The offline planner as a litellm custom provider: ``litellm.acompletion(model="vibeshelf/planner", ...)``.

So the agent loop calls the planner exactly as it calls a real model: same messages, same tool schemas,
OpenAI-format responses with ``tool_calls`` (or streamed chunks with tool-call deltas, then text deltas).
No network, deterministic, a few milliseconds of its own time per call.

Vague words are read against the catalog (``vibeshelf.layout.Layout.catalog``) when one is built:
"recent" counts back from its newest year, "less well known" means under its median ratings count,
"popular" over its 90th percentile (each rounded to one significant figure). Without a catalog the
goodbooks defaults in :class:`~vibeshelf.agent.intent.ParseConfig` apply.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm fetches prices at import otherwise

import litellm
from litellm import CustomLLM
from litellm.types.utils import (
    ChatCompletionMessageToolCall,
    Function,
    GenericStreamingChunk,
    Message,
    ModelResponse,
    Usage,
)

from vibeshelf.agent.intent import ParseConfig
from vibeshelf.agent.planner import AnswerStep, PlannerConfig, PlannerStep, ToolCallsStep, plan

log = logging.getLogger(__name__)

PROVIDER = "vibeshelf"
PLANNER_MODEL = f"{PROVIDER}/planner"
_TEXT_CHUNK = 48  # characters per streamed text delta (cut at a space)


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


def default_config() -> PlannerConfig:
    """Planner settings for this process: the catalog under ``VIBESHELF_HOME`` sets the vague words."""
    from vibeshelf.layout import Layout
    from vibeshelf.settings import get_settings

    return PlannerConfig(parse=catalog_parse_config(Layout(get_settings().home_dir).catalog))


# --- the provider ---------------------------------------------------------------------------------


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def _prompt_chars(messages: list[Any]) -> int:
    total = 0
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", None)
        total += len(content) if isinstance(content, str) else len(str(content or ""))
    return total


def _text_pieces(text: str) -> Iterator[str]:
    """Text deltas of about ``_TEXT_CHUNK`` characters, cut after a space or newline."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _TEXT_CHUNK)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


class PlannerProvider(CustomLLM):
    """``litellm.CustomLLM`` answering with :func:`vibeshelf.agent.planner.plan`."""

    def __init__(self, config: PlannerConfig | None = None) -> None:
        super().__init__()
        self._config = config
        # The planner's own time on the latest call (wall and this thread's CPU), for benchmarks and tests.
        self.last_plan_ms = 0.0
        self.last_plan_cpu_ms = 0.0

    def set_config(self, config: PlannerConfig | None) -> None:
        self._config = config

    @property
    def config(self) -> PlannerConfig:
        return self._config if self._config is not None else default_config()

    def decide(self, messages: list[Any], optional_params: dict[str, Any] | None) -> PlannerStep:
        """Plan the next step; a planner bug answers with an apology instead of failing the chat."""
        tools = (optional_params or {}).get("tools")
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            step = plan(messages, tools, self.config)
        except Exception:
            log.exception("planner failed")
            step = AnswerStep(text="Sorry, I lost my place in this conversation. Could you say that again?")
        self.last_plan_ms = (time.perf_counter() - start) * 1000
        self.last_plan_cpu_ms = (time.thread_time() - cpu) * 1000
        return step

    def _usage(self, messages: list[Any], step: PlannerStep) -> dict[str, int]:
        prompt = _estimate_tokens("x" * _prompt_chars(messages))
        if isinstance(step, ToolCallsStep):
            completion = sum(_estimate_tokens(c.name + c.arguments_json()) for c in step.calls)
        else:
            completion = _estimate_tokens(step.text)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _response(self, model: str, messages: list[Any], kwargs: dict[str, Any]) -> ModelResponse:
        step = self.decide(messages, kwargs.get("optional_params"))
        response: ModelResponse = kwargs.get("model_response") or ModelResponse()
        choice = response.choices[0]
        if isinstance(step, ToolCallsStep):
            choice.message = Message(
                role="assistant",
                content=None,
                tool_calls=[
                    ChatCompletionMessageToolCall(
                        id=c.id, type="function", function=Function(name=c.name, arguments=c.arguments_json())
                    )
                    for c in step.calls
                ],
            )
            choice.finish_reason = "tool_calls"
        else:
            choice.message = Message(role="assistant", content=step.text)
            choice.finish_reason = "stop"
        response.model = model
        response.created = int(time.time())
        setattr(response, "usage", Usage(**self._usage(messages, step)))  # noqa: B010 - pydantic extra field
        return response

    def _chunks(self, messages: list[Any], kwargs: dict[str, Any]) -> Iterator[GenericStreamingChunk]:
        step = self.decide(messages, kwargs.get("optional_params"))
        if isinstance(step, ToolCallsStep):
            for index, call in enumerate(step.calls):
                yield GenericStreamingChunk(
                    text="",
                    tool_use={
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments_json()},
                        "index": index,
                    },
                    is_finished=False,
                    finish_reason="",
                    usage=None,
                    index=0,
                )
            finish = "tool_calls"
        else:
            for piece in _text_pieces(step.text):
                yield GenericStreamingChunk(
                    text=piece, tool_use=None, is_finished=False, finish_reason="", usage=None, index=0
                )
            finish = "stop"
        yield GenericStreamingChunk(
            text="",
            tool_use=None,
            is_finished=True,
            finish_reason=finish,
            usage=self._usage(messages, step),  # type: ignore[typeddict-item]
            index=0,
        )

    # litellm passes everything by keyword; only ``messages`` and ``model`` matter here.
    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return self._response(model, messages, kwargs)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return self._response(model, messages, kwargs)

    def streaming(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:  # type: ignore[override]
        yield from self._chunks(messages, kwargs)

    async def astreaming(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(messages, kwargs):
            yield chunk


def register_planner(config: PlannerConfig | None = None) -> PlannerProvider:
    """Make ``vibeshelf/planner`` a litellm model (idempotent); returns the registered provider.

    A ``config`` given here replaces the registered provider's; without one it keeps its own (or reads
    the catalog under ``VIBESHELF_HOME`` on each call).
    """
    for item in litellm.custom_provider_map:
        if item.get("provider") == PROVIDER and isinstance(item.get("custom_handler"), PlannerProvider):
            handler: PlannerProvider = item["custom_handler"]
            if config is not None:
                handler.set_config(config)
            return handler
    handler = PlannerProvider(config)
    litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": handler})
    return handler
