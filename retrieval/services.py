"""Everything the tools need, opened once per process: index, encoder, CF model, title lookup, priors.

``open_services(settings_or_layout)`` is called by the web app's lifespan (and by the CLI's eval and the
benchmark); tools reach the result as ``ctx.deps`` through ``ToolContext[Services]``.
"""

from __future__ import annotations

import functools
import gc
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_search import BookSearch
from vibeshelf.retrieval.hybrid_search import DEFAULT_FUSION, FusionConfig, HybridSearcher
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, QualityPrior, RerankWeights
from vibeshelf.retrieval.shelf_predictor import ShelfPredictor
from vibeshelf.retrieval.title_lookup import TitleLookup
from vibeshelf.settings import Settings, get_settings

if TYPE_CHECKING:
    from vibeshelf.retrieval.library_import import LibraryMatcher

logger = logging.getLogger(__name__)


@dataclass
class Services:
    layout: Layout
    index: Any  # BookIndex: .table (LanceDB), .manifest
    encoder: Any  # QueryEncoder: .encode(list[str]) -> (n, d) float32, L2-normalised
    search: BookSearch
    titles: TitleLookup
    prior: QualityPrior
    genres: dict[str, int]  # genre -> number of books, for validating genre names
    shelves: ShelfPredictor  # which shelves a query asks for: shelves.predict("cozy mystery")
    source: str | None  # the catalog's id prefix ("goodbooks"), to accept bare native ids
    cf: Any | None = None  # ReloadingReadersAlsoLiked; None when opened with load_cf=False
    rng: random.Random = field(default_factory=random.Random)  # feeling_lucky draws

    @property
    def table(self) -> Any:
        return self.index.table

    @functools.cached_property
    def library_matcher(self) -> LibraryMatcher:
        """Matches a reader's Goodreads/StoryGraph export to the catalog (``retrieval.library_import``).
        Built on first use, from the catalog's ISBNs and the title lookup already held."""
        import pyarrow.parquet as pq

        from vibeshelf.retrieval.library_import import LibraryMatcher

        return LibraryMatcher.from_table(
            pq.read_table(self.layout.catalog, columns=["id", "isbn"]), self.titles
        )


def open_services(
    source: Settings | Layout,
    *,
    fusion: FusionConfig = DEFAULT_FUSION,
    weights: RerankWeights = DEFAULT_WEIGHTS,
    seed: int | None = None,
    load_cf: bool = True,
    query_adapter: bool | None = None,
) -> Services:
    """Open the index, encoder and CF model under ``source``'s home once.

    Raises the index's own "not built" error when there is no index; a missing CF model is logged and
    ``readers_also_liked`` answers by content similarity instead.
    """
    from vibeshelf.retrieval.book_index import BookIndex
    from vibeshelf.retrieval.encoder import QueryEncoder

    layout = source if isinstance(source, Layout) else Layout.from_settings(source)
    index = BookIndex.open(layout)
    encoder: Any = QueryEncoder.load(layout.encoder)
    if query_adapter is None:
        query_adapter = (source if isinstance(source, Settings) else get_settings()).query_adapter
    if query_adapter:
        encoder = _adapted(encoder, layout)
    table = index.table
    searcher = HybridSearcher(table, encoder, fusion)
    catalog = searcher.catalog  # held in memory once, shared by search, lookup and priors
    shelves = ShelfPredictor.from_catalog(encoder, catalog["genres"].to_pylist(), searcher.matrix)
    searcher.shelves = shelves
    prior = QualityPrior.from_catalog(catalog)
    genres: dict[str, int] = {}
    for row in catalog["genres"].to_pylist():
        for genre in row or []:
            genres[genre] = genres.get(genre, 0) + 1
    ids = catalog["id"].to_pylist()
    id_prefix = ids[0].split(":", 1)[0] if ids and ":" in ids[0] else None
    cf = None
    if load_cf:
        # Reloads itself when `vibeshelf fit-cf` swaps in a new model, so it is kept even while there
        # is none yet (every seed is cold until then: content similarity answers).
        from vibeshelf.retrieval.readers_also_liked import ReloadingReadersAlsoLiked

        cf = ReloadingReadersAlsoLiked.load(layout)
        if cf.current() is None:
            logger.warning("no readers-also-liked model at %s yet; content similarity will answer", layout.cf)
    return Services(
        layout=layout,
        index=index,
        encoder=encoder,
        search=BookSearch(searcher, prior, weights),
        titles=TitleLookup.from_table(catalog),
        prior=prior,
        genres=genres,
        shelves=shelves,
        source=id_prefix,
        cf=cf,
        rng=random.Random(seed),
    )


