"""`fit_cf(engine="spark")` on goodbooks-mini in Spark local mode (one core, small rank, few sweeps): the
saved model serves readers-also-liked through the usual ReadersAlsoLiked, its neighbours are books the
seed's readers actually share, and the item factors are saved beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from vibeshelf.ingest.cf_fit import fit_cf
from vibeshelf.ingest.spark_als import ALSParams
from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf.config import LIKED_RATING
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked


def test_spark_als_serves_books_the_seeds_readers_share(
    goodbooks_mini_catalog: Layout, tmp_path: Path
) -> None:
    layout = Layout(tmp_path / "home").ensure()
    shutil.copy(goodbooks_mini_catalog.ratings, layout.ratings)  # the shared catalog stays untouched
    params = ALSParams(rank=8, iterations=4, neighbours=30)
    report = fit_cf(layout, engine="spark", spark_master="local[1]", als=params, progress=False)
    assert report.algorithm == "als" and report.history_algorithm == "als"
    assert report.items > 400 and report.neighbours_kept == 30

    model = ReadersAlsoLiked.load(layout)
    assert model.method == "als" and len(model) == report.items
    assert np.load(layout.cf / "item_factors.npy").shape == (report.items, 8)

    ratings = pq.read_table(layout.ratings).to_pydict()
    liked: dict[str, set[str]] = {}
    for user, book, rating in zip(ratings["user_id"], ratings["book_id"], ratings["rating"], strict=True):
        if rating >= LIKED_RATING:
            liked.setdefault(book, set()).add(user)
    seed = max(liked, key=lambda b: len(liked[b]))
    result = model.recommend([seed], k=10)
    assert result.warm_seeds == [seed] and len(result.hits) == 10
    assert seed not in {h.book_id for h in result.hits}
    # co_readers come from the saved liked-by lists: they must match the ratings.
    for hit in result.hits:
        assert hit.co_readers == len(liked[seed] & liked.get(hit.book_id, set()))
    # The neighbours are shared by the seed's readers far more than an average book is.
    shared_all = np.mean([len(liked[seed] & readers) for book, readers in liked.items() if book != seed])
    assert np.mean([h.co_readers for h in result.hits]) > 2 * shared_all
    # A whole history is served from the same table.
    history = model.recommend_history([seed, result.hits[0].book_id], k=5)
    assert history.method == "als" and len(history.hits) == 5
