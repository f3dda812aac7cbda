"""readers_also_liked: collaborative filtering, and content similarity for cold or unrated seeds."""

from __future__ import annotations

import shutil

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vibeshelf.layout import Layout
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import ToolError

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
            mini_services.context(),
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
    ctx = mini_services.context()
    out = (await registry.call("readers_also_liked", {"book_ids": [HUNGER_GAMES, "goodbooks:0"]}, ctx)).output
    assert out.unknown_ids == ["goodbooks:0"] and out.books
    err = (await registry.call("readers_also_liked", {"book_ids": ["nope:1", "nope:2"]}, ctx)).output
    assert isinstance(err, ToolError) and err.error.type == "not_found"
    assert [f.field for f in err.error.fields] == ["book_ids[0]", "book_ids[1]"]


async def test_cold_seed_falls_back_to_content_similarity(registry, cold_services) -> None:
    out = (
        await registry.call("readers_also_liked", {"book_ids": [COLD], "limit": 8}, cold_services.context())
    ).output
    assert out.method == "content" and out.cold_seeds == [COLD]
    assert len(out.books) == 8 and COLD not in [b.id for b in out.books]
    assert all(b.why.method == "content" and b.why.co_readers is None for b in out.books)


async def test_cold_and_warm_seeds_mix_both_methods(registry, cold_services) -> None:
    out = (
        await registry.call(
            "readers_also_liked", {"book_ids": [COLD, HUNGER_GAMES], "limit": 10}, cold_services.context()
        )
    ).output
    assert out.method == "mixed" and out.cold_seeds == [COLD]
    methods = {b.why.method for b in out.books}
    assert methods == {"collaborative", "content"}


async def test_invalid_arguments_name_the_field(registry, mini_services) -> None:
    ctx = mini_services.context()
    empty = (await registry.call("readers_also_liked", {"book_ids": []}, ctx)).output
    assert empty.error.type == "invalid_arguments" and empty.error.fields[0].field == "book_ids"
    too_many = (await registry.call("readers_also_liked", {"book_ids": ["a"] * 11}, ctx)).output
    assert too_many.error.fields[0].field == "book_ids"
