"""Everything the tools need, opened once per process: index, encoder, CF model, title lookup, priors.

``open_services(settings_or_layout)`` is called by the web app's lifespan (and by the CLI's eval and the
benchmark); tools reach the result as ``ctx.deps`` through ``ToolContext[Services]``.
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_search import BookSearch
from vibeshelf.retrieval.hybrid_search import DEFAULT_FUSION, FusionConfig, HybridSearcher
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, QualityPrior, RerankWeights
from vibeshelf.retrieval.title_lookup import TitleLookup
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext

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

    def context(self, request_id: str | None = None) -> ToolContext[Services]:
        return ToolContext(deps=self, request_id=request_id)


def open_services(
    source: Settings | Layout,
    *,
    fusion: FusionConfig = DEFAULT_FUSION,
    weights: RerankWeights = DEFAULT_WEIGHTS,
    seed: int | None = None,
    load_cf: bool = True,
) -> Services:
    """Open the index, encoder and CF model under ``source``'s home once.

    Raises the index's own "not built" error when there is no index; a missing CF model is logged and
    ``readers_also_liked`` answers by content similarity instead.
    """
    from vibeshelf.retrieval.book_index import BookIndex
    from vibeshelf.retrieval.encoder import QueryEncoder

    layout = source if isinstance(source, Layout) else Layout(source.home_dir)
    index = BookIndex.open(layout)
    encoder = QueryEncoder.load(layout.encoder)
    table = index.table
    searcher = HybridSearcher(table, encoder, fusion)
    catalog = searcher.catalog  # held in memory once, shared by search, lookup and priors
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
        source=id_prefix,
        cf=cf,
        rng=random.Random(seed),
    )
