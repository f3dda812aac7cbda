"""readers_also_liked: collaborative filtering, and content similarity for cold or unrated seeds."""

from __future__ import annotations

import shutil

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vibeshelf.layout import Layout
from vibeshelf.retrieval.readers_also_liked import MAX_K
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import SearchFilters, ToolError
from vibeshelf.tools.tool import ToolContext

HUNGER_GAMES = "goodbooks:1"
TWILIGHT = "goodbooks:3"
COLD = "goodbooks:429"  # a goodbooks-mini book whose ratings the cold home below removes


@pytest.fixture(scope="module")
def registry():
    return default_registry()


@pytest.fixture(scope="module")
def cold_services(goodbooks_mini_index, tmp_path_factory):
    """A copy of the mini home where COLD has no ratings at all, with the CF model refitted."""
    from vibeshelf.ingest.cf_fit import fit_cf
    from vibeshelf.retrieval.services import open_services

    layout = Layout(tmp_path_factory.mktemp("cold-home") / "home")
    shutil.copytree(goodbooks_mini_index.home, layout.home)
    ratings = pq.read_table(layout.ratings)
    pq.write_table(ratings.filter(pc.not_equal(ratings["book_id"], COLD)), layout.ratings)
    if layout.cf.exists():
        shutil.rmtree(layout.cf)
    fit_cf(layout)
    return open_services(layout, seed=0)


async def test_collaborative_answer_with_co_readers(registry, mini_services) -> None:
    out = (
        await registry.call(
            "readers_also_liked",
            {"book_ids": [HUNGER_GAMES], "avoid_ids": [TWILIGHT], "limit": 10},
            ToolContext(deps=mini_services),
        )
    ).output
    assert out.method == "collaborative" and out.cold_seeds == [] and out.unknown_ids == []
    assert len(out.books) == 10
    ids = [b.id for b in out.books]
    assert HUNGER_GAMES not in ids and TWILIGHT not in ids and len(set(ids)) == 10
    assert all(b.why.method == "collaborative" and b.why.co_readers > 0 for b in out.books)
    # Its sequels are what Hunger Games readers go on to read.
    assert any(b.series == "The Hunger Games" for b in out.books[:5])


async def test_unknown_seeds_are_reported_and_all_unknown_is_an_error(registry, mini_services) -> None:
    ctx = ToolContext(deps=mini_services)
    out = (await registry.call("readers_also_liked", {"book_ids": [HUNGER_GAMES, "goodbooks:0"]}, ctx)).output
    assert out.unknown_ids == ["goodbooks:0"] and out.books
    err = (await registry.call("readers_also_liked", {"book_ids": ["nope:1", "nope:2"]}, ctx)).output
    assert isinstance(err, ToolError) and err.error.type == "not_found"
    assert [f.field for f in err.error.fields] == ["book_ids[0]", "book_ids[1]"]


async def test_cold_seed_falls_back_to_content_similarity(registry, cold_services) -> None:
    out = (
        await registry.call(
            "readers_also_liked", {"book_ids": [COLD], "limit": 8}, ToolContext(deps=cold_services)
        )
    ).output
    assert out.method == "content" and out.cold_seeds == [COLD]
    assert len(out.books) == 8 and COLD not in [b.id for b in out.books]
    assert all(b.why.method == "content" and b.why.co_readers is None for b in out.books)


async def test_cold_and_warm_seeds_mix_both_methods(registry, cold_services) -> None:
    out = (
        await registry.call(
            "readers_also_liked",
            {"book_ids": [COLD, HUNGER_GAMES], "limit": 10},
            ToolContext(deps=cold_services),
        )
    ).output
    assert out.method == "mixed" and out.cold_seeds == [COLD]
    methods = {b.why.method for b in out.books}
    assert methods == {"collaborative", "content"}


async def test_invalid_arguments_name_the_field(registry, mini_services) -> None:
    ctx = ToolContext(deps=mini_services)
    empty = (await registry.call("readers_also_liked", {"book_ids": []}, ctx)).output
    assert empty.error.type == "invalid_arguments" and empty.error.fields[0].field == "book_ids"
    too_many = (await registry.call("readers_also_liked", {"book_ids": ["a"] * 11}, ctx)).output
    assert too_many.error.fields[0].field == "book_ids"


# --- filters --------------------------------------------------------------------------------------


def _cf_pool(services, seed: str) -> list[str]:
    """Every book the CF model ranks for ``seed``, best first."""
    return [h.book_id for h in services.cf.recommend([seed], [], MAX_K).hits]


def _passes(services, filters: dict) -> set[str]:
    """Ids of the catalog books that pass ``filters``."""
    mask = services.search.searcher.mask(SearchFilters(**filters))
    return {i for i, row in services.search.searcher.position.items() if mask[row]}


