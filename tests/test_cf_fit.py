"""fit_cf -> saved model -> ReadersAlsoLiked: round trip, cold seeds, avoid ids, co-reader counts, the
seeds and history models, reloading a swapped-in model, and `vibeshelf fit-cf`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog import IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.cf_fit import fit_cf
from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf.config import CFConfig, CFModelSpec
from vibeshelf.retrieval.cf.models import CFDataError
from vibeshelf.retrieval.cf.store import CFModelMissing
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked, ReloadingReadersAlsoLiked

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


CONFIG = CFConfig(
    min_item_ratings=2,
    seeds=CFModelSpec(algorithm="rp3beta", params={"neighbours": 10}),
    history=CFModelSpec(algorithm="ease", params={"l2": 1.0}, min_rating=0),
)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "home")
    write_ratings(layout, tiny_ratings())
    return layout


@pytest.mark.parametrize("algorithm", ["ease", "item_knn", "rp3beta"])
def test_round_trip_recommends_the_seeds_reader_group(layout: Layout, algorithm: str) -> None:
    report = fit_cf(layout, algorithm=algorithm, config=CONFIG, progress=False)
    assert report.algorithm == report.history_algorithm == algorithm and report.path == str(layout.cf)
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
    assert all_cold.method == "rp3beta"  # the seeds model answered (with nothing)


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
    report = fit_cf(layout, algorithm="ease", config=CONFIG, progress=False)  # min_rating 0: implicit too
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

    (layout.home / "cf").mkdir()
    with pytest.raises(CFModelMissing, match=r"no CF model at .*vibeshelf fit-cf"):
        ReadersAlsoLiked.load(layout)  # a folder without meta.json is no model
    (layout.home / "cf").rmdir()

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
    from vibeshelf.retrieval.cf.eval import goodbooks_ratings

    layout = Layout(tmp_path / "mini").ensure()
    pq.write_table(goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv"), layout.ratings)
    report = fit_cf(layout, progress=False)
    defaults = CFConfig()
    assert (report.algorithm, report.history_algorithm) == (
        defaults.seeds.algorithm,
        defaults.history.algorithm,
    )
    assert report.items == 500 and report.cold_books == 0 and report.ratings == 161_410
    cf = ReadersAlsoLiked.load(layout)
    hits = cf.recommend(["goodbooks:1"], k=10).hits  # The Hunger Games
    assert len(hits) == 10 and all(h.co_readers > 0 for h in hits)
    assert "goodbooks:17" in [h.book_id for h in hits[:3]]  # Catching Fire, its sequel
    # Whole history: the trilogy's first two books read -> Mockingjay (goodbooks:20) near the top.
    history = cf.recommend_history(["goodbooks:1", "goodbooks:17"], k=10).hits
    assert "goodbooks:20" in [h.book_id for h in history[:3]]


def test_auto_serves_a_seeds_model_and_a_history_model(layout: Layout) -> None:
    report = fit_cf(layout, config=CONFIG, progress=False)
    assert (report.algorithm, report.history_algorithm) == ("rp3beta", "ease")
    assert report.history_params == {"l2": 1.0, "dropout": 0.0}
    meta = json.loads((layout.cf / "meta.json").read_text())
    assert meta["algorithm"] == "rp3beta" and meta["history_algorithm"] == "ease"

    cf = ReadersAlsoLiked.load(layout)
    seeds = cf.recommend(["t:hobbit"])
    history = cf.recommend_history(["t:hobbit"])
    assert seeds.method == "rp3beta" and history.method == "ease"
    assert [h.book_id for h in seeds.hits] == [h.book_id for h in history.hits] == ["t:earthsea", "t:narnia"]
    # Different tables, so different weights: RP3beta rows sum to 1, EASE's do not.
    assert sum(h.score for h in seeds.hits) == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in seeds.hits] != [h.score for h in history.hits]
    # A whole history never comes back, nor does what the reader read and disliked (avoid_ids).
    picks = cf.recommend_history(["t:hobbit", "t:earthsea"], avoid_ids=["t:narnia"]).hits
    assert picks == []
    picks = cf.recommend_history(["t:poirot", "t:once"]).hits
    assert [h.book_id for h in picks] == ["t:marlowe"]


def test_ease_over_the_memory_budget_leaves_histories_to_the_seeds_model(layout: Layout) -> None:
    small = CONFIG.model_copy(update={"ease_max_bytes": 8 * 4 * 4})  # room for 4 books; there are 5
    report = fit_cf(layout, config=small, progress=False)
    assert report.items == 5  # no book is dropped to make EASE fit
    assert (report.algorithm, report.history_algorithm) == ("rp3beta", "rp3beta")
    with pytest.raises(
        CFDataError, match=r"EASE over 5 books needs 0.0 MiB, over the 0.0 MiB budget .*; fit rp3beta"
    ):
        fit_cf(layout, algorithm="ease", config=small, progress=False)
    assert ReadersAlsoLiked.load(layout).meta.history_algorithm == "rp3beta"  # the old model stays


def test_running_server_handle_picks_up_a_refit_without_restart(layout: Layout) -> None:
    handle = ReloadingReadersAlsoLiked.load(layout)
    # No model yet: every seed is cold (content similarity answers), nothing fails.
    assert handle.current() is None and len(handle) == 0 and not handle.knows("t:hobbit")
    assert handle.recommend(["t:hobbit"]).cold_seeds == ["t:hobbit"]

    fit_cf(layout, algorithm="item_knn", config=CONFIG, progress=False)
    assert handle.method == "item_knn" and handle.knows("t:hobbit")
    first = handle.current()
    assert handle.current() is first  # unchanged model: not reloaded

    rows = [*tiny_ratings(), *[(f"n{u}", b, 5) for u in range(3) for b in ("t:new", "t:hobbit")]]
    write_ratings(layout, rows)
    fit_cf(layout, algorithm="ease", config=CONFIG, progress=False)
    assert handle.method == "ease" and handle.current() is not first
    assert handle.knows("t:new") and "t:new" in [h.book_id for h in handle.recommend(["t:hobbit"]).hits]
    assert handle.meta.items == 6

    # A damaged swap-in keeps the last good model serving.
    good = handle.current()
    meta = layout.cf / "meta.json"
    meta.write_text("{not json")
    assert handle.current() is good and handle.method == "ease"


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vibeshelf.cli", *args],
        env={**os.environ, "VIBESHELF_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home.parent,
    )


def test_fit_cf_command_refits_the_model_alone(layout: Layout) -> None:
    done = _cli(["fit-cf"], layout.home)
    assert done.returncode == 0, done.stderr
    assert "done" in done.stderr and "rated books too sparse" in done.stderr
    cf = ReadersAlsoLiked.load(layout)
    assert cf.meta.items == 5 and cf.meta.algorithm == CFConfig().seeds.algorithm
    assert sorted(p.name for p in layout.home.iterdir()) == ["cf", "ratings.parquet"]  # no temp left

    done = _cli(["fit-cf", "--algorithm", "item_knn"], layout.home)
    assert done.returncode == 0 and ReadersAlsoLiked.load(layout).method == "item_knn"


def test_fit_cf_command_errors_are_one_line_naming_the_file(layout: Layout, tmp_path: Path) -> None:
    done = _cli(["fit-cf"], tmp_path / "nowhere")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no index folder" in done.stderr and "vibeshelf ingest" in done.stderr

    write_ratings(layout, [("u1", "t:a", 5), ("u2", "t:a", 9)])
    done = _cli(["fit-cf"], layout.home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "ratings.parquet row 1: rating=9 is outside 1..5" in lines[0]

    layout.ratings.unlink()
    done = _cli(["fit-cf"], layout.home)
    assert done.returncode == 2 and "ratings.parquet not found" in done.stderr


def test_one_model_for_both_protocols_is_written_once(layout: Layout) -> None:
    fit_cf(layout, algorithm="item_knn", config=CONFIG, progress=False)
    import numpy as np

    assert len(np.load(layout.cf / "history_indptr.npy")) == 0  # not a second copy on disk
    cf = ReadersAlsoLiked.load(layout)
    assert cf.recommend_history(["t:hobbit"]).hits == cf.recommend(["t:hobbit"]).hits
    assert cf.meta.history_algorithm == "item_knn"


def test_two_step_neighbours_are_served_as_eval_measures_them(tmp_path: Path) -> None:
    from vibeshelf.retrieval.cf.eval import _fit_specs
    from vibeshelf.retrieval.cf.models import encode_ratings, select_items

    # A chain: 10 readers loved a and b, 10 more read only a; 3 readers loved b and the niche c. With the
    # popularity damped, each book keeps one neighbour: a -> b, b -> c (not the popular a).
    rows = [(f"r{u}", book, 5) for u in range(10) for book in ("t:a", "t:b")]
    rows += [(f"s{u}", "t:a", 4) for u in range(10)]
    rows += [(f"n{u}", book, 5) for u in range(3) for book in ("t:b", "t:c")]
    layout = Layout(tmp_path / "chain")
    write_ratings(layout, rows)
    one = CFModelSpec(
        algorithm="rp3beta",
        params={"neighbours": 1, "alpha": 1.0, "beta": 1.0},
        rating_weights=(0.2, 0.2, 0.4, 0.8, 1),
    )
    two = one.model_copy(update={"two_step": 1.0})
    picks = {}
    for name, spec in (("one", one), ("two", two)):
        fit_cf(layout, config=CFConfig(min_item_ratings=2, seeds=spec, history=spec), progress=False)
        picks[name] = {h.book_id: h.score for h in ReadersAlsoLiked.load(layout).recommend(["t:a"]).hits}
    # One step from a reaches b only; the second step reaches c, b's neighbour.
    assert set(picks["one"]) == {"t:b"} and set(picks["two"]) == {"t:b", "t:c"}
    # What fit-cf saved is the table eval scores (cf.table builds both).
    codes = encode_ratings(pq.read_table(layout.ratings))
    [(_, served, inter, _)] = list(_fit_specs(codes, [two], select_items(codes, min_ratings=2)))
    column = {book: i for i, book in enumerate(inter.item_ids.tolist())}
    scores = served.score([column["t:a"]])
    assert picks["two"] == {book: pytest.approx(float(scores[column[book]])) for book in picks["two"]}


def test_history_stars_are_served_as_eval_weighs_them(layout: Layout) -> None:
    import numpy as np
    import scipy.sparse as sp

    from vibeshelf.retrieval.cf.eval import _fit_specs
    from vibeshelf.retrieval.cf.models import encode_ratings, select_items

    spec = CONFIG.history.model_copy(update={"history_weights": (0.3, 0.3, 0.6, 0.9, 1.0)})
    fit_cf(layout, config=CONFIG.model_copy(update={"history": spec}), progress=False)
    cf = ReadersAlsoLiked.load(layout)
    history = ["t:hobbit", "t:poirot"]  # one fantasy book, one crime book: which did the reader love?
    loves_fantasy, loves_crime = {"t:hobbit": 5.0, "t:poirot": 1.0}, {"t:hobbit": 1.0, "t:poirot": 5.0}
    fantasy_first = cf.recommend_history(history, ratings=loves_fantasy).hits
    crime_first = cf.recommend_history(history, ratings=loves_crime).hits
    assert fantasy_first[0].book_id in FANTASY and crime_first[0].book_id in CRIME
    assert {h.book_id for h in fantasy_first} == {h.book_id for h in crime_first}  # same books, new order
    # No stars: every book counts as liked, the same weight each.
    assert cf.meta.history_weights == spec.history_weights and cf.history_weights(history, {}) == [0.9, 0.9]
    # Over the EASE budget the seeds model serves histories: the weights chosen for EASE are not applied.
    small = CONFIG.model_copy(update={"history": spec, "ease_max_bytes": 8 * 4 * 4})
    fit_cf(layout, config=small, progress=False)
    assert ReadersAlsoLiked.load(layout).meta.history_weights is None
    fit_cf(layout, config=CONFIG.model_copy(update={"history": spec}), progress=False)
    cf = ReadersAlsoLiked.load(layout)

    # What the server adds up is what eval scores: the history row weighted by the stars (cf.eval).
    codes = encode_ratings(pq.read_table(layout.ratings))
    [(_, served, inter, _)] = list(_fit_specs(codes, [spec], select_items(codes, min_ratings=2)))
    column = {book: i for i, book in enumerate(inter.item_ids.tolist())}
    weights = [spec.history_weight(loves_fantasy[b]) for b in history]
    row = sp.csr_matrix((weights, ([0, 0], [column[b] for b in history])), shape=(1, inter.n_items))
    scores = np.asarray(served.score_users(row))[0] / sum(weights)
    expected = {b: float(scores[column[b]]) for b in column if b not in history and scores[column[b]] > 0}
    assert {h.book_id: h.score for h in fantasy_first} == {
        b: pytest.approx(s, abs=1e-5) for b, s in expected.items()
    }
