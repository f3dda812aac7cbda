"""Where each built artefact lives under the vibeshelf home folder (``VIBESHELF_HOME``).

One place names every path so ingest, the server and the CLI agree without passing flags around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# The planner's stance judge, in the encoder's folder: its weights hold only for that model's vectors.
STANCE_FILE = "stance.npz"

if TYPE_CHECKING:
    from vibeshelf.settings import Settings


@dataclass(frozen=True)
class Layout:
    home: Path
    # Where the LanceDB tables live when not under ``home``: another path or an object-store URI
    # (s3://, gs://, az://) with its storage options (VIBESHELF_INDEX_URI / _STORAGE_OPTIONS).
    index_uri: str | None = None
    index_storage_options: dict[str, str] | None = field(default=None, hash=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, home: Path | None = None) -> Layout:
        return cls(
            (home or settings.home_dir).expanduser().resolve(),
            index_uri=settings.index_uri,
            index_storage_options={k: v.get_secret_value() for k, v in settings.index_storage_options.items()}
            or None,
        )

    @property
    def lancedb_uri(self) -> str:
        """What ``lancedb.connect`` opens: ``index_uri`` when set, else ``<home>/lancedb``."""
        return self.index_uri or str(self.lancedb)

    @property
    def catalog(self) -> Path:
        """Canonical catalog, one row per book (schema: ``vibeshelf.catalog.CATALOG_SCHEMA``)."""
        return self.home / "catalog.parquet"

    @property
    def ratings(self) -> Path:
        """Explicit ratings normalised to 1-5 (schema: ``vibeshelf.catalog.RATINGS_SCHEMA``)."""
        return self.home / "ratings.parquet"

    @property
    def implicit(self) -> Path:
        """Implicit interactions (Book-Crossing rating 0), kept apart from explicit ratings."""
        return self.home / "implicit.parquet"

    @property
    def ingest_report(self) -> Path:
        return self.home / "ingest_report.json"

    @property
    def lancedb(self) -> Path:
        return self.home / "lancedb"

    @property
    def index_manifest(self) -> Path:
        """JSON naming the live LanceDB table; replaced atomically when a rebuild completes."""
        return self.home / "index.json"

    @property
    def index_leases(self) -> Path:
        """Lock files, one per index table a process has open (shared locks); ingest drops no leased table."""
        return self.home / "index_leases"

    @property
    def embed_cache(self) -> Path:
        """Embeddings keyed by hash(model, document text), reused by reruns and rebuilds."""
        return self.home / "embed_cache"

    @property
    def encoder(self) -> Path:
        """ONNX query encoder: model.onnx + tokenizer.json + encoder.json."""
        return self.home / "encoder"

    @property
    def query_adapter(self) -> Path:
        """Catalog-tuned query adapter written by `vibeshelf tune` (``retrieval.query_adapter``)."""
        return self.home / "query_adapter.npz"

    @property
    def stance(self) -> Path:
        """The stance judge fitted over the query encoder (``agent.reading.stance``): it lives and goes with
        the encoder's folder, since its weights hold only for that model's vectors."""
        return self.encoder / STANCE_FILE

    @property
    def cf(self) -> Path:
        """Collaborative-filtering model fitted from the ratings."""
        return self.home / "cf"

    @property
    def state_db(self) -> Path:
        """DuckDB file for sessions, query log and feedback."""
        return self.home / "state.duckdb"

    def ensure(self) -> Layout:
        self.home.mkdir(parents=True, exist_ok=True)
        return self