async def _call(registry, services, arguments: dict):
    return (await registry.call("readers_also_liked", arguments, ToolContext(deps=services))).output


async def test_not_ya_keeps_a_full_collaborative_answer(registry, mini_services) -> None:
    limit = 10
    pool = _cf_pool(mini_services, HUNGER_GAMES)
    rows = mini_services.search.rows(pool)
    non_ya = [i for i in pool if "young_adult" not in rows[i]["genres"]]
    assert len(non_ya) >= 3 * limit  # the CF model has plenty of non-YA neighbours to give
    plain = await _call(registry, mini_services, {"book_ids": [HUNGER_GAMES], "limit": limit})
    assert sum("young_adult" in b.genres for b in plain.books) >= 2  # dropping them afterwards leaves a gap

    out = await _call(
        registry,
        mini_services,
        {"book_ids": [HUNGER_GAMES], "filters": {"genres_exclude": ["young_adult"]}, "limit": limit},
    )
    assert out.method == "collaborative" and out.cold_seeds == [] and out.notes == []
    assert len(out.books) == limit and len({b.id for b in out.books}) == limit
    assert not [b.title for b in out.books if "young_adult" in b.genres]
    assert all(b.why.method == "collaborative" and b.why.co_readers > 0 for b in out.books)
    # From the filtered pool; which of them come first is the shelf ordering's business (test below).
    assert {b.id for b in out.books} <= set(non_ya)
    assert out.applied_filters == SearchFilters(genres_exclude=["young_adult"])


async def test_unconstraining_filters_change_nothing(registry, mini_services) -> None:
    plain = await _call(registry, mini_services, {"book_ids": [HUNGER_GAMES, TWILIGHT], "limit": 10})
    empty = await _call(
        registry, mini_services, {"book_ids": [HUNGER_GAMES, TWILIGHT], "filters": {}, "limit": 10}
    )
    assert [b.id for b in empty.books] == [b.id for b in plain.books]
    assert empty.method == plain.method == "collaborative"


async def test_year_and_rating_filters_hold_for_every_book(registry, mini_services) -> None:
    filters = {"year_max": 1990, "min_average_rating": 4.0}
    assert len(set(_cf_pool(mini_services, HUNGER_GAMES)) & _passes(mini_services, filters)) >= 8
    out = await _call(registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": filters, "limit": 8})
    assert out.method == "collaborative" and len(out.books) == 8
    for b in out.books:
        assert b.year is not None and b.year <= 1990, b.title
        assert b.average_rating is not None and b.average_rating >= 4.0, b.title
    # exclude_ids inside filters holds as well.
    dropped = [b.id for b in out.books[:3]]
    again = await _call(
        registry,
        mini_services,
        {"book_ids": [HUNGER_GAMES], "filters": {**filters, "exclude_ids": dropped}, "limit": 8},
    )
    assert len(again.books) == 8 and not set(dropped) & {b.id for b in again.books}


async def test_strict_filters_top_up_and_fall_back_with_content_that_obeys_them(
    registry, mini_services
) -> None:
    limit = 5
    strict = {"year_max": 1900, "min_average_rating": 4.2}
    passing = _passes(mini_services, strict) - {HUNGER_GAMES}
    from_cf = [i for i in _cf_pool(mini_services, HUNGER_GAMES) if i in passing]
    assert 1 <= len(from_cf) < limit <= len(passing)  # CF alone cannot fill the answer

    def obeys(b) -> bool:
        return b.id in passing and b.year <= 1900 and b.average_rating >= 4.2

    topped = await _call(
        registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": strict, "limit": limit}
    )
    assert topped.method == "mixed" and len(topped.books) == limit
    assert all(obeys(b) for b in topped.books)
    assert {b.id for b in topped.books if b.why.method == "collaborative"} == set(from_cf)
    assert any(b.why.method == "content" for b in topped.books)

    # With the co-read books excluded too, CF has nothing left: content similarity answers alone.
    nothing_left = {**strict, "exclude_ids": from_cf}
    fell_back = await _call(
        registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": nothing_left, "limit": limit}
    )
    assert fell_back.method == "content" and fell_back.books
    assert len(fell_back.books) == min(limit, len(passing - set(from_cf)))
    assert all(obeys(b) and b.why.method == "content" for b in fell_back.books)
    assert not set(from_cf) & {b.id for b in fell_back.books}


async def test_filters_nothing_passes_and_unknown_genres_leave_notes(registry, mini_services) -> None:
    none_pass = await _call(
        registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": {"year_min": 2090}, "limit": 5}
    )
    assert none_pass.books == [] and any("relax" in n for n in none_pass.notes)
    typo = await _call(
        registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": {"genres_exclude": ["ya"]}}
    )
    assert typo.books and any("'ya'" in n for n in typo.notes)


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"year_min": 3000}, "filters.year_min"),
        ({"year_min": 2000, "year_max": 1990}, "filters.year_max"),
        ({"min_average_rating": 7}, "filters.min_average_rating"),
        ({"genre": "fantasy"}, "filters.genre"),
    ],
)
async def test_invalid_filters_come_back_as_errors_naming_the_field(
    registry, mini_services, filters, field
) -> None:
    out = await _call(registry, mini_services, {"book_ids": [HUNGER_GAMES], "filters": filters})
    assert isinstance(out, ToolError) and out.error.type == "invalid_arguments"
    assert field in [f.field for f in out.error.fields]


