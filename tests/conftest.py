"""Shared fixtures. Helpers add theirs here; keep each one small and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

# The real data lives beside the checkout (../shared/data), never inside it.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` next to the checkout; tests that need it are skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def goodbooks_mini_catalog(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """A Layout whose catalog/ratings are goodbooks-mini, normalised once per session (about 2 s)."""
    from vibeshelf.ingest.normalize import normalize
    from vibeshelf.layout import Layout

    layout = Layout(tmp_path_factory.mktemp("goodbooks-mini-home")).ensure()
    normalize("goodbooks", shared_data / "goodbooks-mini", layout)
    return layout


@pytest.fixture(scope="session")
def goodbooks_mini_index(goodbooks_mini_catalog, request: pytest.FixtureRequest):
    """The goodbooks-mini home with its LanceDB index, ONNX encoder and CF model, built once per session.

    Retrieval, tool and route tests share it read-only: do not write into it. The exported encoder and
    the embedding cache are kept in pytest's cache folder (.pytest_cache, git-ignored) between sessions,
    so only the first run pays for the ONNX export and the embeddings (minutes on a busy 2-core box);
    the index itself is still built from scratch every session.
    """
    import shutil

    from vibeshelf.agent.reading.stance import StanceJudge
    from vibeshelf.ingest.cf_fit import fit_cf
    from vibeshelf.ingest.index import build_index

    layout = goodbooks_mini_catalog
    reusable = {"encoder": layout.encoder, "embed_cache": layout.embed_cache}
    cache = getattr(request.config, "cache", None)  # absent under `-p no:cacheprovider`
    keep = cache.mkdir("vibeshelf-goodbooks-mini") if cache else None
    for name, path in reusable.items():
        if keep and (keep / name).is_dir():
            shutil.copytree(keep / name, path, dirs_exist_ok=True)
    build_index(layout, progress=False)
    StanceJudge.beside_encoder(layout.encoder)  # as ingest does: apps over it never fit it again
    for name, path in reusable.items():
        if keep:
            shutil.copytree(path, keep / name, dirs_exist_ok=True)
    fit_cf(layout)
    return layout


@pytest.fixture(scope="session")
def mini_services(goodbooks_mini_index):
    """Retrieval services (index, encoder, CF, title lookup) opened once over the goodbooks-mini home."""
    from vibeshelf.retrieval.services import open_services

    return open_services(goodbooks_mini_index, seed=0)


@pytest.fixture(scope="session")
def exported_encoder(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The packaged all-MiniLM-L6-v2 exported to ONNX and parity-checked (about 15-30 s the first time).

    The export is kept in pytest's cache folder between sessions (``export_encoder`` redoes it when
    the weights or the export format change); tests get a private copy and copy it further into
    their layouts with ``index_fixtures.install_encoder``.
    """
    import shutil

    from vibeshelf.agent.reading.stance import StanceJudge
    from vibeshelf.ingest.embedder import default_model_path, resolve_max_seq_len
    from vibeshelf.ingest.onnx_export import export_encoder

    folder = tmp_path_factory.mktemp("encoder") / "encoder"
    cache = getattr(request.config, "cache", None)  # absent under `-p no:cacheprovider`
    kept = cache.mkdir("vibeshelf-encoder") / "encoder" if cache else folder
    export_encoder(str(default_model_path()), kept, max_seq_len=resolve_max_seq_len(None))
    StanceJudge.beside_encoder(kept)  # so copies of it carry the fitted judge
    if kept != folder:
        shutil.copytree(kept, folder)
    return folder


LIVE_API_KEY = "live-test-key"


@pytest.fixture(scope="session")
def live_vibeshelf(goodbooks_mini_index):
    """The real app (``vibeshelf.web.app:create_app``) under uvicorn on a free loopback port, over the
    goodbooks-mini home, with API keys on: send ``LIVE_API_KEY`` (``from conftest import LIVE_API_KEY``).

    Read-only for tests (MCP over HTTP, the tool plugin, the examples/ assistant); yields
    ``chat_server.Server`` (``.url``, ``.output()``).
    """
    import json

    from chat_server import uvicorn_server

    env = {"VIBESHELF_HOME": str(goodbooks_mini_index.home), "VIBESHELF_API_KEYS": json.dumps([LIVE_API_KEY])}
    with uvicorn_server(env, app="vibeshelf.web.app:create_app", timeout_s=120) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session (tests/postgres_cluster.py); yields its admin URL."""
    from postgres_cluster import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """An empty PostgreSQL database of this test's own."""
    from postgres_cluster import fresh_database

    return fresh_database(postgres_server)


@pytest.fixture(params=["duckdb", "postgres"])
def state_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a state test keeps its state: a DuckDB file, then a PostgreSQL database (both backends)."""
    if request.param == "duckdb":
        return tmp_path / "state.duckdb"
    return request.getfixturevalue("postgres_url")
