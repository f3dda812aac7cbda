"""fit_cf -> saved model -> ReadersAlsoLiked: round trip, cold seeds, avoid ids, co-reader counts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vibeshelf.ingest.catalog import IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.cf_fit import fit_cf
from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf_config import CFConfig
from vibeshelf.retrieval.cf_models import CFDataError
from vibeshelf.retrieval.cf_store import CFModelMissing
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked

# Tiny world: fantasy readers f0-f5 and crime readers c0-c3 never share a liked book.
FANTASY = ["t:hobbit", "t:earthsea", "t:narnia"]
CRIME = ["t:poirot", "t:marlowe"]


def tiny_ratings() -> list[tuple[str, str, int]]:
    rows = [(f"f{u}", book, 5) for u in range(6) for book in ("t:hobbit", "t:earthsea")]
    rows += [(f"f{u}", "t:narnia", 4) for u in (0, 1, 2)]
    rows += [("f3", "t:narnia", 2)]  # read it, did not like it: not a co-reader
    rows += [(f"c{u}", book, 4) for u in range(4) for book in CRIME]
    rows += [("c0", "t:once", 5)]  # a single rating: too few for the model
    return rows


def write_ratings(layout: Layout, rows: list[tuple[str, str, int]]) -> None:
    layout.ensure()
    users, books, ratings = zip(*rows, strict=True)
    table = pa.table({"user_id": users, "book_id": books, "rating": ratings}, schema=RATINGS_SCHEMA)
    pq.write_table(table, layout.ratings)


CONFIG = CFConfig(min_item_ratings=2, l2=1.0, neighbours=10)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "home")
    write_ratings(layout, tiny_ratings())
    return layout


@pytest.mark.parametrize("algorithm", ["ease", "item_knn"])
def test_round_trip_recommends_the_seeds_reader_group(layout: Layout, algorithm: str) -> None:
    report = fit_cf(layout, algorithm=algorithm, config=CONFIG, progress=False)
    assert report.algorithm == algorithm and report.path == str(layout.cf)
    assert report.ratings == len(tiny_ratings()) and report.users == 10
    assert report.books_rated == 6 and report.items == 5 and report.cold_books == 1
    meta = json.loads((layout.cf / "meta.json").read_text())
    assert meta["algorithm"] == algorithm and meta["items"] == 5

    cf = ReadersAlsoLiked.load(layout)
    assert cf.method == algorithm and len(cf) == 5 and cf.knows("t:hobbit") and not cf.knows("t:once")
    result = cf.recommend(["t:hobbit"], k=10)
    assert result.method == algorithm and result.cold_seeds == [] and result.warm_seeds == ["t:hobbit"]
    ids = [h.book_id for h in result.hits]
    assert set(ids) == {"t:earthsea", "t:narnia"}  # no crime book, never the seed
    assert ids[0] == "t:earthsea"  # all six hobbit fans liked it, only three liked narnia
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_co_readers_count_readers_who_liked_seed_and_hit(layout: Layout) -> None:
    fit_cf(layout, algorithm="ease", config=CONFIG, progress=False)
    cf = ReadersAlsoLiked.load(layout)
    co = {h.book_id: h.co_readers for h in cf.recommend(["t:hobbit"]).hits}
    # narnia: f0-f2 liked both; f3 rated narnia 2 so does not count.
    assert co == {"t:earthsea": 6, "t:narnia": 3}
    # Two seeds: readers who liked either seed. Here the union of hobbit and narnia fans is f0-f5.
    co = {h.book_id: h.co_readers for h in cf.recommend(["t:narnia", "t:hobbit"]).hits}
    assert co == {"t:earthsea": 6}


def test_cold_seeds_are_reported_not_guessed(layout: Layout) -> None:
    fit_cf(layout, config=CONFIG, progress=False)
    cf = ReadersAlsoLiked.load(layout)
    result = cf.recommend(["t:unknown", "t:poirot", "t:once", "t:poirot"], k=5)
    assert result.cold_seeds == ["t:unknown", "t:once"]  # unknown id; one rating only
    assert result.warm_seeds == ["t:poirot"]
    assert [h.book_id for h in result.hits] == ["t:marlowe"]
    all_cold = cf.recommend(["t:once", "t:nope"])
    assert all_cold.hits == [] and all_cold.warm_seeds == [] and all_cold.cold_seeds == ["t:once", "t:nope"]
    assert all_cold.method == "ease"


def test_avoid_ids_and_seeds_are_never_returned(layout: Layout) -> None:
    fit_cf(layout, config=CONFIG, progress=False)
    cf = ReadersAlsoLiked.load(layout)
    ids = [h.book_id for h in cf.recommend(["t:hobbit"], avoid_ids=["t:earthsea", "t:nope"]).hits]
    assert ids == ["t:narnia"]
    assert cf.recommend(["t:hobbit", "t:earthsea"], avoid_ids=["t:narnia"]).hits == []
    assert len(cf.recommend(["t:hobbit"], k=1).hits) == 1


def test_popularity_model_ranks_by_liked_count(layout: Layout) -> None:
    fit_cf(layout, algorithm="popularity", config=CONFIG, progress=False)
    cf = ReadersAlsoLiked.load(layout)
    result = cf.recommend(["t:poirot"], avoid_ids=["t:hobbit"], k=3)
    assert result.method == "popularity"
    assert [h.book_id for h in result.hits] == ["t:earthsea", "t:marlowe", "t:narnia"]
    assert result.hits[0].score == 1.0 and result.hits[1].co_readers == 4


def test_implicit_interactions_feed_ease_but_not_co_readers(layout: Layout) -> None:
    # Many readers shelved marlowe and narnia together without rating them.
    implicit = pa.table(
        {"user_id": [f"i{u}" for u in range(8) for _ in (0, 1)], "book_id": ["t:marlowe", "t:narnia"] * 8},
        schema=IMPLICIT_SCHEMA,
    )
    pq.write_table(implicit, layout.implicit)
    report = fit_cf(layout, config=CONFIG, progress=False)
    assert report.implicit == 16 and report.users == 18
    cf = ReadersAlsoLiked.load(layout)
    hits = {h.book_id: h for h in cf.recommend(["t:marlowe"]).hits}
    assert "t:narnia" in hits and hits["t:narnia"].co_readers == 0  # co-shelved, never co-liked
    assert hits["t:poirot"].co_readers == 4


def test_refit_replaces_the_model_and_cleans_interrupted_runs(layout: Layout) -> None:
    fit_cf(layout, algorithm="item_knn", config=CONFIG, progress=False)
    stale = layout.home / ".cf-tmp-deadbeef"  # what an interrupted fit leaves behind
    stale.mkdir()
    (stale / "neighbours_indptr.npy").write_bytes(b"partial")
    fit_cf(layout, algorithm="ease", config=CONFIG, progress=False)
    assert ReadersAlsoLiked.load(layout).method == "ease"
    assert sorted(p.name for p in layout.home.iterdir()) == ["cf", "ratings.parquet"]


def test_missing_or_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "empty").ensure()
    with pytest.raises(FileNotFoundError, match=r"ratings.parquet not found: run `vibeshelf ingest`"):
        fit_cf(layout, progress=False)
    with pytest.raises(CFModelMissing, match=r"no CF model at .*vibeshelf fit-cf"):
        ReadersAlsoLiked.load(layout)

    write_ratings(layout, [("u1", "t:a", 5), ("u2", "t:a", 6)])
    with pytest.raises(CFDataError, match=r"ratings.parquet row 1: rating=6 is outside 1..5"):
        fit_cf(layout, progress=False)
    assert not layout.cf.exists()

    layout.ratings.write_bytes(b"not parquet")
    with pytest.raises(CFDataError, match=r"ratings\.parquet: cannot read"):
        fit_cf(layout, progress=False)

    with pytest.raises(ValueError, match="unknown CF algorithm 'svd'"):
        fit_cf(layout, algorithm="svd", progress=False)  # type: ignore[arg-type]


def test_damaged_model_folder_is_reported(layout: Layout) -> None:
    fit_cf(layout, config=CONFIG, progress=False)
    (layout.cf / "neighbours_weights.npy").unlink()
    with pytest.raises(CFModelMissing, match="damaged model"):
        ReadersAlsoLiked.load(layout)
    meta = layout.cf / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "format_version": 99}))
    with pytest.raises(CFModelMissing, match="format 99"):
        ReadersAlsoLiked.load(layout)


def test_recommend_rejects_bad_arguments(layout: Layout) -> None:
    fit_cf(layout, config=CONFIG, progress=False)
    cf = ReadersAlsoLiked.load(layout)
    with pytest.raises(ValueError, match="at least one seed"):
        cf.recommend([])
    with pytest.raises(ValueError, match="k must be between"):
        cf.recommend(["t:hobbit"], k=0)
    with pytest.raises(TypeError, match="not one string"):
        cf.recommend("t:hobbit")  # type: ignore[arg-type]


@pytest.mark.slow
def test_fit_on_goodbooks_mini_ratings(shared_data: Path, tmp_path: Path) -> None:
    from vibeshelf.retrieval.cf_eval import goodbooks_ratings

    layout = Layout(tmp_path / "mini").ensure()
    pq.write_table(goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv"), layout.ratings)
    report = fit_cf(layout, progress=False)
    assert report.algorithm == "ease" and report.items == 500 and report.ratings == 161_410
    cf = ReadersAlsoLiked.load(layout)
    hits = cf.recommend(["goodbooks:1"], k=10).hits  # The Hunger Games
    assert len(hits) == 10 and all(h.co_readers > 0 for h in hits)
    assert "goodbooks:17" in [h.book_id for h in hits[:3]]  # Catching Fire, its sequel
