"""Hard constraints from the reader's turns are merged into tool calls and enforced on results."""

from __future__ import annotations

import pytest
from agent_fakes import BOOKS, ToolLog, make_registry

from vibeshelf.agent.constraints import ConstraintGuard, HardConstraints
from vibeshelf.agent.session_state import SessionState, ShownBook
from vibeshelf.tools.models import FindBookResult, SearchResult
from vibeshelf.tools.tool import ToolContext


def turns(*texts: str) -> list[dict]:
    out = []
    for text in texts:
        out += [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]
    return out[:-1]


def test_constraints_accumulate_across_turns():
    c = HardConstraints.from_conversation(
        turns("something cozy", "nothing young adult", "and published before 2000", "more please")
    )
    assert "young_adult" in c.rules.genres_exclude  # turn 2 still holds at turn 4
    assert c.rules.year_max == 1999


def test_read_titles_and_shown_references_become_exclusions():
    state = SessionState(
        turns=1,
        shown=[
            ShownBook(id="t:1", title="The Quiet Lighthouse", turn=0),
            ShownBook(id="t:3", title="A Winter", turn=0),
        ],
    )
    c = HardConstraints.from_conversation(turns("I've read the second one"), state)
    assert state.read_ids == ["t:3"]  # recorded for the session store
    assert "t:3" in c.rules.exclude_ids
    c = HardConstraints.from_conversation(turns("I've already read The Quiet Lighthouse"))
    assert c.violation(BOOKS[0]) is not None and c.violation(BOOKS[2]) is None


def test_merge_keeps_the_models_filters_and_adds_the_readers():
    c = HardConstraints.from_conversation(turns("no young adult, nothing after 2005"))
    merged = c.merge_filters({"genres_exclude": ["horror"], "year_max": 2010, "min_average_rating": 4})
    assert merged["genres_exclude"] == ["horror", "young_adult"]
    assert merged["year_max"] == 2005  # the tighter bound
    assert merged["min_average_rating"] == 4  # the model's own filter survives


def test_a_model_bound_that_contradicts_the_reader_is_dropped():
    c = HardConstraints.from_conversation(turns("books from before 2000"))
    merged = c.merge_filters({"year_min": 2010})
    assert merged == {"year_max": 1999}


def test_arguments_without_a_filters_slot_get_avoid_ids():
    c = HardConstraints.from_conversation([], SessionState(read_ids=["t:1"]))
    assert c.merge_arguments(["book_ids", "avoid_ids"], {"book_ids": ["t:9"]}) == {
        "book_ids": ["t:9"],
        "avoid_ids": ["t:1"],
    }
    assert c.merge_arguments(["title"], {"title": "x"}) == {"title": "x"}


async def test_guard_merges_into_the_call_and_post_filters_the_result():
    log = ToolLog()
    registry = make_registry(log)
    guard = ConstraintGuard(registry, HardConstraints.from_conversation(turns("no YA please")))
    result = await guard.call("popular_books", '{"limit": 5}', ToolContext(None))
    assert [b.id for b in result.output.books] == ["t:1", "t:3", "t:4"]  # t:5 and t:2 are young adult
    result = await guard.call("search_books", '{"query": "any", "limit": 5}', ToolContext(None))
    assert isinstance(result.output, SearchResult)
    assert log.calls[-1][1]["filters"] == {"genres_exclude": ["young_adult"]}
    # A lookup of a named book is an answer, not a recommendation: left alone.
    result = await guard.call("find_book", '{"title": "Salt and Static"}', ToolContext(None))
    assert isinstance(result.output, FindBookResult) and result.output.match.id == "t:5"


async def test_guard_passes_bad_json_through_to_the_tools_own_error():
    guard = ConstraintGuard(make_registry(ToolLog()), HardConstraints.from_conversation(turns("no YA")))
    result = await guard.call("search_books", "{not json", ToolContext(None))
    assert not result.ok and "not valid JSON" in result.error.error.message


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("highly rated only", {"t:1", "t:3", "t:5"}),
        ("less well known books", {"t:1", "t:3", "t:4"}),
        ("nothing by Ada Vale", {"t:2", "t:3", "t:5"}),
        ("from the 80s", {"t:3"}),
    ],
)
def test_violation_applies_each_kind_of_constraint(said: str, kept: set[str]):
    c = HardConstraints.from_conversation(turns(said))
    assert {b.id for b in BOOKS if c.violation(b) is None} == kept
