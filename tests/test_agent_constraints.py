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


def test_required_genres_are_unioned_but_any_of_genres_are_not():
    from vibeshelf.agent.intent import Constraints

    c = HardConstraints(rules=Constraints(genres_all=["humor"], genres_include=["fantasy"]))
    merged = c.merge_filters({"genres_all": ["fantasy"], "genres_include": ["mystery"]})
    assert merged["genres_all"] == ["fantasy", "humor"]  # both required: only narrower
    assert merged["genres_include"] == ["mystery"]  # an any-of union would widen; results are checked
    assert c.merge_filters(None) == {"genres_all": ["humor"]}


def test_the_authors_the_reader_asked_for_replace_the_models_and_hold_on_results():
    from vibeshelf.agent.intent import Constraints

    c = HardConstraints(rules=Constraints(authors_any=["Agatha Christie"]))
    assert c.merge_filters({"authors_any": ["Dorothy L. Sayers"], "year_max": 1940}) == {
        "authors_any": ["Agatha Christie"],
        "year_max": 1940,
    }
    assert c.merge_filters(None) == {"authors_any": ["Agatha Christie"]}
    assert c.violation(BOOKS[0]) == "reader constraint"  # a card by anyone else is held back


def test_another_edition_of_a_book_read_or_liked_is_that_book_again():
    from vibeshelf.agent.session_state import StandingRequest

    edition = BOOKS[0].model_copy(update={"title": "The Quiet Lighthouse (Penguin Readers, Level 5)"})
    read = HardConstraints.from_conversation(turns("I've already read The Quiet Lighthouse"))
    assert read.violation(edition) == "a title the reader ruled out"
    liked = HardConstraints(request=StandingRequest(liked_titles=["The Quiet Lighthouse"]))
    assert liked.violation(edition) == "a book the reader named as liked"
    other = BOOKS[0].model_copy(update={"title": "The Quiet Lighthouse Keeper"})
    assert read.violation(other) is None and liked.violation(other) is None


def test_a_model_bound_that_contradicts_the_reader_is_dropped():
    c = HardConstraints.from_conversation(turns("books from before 2000"))
    merged = c.merge_filters({"year_min": 2010})
    assert merged == {"year_max": 1999}


def test_page_bounds_merge_like_year_bounds():
    c = HardConstraints.from_conversation(turns("something cozy", "nothing over 300 pages"))
    assert c.rules.max_pages == 300 and "- under 300 pages" in c.describe()
    assert c.merge_filters({"max_pages": 500, "min_pages": 100}) == {"max_pages": 300, "min_pages": 100}
    assert c.merge_filters({"max_pages": 250}) == {"max_pages": 250}  # the tighter bound
    assert c.merge_filters({"min_pages": 400}) == {"max_pages": 300}  # a contradicting model bound goes
    assert c.violation(BOOKS[0].model_copy(update={"num_pages": 420})) == "reader constraint"
    assert c.violation(BOOKS[0]) is None  # no page count: left to the tool, which says so


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


# --- limits kept in the session, beyond the replayed history ------------------------------------------


def window_fold(texts: list[str], window: int, state: SessionState) -> HardConstraints:
    """The agent's view of the latest turn: only the last ``window`` earlier turns are replayed."""
    c = HardConstraints.from_conversation(turns(*texts[-(window + 1) :]), state)
    state.turns += 1
    return c


def decided(c: HardConstraints) -> dict:
    """What a fold decided, ignoring the order items were added in."""
    rules = c.rules.model_dump()
    return {k: sorted(v) if isinstance(v, list) else v for k, v in rules.items()} | {
        "exclude_titles": sorted(c.exclude_titles)
    }


def test_a_limit_said_before_the_replayed_turns_still_holds():
    state = SessionState()
    said = ["nothing young adult", "and published before 2000"]
    window_fold(said[:1], 2, state)
    window_fold(said, 2, state)
    for n in range(10):
        said.append(["something cozy", "more please", "a gripping mystery"][n % 3])
        c = window_fold(said, 2, state)
        assert c.rules.genres_exclude == ["young_adult"] and c.rules.year_max == 1999
        assert c.violation(BOOKS[1]) is not None  # young adult
        assert "leaving out young adult" in c.describe()
    # Both limits left the window long ago: without the session's memory it has forgotten them.
    assert not any("young adult" in t or "2000" in t for t in said[-3:])
    assert HardConstraints.from_conversation(turns(*said[-3:])).is_empty()
    assert state.constraints.rules.genres_exclude == ["young_adult"]
    assert state.constraints.rules.exclude_ids == []  # ids live in read_ids / disliked_ids, not here


def test_a_lift_in_the_recent_turns_overrides_a_kept_limit():
    state = SessionState(read_ids=["t:3"])
    said = ["nothing young adult, nothing by Ada Vale", "only books from before 2000", "I've read Dune"]
    for n in range(1, len(said) + 1):
        window_fold(said[:n], 1, state)
    said += ["more please", "something cozy", "actually YA is fine", "from the 80s"]
    c = window_fold(said[:-1], 1, state)  # "YA is fine" is the latest turn
    assert c.rules.genres_exclude == [] and c.rules.exclude_authors == ["Ada Vale"]
    assert c.rules.year_max == 1999 and c.exclude_titles == ["Dune"]
    c = window_fold(said, 1, state)  # a new range replaces the kept one
    assert (c.rules.year_min, c.rules.year_max) == (1980, 1989)
    for filler in ["more please", "something cozy", "more please"]:
        said.append(filler)
        c = window_fold(said, 1, state)
    # The lift and the new range outlive the window too; "nothing by Ada Vale" and the read id still hold.
    assert c.rules.genres_exclude == [] and c.rules.exclude_authors == ["Ada Vale"]
    assert (c.rules.year_min, c.rules.year_max) == (1980, 1989)
    assert c.rules.exclude_ids == ["t:3"] and c.exclude_titles == ["Dune"]
    said.append("start over")
    c = window_fold(said, 1, state)
    # Starting over drops the bounds and keeps every "no"; clearing the filters drops those too.
    assert c.rules.exclude_authors == ["Ada Vale"] and c.rules.year_min is None
    said.append("clear my filters")
    c = window_fold(said, 1, state)
    assert c.rules.exclude_authors == [] and c.rules.year_max is None and c.exclude_titles == []


def test_folding_the_window_onto_the_kept_limits_equals_folding_every_turn():
    said = [
        "nothing young adult",
        "before 2000",
        "no horror, I've read Dune",
        "more please",
        "actually YA is fine",
        "highly rated only",
        "nothing young adult after all",
        "any year is fine",
        "from the 80s",
        "less well known books",
        "something cozy",
        "start over",
        "no romance",
        "more please",
    ]
    for window in (0, 1, 3):
        state = SessionState()
        for n in range(1, len(said) + 1):
            kept = window_fold(said[:n], window, state)
            assert decided(kept) == decided(HardConstraints.from_conversation(turns(*said[:n]))), (window, n)


def test_a_stateless_transcript_is_folded_whole():
    # An OpenAI-style client that sends its whole transcript (no stored session): nothing kept, all folded.
    said = ["nothing young adult", *["more please"] * 12, "before 2000"]
    c = HardConstraints.from_conversation(turns(*said))
    assert c.rules.genres_exclude == ["young_adult"] and c.rules.year_max == 1999
    state = SessionState()
    c = HardConstraints.from_conversation(turns(*said), state)  # a new session started from a transcript
    assert state.constraints.rules.genres_exclude == ["young_adult"] and c.rules.year_max == 1999