def _adapted(encoder: Any, layout: Layout) -> Any:
    """The encoder behind the tuned query adapter when `vibeshelf tune` wrote one for this index's model."""
    from vibeshelf.retrieval.query_adapter import AdaptedEncoder, QueryAdapter, QueryAdapterError

    if not layout.query_adapter.is_file():
        return encoder
    try:
        adapter = QueryAdapter.load(layout.query_adapter)
        if adapter.model != encoder.info.model:
            raise QueryAdapterError(
                f"{layout.query_adapter} was tuned for {adapter.model}, the index holds {encoder.info.model}; "
                "rerun `vibeshelf tune`"
            )
        return AdaptedEncoder(encoder, adapter)
    except QueryAdapterError as err:
        logger.warning("%s; searching with the base encoder", err)
        return encoder


class LiveServices:
    """The services of the index the manifest names *now*: switches to a rebuilt index without a pause.

    ``vibeshelf ingest`` replaces ``index.json`` atomically when a build completes. Every access checks
    (at most every ``check_every_s``) whether the manifest changed; when it did, the new index, encoder
    and CF model are opened in a background thread while requests keep using the old ones, then swapped
    in with one assignment. In-flight work holds the old objects (and so the old table's lease, see
    ``retrieval.book_index.TableLease``) until it finishes. Attribute access delegates to the current
    :class:`Services`, so tools may hold this object as ``ctx.deps``; :attr:`current` is a snapshot for
    work that wants one index throughout.
    """

    def __init__(
        self, layout: Layout, opener: Any = None, *, check_every_s: float = 0.2, **open_kwargs: Any
    ) -> None:
        import threading

        self._layout = layout
        self._open = opener or (lambda: open_services(layout, **open_kwargs))
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._reloading: threading.Thread | None = None
        self._next_check = 0.0
        self._seen = self._manifest_stamp()
        self._services: Services = self._open()
        self.reloads = 0
        self.reload_error: str | None = None

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        import os

        try:
            st = os.stat(self._layout.index_manifest)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @property
    def current(self) -> Services:
        import time

        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._check_every_s
            self.check()
        return self._services

    def predict_shelves(self, text: str) -> list[tuple[str, float]]:
        """The current index's shelf guesses for a phrase (``ShelfPredictor.predict``): one stable callable
        for readers that outlive a reindex."""
        return self.current.shelves.predict(text)

    def encode_words(self, texts: list[str]) -> Any:
        """The current index's base encoder over ``texts`` (never through the query adapter, which is tuned
        for search): one stable callable for readers of a message's wording that outlive a reindex."""
        encoder = self.current.encoder
        return getattr(encoder, "base", encoder).encode(texts)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names LiveServices itself lacks: everything a Services has.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.current, name)

    def check(self) -> None:
        """Start a background reload when the manifest changed since the last look (never blocks)."""
        import threading

        stamp = self._manifest_stamp()
        if stamp == self._seen or stamp is None:
            return
        with self._lock:
            if self._reloading is not None and self._reloading.is_alive():
                return
            self._seen = stamp
            self._reloading = threading.Thread(target=self._reload, name="index-reload", daemon=True)
            self._reloading.start()

    def wait_reloaded(self, timeout_s: float | None = None) -> None:
        """Check now and wait for a reload in progress (tests, the CLI)."""
        self.check()
        thread = self._reloading
        if thread is not None:
            thread.join(timeout_s)

    def _reload(self) -> None:
        from vibeshelf.retrieval.book_index import read_manifest

        try:
            manifest = read_manifest(self._layout)
            if manifest is None or manifest.table == self._services.index.manifest.table:
                return
            fresh = self._open()
        except Exception as err:  # the old index keeps serving; /healthz shows why
            logger.exception("could not open the rebuilt index; still serving the previous one")
            self.reload_error = f"{type(err).__name__}: {err}"
            return
        self._services = fresh  # one assignment: each request sees the old or the new, whole
        # The server froze start-up's objects out of the collector's sight (web/memory.py); the old index's
        # reference cycles must be collectable again once the requests using it finish.
        gc.unfreeze()
        self.reloads += 1
        self.reload_error = None
        logger.info("switched to index %s", fresh.index.manifest.table)

    def health(self) -> tuple[bool, str]:
        """(usable, reason): a one-row read of the live table, which fails once its files are gone."""
        services = self.current
        try:
            services.table.search().select(["id"]).limit(1).to_list()
        except Exception as err:
            self.check()  # the manifest may already name a usable table
            return False, f"index table {services.index.manifest.table} is unusable: {str(err)[:300]}"
        return True, "ok"