def test_schema_offers_the_same_filters_as_search_books(registry) -> None:
    def filters_of(name: str) -> dict:
        params = registry.get(name).openai_schema()["function"]["parameters"]
        assert "filters" in params["required"]  # strict mode: sent always, null for none
        return params["properties"]["filters"]

    mine = filters_of("readers_also_liked")
    assert mine == filters_of("search_books")
    branch = next(b for b in mine["anyOf"] if b.get("type") == "object")
    assert {"genres_exclude", "year_max", "min_average_rating", "exclude_ids"} <= set(branch["properties"])


async def test_co_read_books_that_share_the_seeds_shelves_come_first(registry, mini_services) -> None:
    """The most read books of all are co-read with everything; among the co-read pool, books sharing a
    specific shelf with the seed ("thriller", "dystopian", not "fiction") are shown first."""
    from vibeshelf.retrieval.genre_shelves import specific_genres

    # The Shining: half of its plain top 6 shares none of its shelves. (Most seeds no longer show the
    # problem: the served model damps the most read books and blends in shelf similarity itself.)
    seed = "goodbooks:72"
    wanted = set(specific_genres(mini_services.search.rows([seed])[seed]["genres"]))
    pool = mini_services.cf.recommend([seed], [seed], 6 * 3 * 4).hits
    genres = {
        b: set(r["genres"] or []) for b, r in mini_services.search.rows([h.book_id for h in pool]).items()
    }
    plain_top = [h.book_id for h in pool[:6]]
    assert sum(bool(wanted & genres[b]) for b in plain_top) < 6  # without the ordering some would not share
    assert sum(bool(wanted & genres[h.book_id]) for h in pool) >= 6 * 3

    out = (
        await registry.call(
            "readers_also_liked", {"book_ids": [seed], "limit": 6}, ToolContext(deps=mini_services)
        )
    ).output
    assert len(out.books) == 6 and out.method == "collaborative"
    assert all(wanted & set(b.genres) for b in out.books), [(b.title, b.genres) for b in out.books]


async def test_a_whole_history_is_answered_by_the_history_model(registry, mini_services) -> None:
    services = mini_services
    history = [
        h.book_id for h in services.cf.recommend([next(iter(services.search.searcher.position))], [], 40).hits
    ][:15]
    assert len(history) == 15
    out = (
        await registry.call(
            "readers_also_liked", {"book_ids": history, "history": True}, ToolContext(deps=services)
        )
    ).output
    ids = [b.id for b in out.books]
    assert ids and not set(ids) & set(history)
    expected = [h.book_id for h in services.cf.recommend_history(history, [], 60).hits]
    assert ids[0] in expected[:20]


async def test_in_a_session_a_history_is_the_readers_own_with_its_stars(registry, mini_services) -> None:
    """The model passes some ids; the session's rated library (ToolContext.reader_history) is what is scored."""
    services = mini_services
    stars = {"goodbooks:2": 5.0, "goodbooks:1": 2.0}  # loved Harry Potter, not The Hunger Games
    gone = "goodbooks:999999"  # in the reader's library, no longer in the catalog: left out, not an error
    ctx = ToolContext(deps=services, reader_history={**stars, gone: 4.0})
    answers = [
        (await registry.call("readers_also_liked", {"book_ids": [named], "history": True}, ctx)).output
        for named in ("goodbooks:2", "goodbooks:1")
    ]
    assert all(a.unknown_ids == [] for a in answers)
    ids = [[b.id for b in a.books] for a in answers]
    assert ids[0] and ids[0] == ids[1]  # whichever book the model named, the same history
    assert not set(ids[0]) & set(stars)
    expected = [h.book_id for h in services.cf.recommend_history(list(stars), [], 60, stars).hits]
    assert ids[0][0] == expected[0]
    # Outside a session a history is the ids passed, unrated.
    alone = (
        await registry.call(
            "readers_also_liked", {"book_ids": ["goodbooks:1"], "history": True}, ToolContext(deps=services)
        )
    ).output
    assert [b.id for b in alone.books] != ids[0]
