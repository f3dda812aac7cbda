"""The model seam: one streamed chat completion with tools, as typed deltas; the single place that calls litellm.

The loop talks to an :class:`LLMClient` (``stream(model, messages, tools)``) and never sees litellm
types, so a scripted fake model can stand in for loop-logic tests. :class:`ModelRouter` sends the
offline planner's model name to :class:`~vibeshelf.agent.planner_client.PlannerClient` (no litellm) and
every other name to :class:`LiteLLMClient`. Provider failures of any kind come
out as :class:`ProviderError`; deadlines are enforced by the loop, the same for every client.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from typing import Any, Protocol

from pydantic import BaseModel, Field

from vibeshelf.agent.events import Usage
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)

PLANNER_MODEL = "vibeshelf/planner"


class ToolCallDelta(BaseModel):
    """One fragment of a streamed tool call; fragments with the same ``index`` belong together."""

    index: int | None = None
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class LLMDelta(BaseModel):
    """One streamed chunk, reduced to what the loop uses."""

    text: str = ""
    tool_calls: list[ToolCallDelta] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


class ProviderError(Exception):
    """The model call failed: rate limit, server error, timeout, refused connection, bad response."""

    def __init__(self, model: str, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{model}: {code}: {message}")
        self.model = model
        self.code = code
        self.message = message
        self.status = status


class LLMClient(Protocol):
    """What the loop needs from a model: an async stream of deltas for one completion."""

    def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        """Start one streamed completion. Raises ProviderError (possibly mid-stream) on failure.

        ``force`` names the one tool the model must call this time (OpenAI's named ``tool_choice``; servers
        that constrain output by the tool's schema make even a small model write a valid call)."""
        ...


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (litellm wraps httpx's, which wraps the OS's)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 10:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _refused(exc: BaseException) -> bool:
    """A connection that could not be made: refused, no route, name not resolved.

    litellm reports it as an InternalServerError (500) "Connection error."; the cause says what it was.
    """
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError) or type(e).__name__ in ("ConnectError", "gaierror"):
            return True
    return False


def _cut_short(exc: BaseException) -> bool:
    """The stream ended before the model finished (litellm raises this after a 200)."""
    return any("before a finish_reason" in str(e) for e in _chain(exc))


def _error_code(exc: BaseException) -> tuple[str, int | None]:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    if status == 429 or "RateLimit" in name:
        return "rate_limited", 429
    if _cut_short(exc):
        return "truncated", None
    if "Timeout" in name:
        return "timeout", status if isinstance(status, int) else None
    if "Connection" in name or _refused(exc):
        return "unreachable", None
    if isinstance(status, int) and status >= 500:
        return "server_error", status
    if isinstance(status, int) and status in (401, 403):
        return "unauthorized", status
    if isinstance(status, int) and 400 <= status < 500:
        return "bad_request", status
    return "provider_error", status if isinstance(status, int) else None


def provider_error(model: str, exc: BaseException) -> ProviderError:
    code, status = _error_code(exc)
    # litellm messages can be long and repeat the request; the first line is the useful part.
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return ProviderError(model, code, message, status)


def _litellm() -> Any:
    """litellm, imported on the first provider call (seconds and ~135 MB: never for the planner alone)."""
    # Without this litellm fetches its price list from GitHub at import time (no network here).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback" banner on every provider error
    return litellm


def _delta_of(chunk: Any) -> LLMDelta:
    usage = getattr(chunk, "usage", None)
    out = LLMDelta(
        usage=Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            total_tokens=getattr(usage, "total_tokens", 0) or 0,
        )
        if usage
        else None
    )
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return out
    choice = choices[0]
    delta = getattr(choice, "delta", None)
    out.finish_reason = getattr(choice, "finish_reason", None)
    if delta is None:
        return out
    out.text = getattr(delta, "content", None) or ""
    for call in getattr(delta, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        out.tool_calls.append(
            ToolCallDelta(
                index=getattr(call, "index", None),
                id=getattr(call, "id", None) or None,
                name=getattr(function, "name", None) or None,
                arguments=getattr(function, "arguments", None) or "",
            )
        )
    return out


class LiteLLMClient:
    """Real providers: ``litellm.acompletion(stream=True)`` with settings applied."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _kwargs(self, model: str) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            # The HTTP client's read timeout holds for the first token too; the loop cuts both sooner.
            "timeout": max(s.llm_timeout_s, s.first_token_timeout_s),
            "num_retries": s.llm_retries,
            "max_tokens": s.max_tokens,
        }
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        # The base URL and key belong to the configured model only; fallbacks bring their own (env).
        if model == s.model:
            if s.api_base:
                kwargs["api_base"] = s.api_base
            if s.api_key is not None:
                kwargs["api_key"] = s.api_key.get_secret_value()
            elif s.api_base and model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
                # llama.cpp / vLLM / Ollama servers take any key, but the OpenAI client insists on one.
                kwargs["api_key"] = "no-key"
        return kwargs

    def warm_up(self) -> None:
        """Import litellm now (seconds, once per process), not on a first request."""
        _litellm()

    def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        # The import happens here, before the caller starts timing the stream, so a cold process
        # does not mistake litellm's import time for a provider that hangs.
        return self._stream(_litellm(), model, messages, tools, force)

    async def _stream(
        self,
        litellm: Any,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None,
    ) -> AsyncIterator[LLMDelta]:
        # Without a tool_choice llama-cpp-python's chatml-function-calling leaves the tools out of the prompt.
        choice: str | dict[str, Any] | None = "auto" if tools else None
        if tools and force:
            choice = {"type": "function", "function": {"name": force}}
        try:
            response = await litellm.acompletion(
                model=model,
                messages=messages,
                tools=tools or None,
                tool_choice=choice,
                stream=True,
                stream_options={"include_usage": True},
                **self._kwargs(model),
            )
        except Exception as exc:
            raise provider_error(model, exc) from exc
        try:
            async for chunk in response:
                yield _delta_of(chunk)
        except Exception as exc:
            raise provider_error(model, exc) from exc
        finally:
            # Closing the response releases the HTTP connection when the caller stops early.
            close = getattr(response, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # closing a broken stream may itself fail; nothing to do
                    log.debug("closing the %s stream failed", model, exc_info=True)


class ModelRouter:
    """The agent's default client: the offline planner for ``PLANNER_MODEL``, litellm for the rest.

    litellm is imported only when a provider model is configured (``warm_up``) or called.
    """

    def __init__(self, settings: Settings, planner: LLMClient, provider: LLMClient | None = None) -> None:
        self.settings = settings
        self.planner = planner
        self.provider = provider or LiteLLMClient(settings)

    def warm_up(self) -> None:
        if any(m != PLANNER_MODEL for m in [self.settings.model, *self.settings.fallback_models]):
            warm = getattr(self.provider, "warm_up", None)
            if warm is not None:
                warm()

    def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        client = self.planner if model == PLANNER_MODEL else self.provider
        return client.stream(model, messages, tools, force)
