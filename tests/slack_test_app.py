"""A test-only vibeshelf app for the Slack tests: the chat test app's shelf and scripted model, with the
real Slack route, bot, session store and agent loop, wired exactly as ``web/app.py`` wires them.

Run by the tests as a real uvicorn process::

    python -m uvicorn slack_test_app:create_app --factory --app-dir tests --port PORT

Environment (besides ``VIBESHELF_*``, e.g. ``VIBESHELF_SLACK_API_BASE`` pointing at the fake Slack):

* ``SLACK_TEST_MODEL=scripted`` (default): chat_test_app's scripted model (``stall-model`` in a message
  blocks it, ``slow-text`` streams the answer slowly, one line every half second).
* ``SLACK_TEST_MODEL=settings``: the model from settings through litellm (e.g. ``openai/fake`` at
  ``VIBESHELF_API_BASE``), with the offline planner as its last resort, as in production. A message
  containing ``planner-off`` makes the planner fail too, so a provider failure ends the answer with an
  error event.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from chat_test_app import ScriptedModel, shelf_registry
from fastapi import FastAPI

from vibeshelf.agent.llm import PLANNER_MODEL, LLMDelta, ProviderError
from vibeshelf.agent.loop import Agent, default_client
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext
from vibeshelf.web.chat_routes import install_chat, open_chat
from vibeshelf.web.errors import install_error_handlers
from vibeshelf.web.slack.bot import SlackBot
from vibeshelf.web.slack.routes import install_slack


class LineScriptedModel(ScriptedModel):
    """chat_test_app's scripted model, with each sentence on its own line when ``slow-text`` is asked
    for: the grounder releases whole lines, so only then does the text reach Slack piece by piece."""

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        user = next(m for m in reversed(messages) if m["role"] == "user")
        lines = "slow-text" in str(user.get("content") or "")
        async for delta in super().stream(model, messages, tools):
            if lines and delta.text:
                delta = delta.model_copy(update={"text": delta.text.rstrip() + "\n"})
            yield delta


class SwitchablePlanner:
    """The settings' models as the app routes them (the planner or litellm); the offline planner 'fails'
    for ``planner-off`` messages."""

    def __init__(self, settings: Settings) -> None:
        self._inner = default_client(settings)

    def warm_up(self) -> None:
        self._inner.warm_up()

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        user = next(m for m in reversed(messages) if m["role"] == "user")
        if model == PLANNER_MODEL and "planner-off" in str(user.get("content") or ""):
            raise ProviderError(model, "provider_error", "the planner is switched off in this test")
        async for delta in self._inner.stream(model, messages, tools):
            yield delta


def create_app() -> FastAPI:
    settings = Settings()
    layout = Layout(settings.home_dir).ensure()
    mode = os.environ.get("SLACK_TEST_MODEL", "scripted")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        llm: Any = LineScriptedModel() if mode == "scripted" else SwitchablePlanner(settings)
        agent = Agent(shelf_registry(), ToolContext(deps=None), settings, llm=llm)
        agent.warm_up()
        app.state.settings = settings
        app.state.chat = open_chat(settings, layout, agent)
        app.state.slack = SlackBot.open(settings, app.state.chat.store, agent)
        if app.state.slack is not None:
            await app.state.slack.start()
        try:
            yield
        finally:
            if app.state.slack is not None:
                await app.state.slack.aclose()
            app.state.chat.close()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    install_chat(app, settings)
    install_slack(app, settings)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "pid": str(os.getpid())}

    @app.get("/test/slack-sessions/{session_id}")
    async def slack_session(session_id: str) -> Any:
        # Test-only view: Slack's sessions are no HTTP credential's, so /v1/sessions answers 404 for them.
        from vibeshelf.web.chat_routes import SessionView

        stored = await app.state.chat.store.get(session_id, history_turns=settings.session_max_turns)
        assert stored is not None and stored.owner == "slack"
        return SessionView.of(stored, settings.session_idle_expiry_s)

    return app
