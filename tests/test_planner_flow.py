"""The offline planner over real goodbooks-mini data: each phrase family, multi-turn refinement, grounding."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_planner_harness import Chat, MiniTools, build_mini_tools

from vibeshelf.agent.planner import AnswerStep, PlannerConfig, ToolCallsStep, plan
from vibeshelf.agent.planner_client import catalog_parse_config
from vibeshelf.agent.prompt import fence_data
from vibeshelf.agent.reading.reader import catalog_reader

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINE = re.compile(r"^\d+\. \*\*(.+?)\*\*", re.MULTILINE)


@pytest.fixture()
def mini_tools(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> MiniTools:
    return build_mini_tools(shared_data, tmp_path_factory)


@pytest.fixture()
def chat(mini_tools: MiniTools) -> Chat:
    return Chat(mini_tools)


def listed(answer: AnswerStep) -> list[str]:
    """Titles of the numbered picks in an answer, in order."""
    return _LINE.findall(answer.text)


def card(tools: MiniTools, title: str) -> dict[str, Any]:
    return next(r for r in tools.rows.values() if r["title"] == title)


def search_filters(c: Chat) -> dict[str, Any]:
    calls = c.called("search_books")
    assert calls, f"no search_books call: {c.tools.calls}"
    return calls[0].get("filters") or {}


def assert_grounded(c: Chat) -> None:
    """Every title in every answer came back from a tool in this conversation."""
    titles = {c.tools.rows[i]["title"] for i in c.returned_ids()}
    for m in c.messages:
        if m["role"] == "assistant" and m.get("content"):
            for title in _BOLD.findall(m["content"]):
                assert title in titles, f"{title!r} was never returned by a tool"


# --- one phrase family at a time ---------------------------------------------------------------------


def test_a_mood_becomes_one_search_and_an_explained_list(chat: Chat) -> None:
    answer = chat.say("cozy and melancholic for a rainy weekend")
    assert [n for n, _ in chat.tools.calls] == ["search_books"]
    assert chat.called("search_books")[0]["query"] == "cozy and melancholic for a rainy weekend"
    assert "filters" not in chat.called("search_books")[0]  # nothing was ruled out
    assert len(listed(answer)) == chat.called("search_books")[0]["limit"] == 6  # one line per card
    for line in answer.text.splitlines():
        if re.match(r"\d+\. ", line):
            assert re.search(r"\d\.\d\d", line) and re.search(r"[\d,]{4,} ratings|[\d,]{4,} readers", line), (
                line
            )
    assert_grounded(chat)


def test_like_a_title_looks_it_up_then_asks_co_readers_and_similar_books(chat: Chat) -> None:
    answer = chat.say("Something like The Hunger Games")
    first, second = chat.steps[0], chat.steps[1]
    assert isinstance(first, ToolCallsStep) and [(c.name, c.arguments) for c in first.calls] == [
        ("find_book", {"title": "The Hunger Games"})
    ]
    assert isinstance(second, ToolCallsStep) and [c.name for c in second.calls] == [
        "readers_also_liked",
        "search_books",
    ]
    seed = card(chat.tools, "The Hunger Games")["id"]
    assert second.calls[0].arguments["book_ids"] == [seed]
    assert seed in chat.called("search_books")[0]["filters"]["exclude_ids"]
    # The search on its blurb stays among books of its kind (its specific shelves, any of them); young adult
    # says which books, not what kind, and would let any YA book through.
    genres = card(chat.tools, "The Hunger Games")["genres"]
    shelves = [g for g in genres if g not in ("fiction", "young_adult")]
    assert "young_adult" in genres and shelves
    assert chat.called("search_books")[0]["filters"]["genres_include"] == shelves
    assert "**The Hunger Games**" in answer.text.split("\n")[0]  # the intro names the seed
    assert "The Hunger Games" not in listed(answer)
    assert re.search(r"\d+ (?:readers|fans)|rated both highly", answer.text)  # co-reader evidence is cited
    assert_grounded(chat)


def test_like_a_title_in_a_genre_of_the_readers_choosing_keeps_their_genre(chat: Chat) -> None:
    chat.say("Something like The Hunger Games but not young adult")
    filters = chat.called("search_books")[0]["filters"]
    assert filters["genres_exclude"] == ["young_adult"] and "young_adult" not in filters["genres_include"]
    chat.say("start over. something like Dune but fantasy")
    assert chat.called("search_books")[0]["filters"]["genres_include"] == ["fantasy"]


def test_adjective_ones_refines_the_last_request(chat: Chat) -> None:
    chat.say("epic fantasy with dragons")
    chat.say("older ones")
    query = chat.called("search_books")[0]["query"]
    assert "dragons" in query and "older" in query, query  # the last request, narrowed


def test_a_near_title_is_taken_and_said_so(chat: Chat) -> None:
    answer = chat.say("books like harry potter")
    assert chat.called("readers_also_liked")  # "Harry Potter and the Sorcerer's Stone" was close enough
    assert "I took “harry potter” to mean **Harry Potter and the Sorcerer's Stone**." in answer.text
    assert_grounded(chat)


def test_two_titles_in_one_phrase_are_looked_up_whole_then_apart(chat: Chat) -> None:
    answer = chat.say("I loved The Hobbit and Dune")
    rounds = [[c.arguments.get("title") for c in s.calls] for s in chat.steps if isinstance(s, ToolCallsStep)]
    assert rounds[:2] == [["The Hobbit and Dune"], ["The Hobbit", "Dune"]]
    seeds = {card(chat.tools, "The Hobbit")["id"], card(chat.tools, "Dune")["id"]}
    assert set(chat.called("readers_also_liked")[0]["book_ids"]) == seeds
    assert "**The Hobbit** and **Dune**" in answer.text
    chat.say("I also loved Pride and Prejudice")
    assert chat.called("find_book") == [{"title": "Pride and Prejudice"}]  # one book, found whole


def test_an_unknown_title_is_searched_as_words(chat: Chat) -> None:
    answer = chat.say("Something like Zyxwv Quorble")
    assert chat.called("find_book") == [{"title": "Zyxwv Quorble"}]
    assert chat.called("readers_also_liked") == []
    assert "Zyxwv Quorble" in chat.called("search_books")[0]["query"]
    assert "I couldn't find “Zyxwv Quorble”" in answer.text
    assert_grounded(chat)


def test_a_funny_memoir_is_a_memoir_that_is_funny(chat: Chat) -> None:
    # goodbooks-mini has 6 books shelved both memoir and humor, and many memoirs that are not funny.
    both = [r for r in chat.tools.rows.values() if {"memoir", "humor"} <= set(r["genres"])]
    assert len(both) >= 6 and sum("memoir" in r["genres"] for r in chat.tools.rows.values()) > len(both)
    answer = chat.say("a funny memoir")
    f = search_filters(chat)
    assert f["genres_include"] == ["memoir"] and f["genres_all"] == ["humor"]
    picks = [card(chat.tools, t) for t in listed(answer)]
    assert len(picks) == 6
    assert all({"memoir", "humor"} <= set(p["genres"]) for p in picks)
    assert_grounded(chat)
    # Ruling the tone out afterwards ("actually ...", which otherwise lifts an exclusion) drops it.
    chat.say("actually not funny")
    f = search_filters(chat)
    assert f["genres_include"] == ["memoir"] and f["genres_exclude"] == ["humor"] and "genres_all" not in f
    # A tone alone is just the kind of book asked for; a kind said next qualifies it.
    chat.say("start over. something funny")
    f = search_filters(chat)
    assert f == {"genres_include": ["humor"]}
    chat.say("only memoirs")
    assert search_filters(chat) == {"genres_include": ["memoir"], "genres_all": ["humor"]}


def test_negations_become_filters_and_hold_on_every_pick(chat: Chat) -> None:
    answer = chat.say("fantasy adventures, nothing young adult, no vampires, not by J.K. Rowling")
    f = search_filters(chat)
    assert f["genres_include"] == ["fantasy"]
    assert {"young_adult", "vampires"} <= set(f["genres_exclude"])
    assert f["exclude_terms"] == ["vampire"] and f["exclude_authors"] == ["J.K. Rowling"]
    picks = [card(chat.tools, t) for t in listed(answer)]
    assert picks
    for p in picks:
        assert "young_adult" not in p["genres"] and "fantasy" in p["genres"]
        assert "J.K. Rowling" not in p["authors"]
        assert "vampire" not in (p["description"] or "").lower()
    assert "leaving out young adult and vampires" in answer.text


@pytest.mark.parametrize("restart", ["start over", "let's start fresh", "forget everything", "new search"])
def test_starting_over_keeps_every_no(chat: Chat, restart: str) -> None:
    chat.say("fantasy from before 1990, but nothing by J.K. Rowling")
    answer = chat.say(f"{restart}. books for young readers")
    f = search_filters(chat)
    assert f["exclude_authors"] == ["J.K. Rowling"] and "year_max" not in f
    assert all("J.K. Rowling" not in card(chat.tools, t)["authors"] for t in listed(answer))
    chat.say("clear my filters and show me fantasy")
    assert "exclude_authors" not in search_filters(chat)


@pytest.mark.parametrize(
    ("text", "year_min", "year_max"),
    [("a mystery published before 1950", None, 1949), ("science fiction from the 80s", 1980, 1989)],
)
def test_time_limits(chat: Chat, text: str, year_min: int | None, year_max: int | None) -> None:
    answer = chat.say(text)
    f = search_filters(chat)
    assert (f.get("year_min"), f.get("year_max")) == (year_min, year_max)
    years = [card(chat.tools, t)["year"] for t in listed(answer)]
    assert years and all((year_min or -9999) <= y <= (year_max or 9999) for y in years)


def test_a_page_limit_the_catalog_cannot_check_is_said_and_the_picks_still_shown(chat: Chat) -> None:
    answer = chat.say("short books under 200 pages")
    (search,) = chat.called("search_books")
    assert search["query"] == "short books"  # the page phrase left the query; "short" stays a vibe
    assert search["filters"] == {"max_pages": 200}
    assert len(listed(answer)) == search["limit"]  # goodbooks-mini has no page counts: nothing lost
    note = "This catalog has no page counts, so I couldn't apply “under 200 pages”."
    assert answer.text.count(note) == 1
    assert "(under 200 pages)" not in answer.text  # not claimed as a limit the picks keep to
    assert_grounded(chat)

    answer = chat.say("only fantasy ones")  # the limit carries, and so does saying it was not applied
    assert search_filters(chat)["max_pages"] == 200 and note in answer.text and listed(answer)
    answer = chat.say("any length is fine")
    assert "max_pages" not in search_filters(chat) and "page counts" not in answer.text


def test_recent_follows_the_catalog(chat: Chat, mini_tools: MiniTools) -> None:
    latest = max(r["year"] or 0 for r in mini_tools.rows.values())
    chat.config = PlannerConfig(parse=catalog_parse_config(_catalog(mini_tools)))
    answer = chat.say("recent thrillers")
    assert search_filters(chat)["year_min"] == latest - 10
    assert all(card(chat.tools, t)["year"] >= latest - 10 for t in listed(answer))


def _catalog(tools: MiniTools) -> Path:
    return tools.catalog_path


def test_less_well_known_uses_the_catalogs_median(chat: Chat, mini_tools: MiniTools) -> None:
    cfg = catalog_parse_config(_catalog(mini_tools))
    chat.config = PlannerConfig(parse=cfg)
    answer = chat.say("less well known classics")
    assert search_filters(chat)["max_ratings_count"] == cfg.obscure_max_ratings
    counts = [card(chat.tools, t)["ratings_count"] for t in listed(answer)]
    assert counts and max(counts) <= cfg.obscure_max_ratings
    assert f"under {cfg.obscure_max_ratings:,} ratings" in answer.text


def test_popular_without_a_mood_asks_for_the_most_read(chat: Chat) -> None:
    answer = chat.say("popular fantasy")
    assert chat.called("popular_books") == []  # "fantasy" is a mood: search it, popular only
    assert search_filters(chat)["min_ratings_count"] == 100_000
    answer = chat.say("start over. What's popular?")
    assert chat.called("popular_books") == [{"limit": 6}]
    assert len(listed(answer)) == 6
    assert "most rated" in answer.text  # the ranking the tool reported is the evidence


def test_highly_rated(chat: Chat) -> None:
    answer = chat.say("highly rated science fiction")
    assert search_filters(chat)["min_average_rating"] == 4.0
    ratings = [card(chat.tools, t)["average_rating"] for t in listed(answer)]
    assert ratings and min(ratings) >= 4.0 - 1e-4


def test_feeling_lucky_gives_one_book(chat: Chat) -> None:
    answer = chat.say("I'm feeling lucky, nothing before 2000")
    assert chat.called("feeling_lucky") == [{"filters": {"year_min": 2000}}]
    assert len(listed(answer)) == 1
    assert card(chat.tools, listed(answer)[0])["year"] >= 2000


def test_small_talk_asks_what_to_look_for_without_tools(chat: Chat) -> None:
    answer = chat.say("hi")
    assert chat.tools.calls == [] and "in the mood for" in answer.text


# --- references to the last list, and the conversation's memory -------------------------------------


def test_more_like_the_second_one_seeds_from_the_listed_order(chat: Chat) -> None:
    first = chat.say("a gripping mystery")
    second_title = listed(first)[1]
    answer = chat.say("more like the second one")
    seed = card(chat.tools, second_title)["id"]
    assert chat.called("readers_also_liked")[0]["book_ids"] == [seed]
    shown = {card(chat.tools, t)["id"] for t in listed(first)}
    assert shown <= set(chat.called("readers_also_liked")[0]["avoid_ids"])
    assert not shown & {card(chat.tools, t)["id"] for t in listed(answer)}  # all new books
    assert f"**{second_title}**" in answer.text.split("\n")[0]
    assert_grounded(chat)


def test_a_reference_with_nothing_shown_is_explained(chat: Chat) -> None:
    answer = chat.say("more like the second one")
    assert chat.tools.calls == []
    assert "haven't shown you any books yet" in answer.text


def test_constraints_carry_through_later_turns(chat: Chat) -> None:
    chat.say("cozy mysteries")
    chat.say("nothing young adult")
    answer = chat.say("only ones before 2000")
    f = search_filters(chat)
    assert chat.called("search_books")[0]["query"] == "cozy mysteries"  # the request itself is kept
    assert "young_adult" in f["genres_exclude"] and f["year_max"] == 1999
    # A new request in turn 4 still honours turn 2 and turn 3, on co-read results too (which take no filters).
    answer = chat.say("Something like Harry Potter and the Sorcerer's Stone")
    for title in listed(answer):
        book = card(chat.tools, title)
        assert "young_adult" not in book["genres"] and book["year"] <= 1999, title
    assert_grounded(chat)


def test_ive_read_it_is_looked_up_and_left_out(chat: Chat) -> None:
    chat.say("Something like The Hunger Games")
    assert "Catching Fire" in [
        card(chat.tools, c["title"])["title"] for c in _results(chat, "readers_also_liked")
    ]
    answer = chat.say("I've read Catching Fire")
    assert chat.called("find_book") == [{"title": "Catching Fire"}]
    read_id = card(chat.tools, "Catching Fire")["id"]
    assert read_id in chat.called("readers_also_liked")[0]["avoid_ids"]
    assert "Catching Fire" not in listed(answer)
    assert "I've left out **Catching Fire**, since you've read it." in answer.text
    # ...and it stays left out later in the conversation.
    chat.say("what about popular young adult books?")
    later = chat.say("more please")
    assert "Catching Fire" not in listed(later)


def test_ive_read_two_titles_leaves_both_out(chat: Chat) -> None:
    chat.say("Something like The Hunger Games")
    answer = chat.say("I have read Catching Fire and Mockingjay")
    ids = {card(chat.tools, t)["id"]: t for t in ("Catching Fire", "Mockingjay")}
    avoided = set(chat.called("readers_also_liked")[0]["avoid_ids"])
    assert set(ids) <= avoided, f"not both avoided: {avoided & set(ids)}"
    for title in ids.values():
        assert title not in listed(answer)
        assert f"**{title}**" in answer.text.split("\n\n", 1)[0]  # the answer says each was left out


def _results(c: Chat, name: str) -> list[dict[str, Any]]:
    ids = {m["tool_call_id"] for m in c.messages if m["role"] == "tool" and m["name"] == name}
    out: list[dict[str, Any]] = []
    for m in c.messages:
        if m["role"] == "tool" and m["tool_call_id"] in ids:
            out += json.loads(m["content"].split("\n", 1)[1].rsplit("\n", 1)[0]).get("books", [])
    return out


def test_something_different_moves_away_from_the_last_genres(chat: Chat) -> None:
    first = chat.say("epic fantasy with dragons")
    answer = chat.say("something different")
    excluded = chat.called("feeling_lucky")[0]["filters"]["genres_exclude"]
    assert "fantasy" in excluded
    picks = [card(chat.tools, t) for t in listed(answer)]
    assert picks and not any("fantasy" in p["genres"] for p in picks)
    assert not set(listed(first)) & set(listed(answer))


def test_more_please_keeps_the_request_and_shows_new_books(chat: Chat) -> None:
    first = chat.say("books about war and survival")
    answer = chat.say("more please")
    assert chat.called("search_books")[0]["query"] == "books about war and survival"
    assert listed(answer) and not set(listed(first)) & set(listed(answer))


def test_the_session_summary_stands_in_for_dropped_history(mini_tools: MiniTools) -> None:
    book = card(mini_tools, "Rebecca")
    session = {
        "last_shown": [{"position": 1, "id": "goodbooks:x", "title": "Other"}, {**book, "position": 2}]
    }
    messages = [
        {"role": "system", "content": "You are vibeshelf.\n" + fence_data(json.dumps(session))},
        {"role": "user", "content": "more like the second one"},
    ]
    step = plan(messages, mini_tools.schemas())
    assert isinstance(step, ToolCallsStep)
    assert step.calls[0].name == "readers_also_liked" and step.calls[0].arguments["book_ids"] == [book["id"]]


# --- robustness ------------------------------------------------------------------------------------


def test_only_offered_tools_are_called(chat: Chat, mini_tools: MiniTools) -> None:
    messages = [{"role": "user", "content": "Something like The Hunger Games"}]
    only_search = [s for s in mini_tools.schemas() if s["function"]["name"] == "search_books"]
    step = plan(messages, only_search)
    assert isinstance(step, ToolCallsStep) and [c.name for c in step.calls] == ["search_books"]
    assert "The Hunger Games" in step.calls[0].arguments["query"]
    none = plan(messages, [])
    assert isinstance(none, AnswerStep) and "tools" in none.text and not _BOLD.search(none.text)


def test_tool_errors_are_reported_not_papered_over() -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "cozy mysteries"}]
    step = plan(messages)
    assert isinstance(step, ToolCallsStep)
    call = step.calls[0]
    error = {
        "error": {"type": "tool_failed", "message": "search_books failed; try another tool.", "fields": []}
    }
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [_wire(call)]},
        {"role": "tool", "tool_call_id": call.id, "content": fence_data(json.dumps(error))},
    ]
    # Retries: the same limits with plainer words first, then without the genre; then the failure is said.
    retry = plan(messages)
    assert isinstance(retry, ToolCallsStep) and call.arguments["filters"] == {"genres_include": ["mystery"]}
    assert retry.calls[0].arguments["query"] == "mystery"
    assert retry.calls[0].arguments["filters"] == {"genres_include": ["mystery"]}
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [_wire(retry.calls[0])]},
        {"role": "tool", "tool_call_id": retry.calls[0].id, "content": fence_data(json.dumps(error))},
    ]
    relaxed = plan(messages)
    assert isinstance(relaxed, ToolCallsStep) and "filters" not in relaxed.calls[0].arguments
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [_wire(relaxed.calls[0])]},
        {"role": "tool", "tool_call_id": relaxed.calls[0].id, "content": fence_data(json.dumps(error))},
    ]
    answer = plan(messages)
    assert isinstance(answer, AnswerStep)
    assert "search failed" in answer.text and not _BOLD.search(answer.text)


def _wire(call: Any) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json()},
    }


def test_tool_rounds_are_bounded(mini_tools: MiniTools) -> None:
    cfg = PlannerConfig(max_rounds=1)
    c = Chat(mini_tools, config=cfg)
    answer = c.say("Something like The Hunger Games")
    assert [n for n, _ in mini_tools.calls] == ["find_book"]  # no second round: answer with what there is
    assert isinstance(answer, AnswerStep)


def test_same_conversation_same_answers(mini_tools: MiniTools) -> None:
    script = ["cozy mysteries", "nothing young adult", "more like the first one", "something different"]
    runs = []
    for _ in range(2):
        c = Chat(mini_tools)
        runs.append([(c.say(m).text, [s.model_dump() for s in c.steps]) for m in script])
    assert runs[0] == runs[1]


def test_explanations_vary_between_books(chat: Chat) -> None:
    answer = chat.say("a classic, or a love story")  # either kind: "a classic love story" is both
    lines = [line for line in answer.text.splitlines() if re.match(r"\d+\. ", line)]
    tails = [re.sub(r"[\d,.]+", "#", line.split(" — ", 1)[1]) for line in lines]
    rating_shapes = {t.rsplit(";", 1)[-1].split(". ", 1)[-1] for t in tails}
    assert len(lines) == 6 and len(set(tails)) == 6
    assert len(rating_shapes) >= 2  # the rating is not said the same way six times


@pytest.mark.parametrize(
    "script",
    [
        [
            "something like The Da Vinci Code",
            "not by Dan Brown",
            "I've read Angels & Demons",
            "more like the last one",
        ],
        ["sad literary fiction", "from the 90s or earlier", "something different", "surprise me"],
        ["hidden gems", "with dragons", "no YA", "more like these"],
    ],
)
def test_every_named_book_came_from_a_tool(mini_tools: MiniTools, script: list[str]) -> None:
    c = Chat(mini_tools)
    for message in script:
        c.say(message)
    assert_grounded(c)


# --- not every message is a book request ------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("what is 2+3", "only know about books"),
        ("what's the weather today?", "only know about books"),
        ("how are you?", "only know about books"),
        ("thanks!", "You're welcome"),
        ("hello", "in the mood for"),
    ],
)
def test_small_talk_gets_a_short_answer_and_the_request_stands(chat: Chat, said: str, expected: str) -> None:
    first = chat.say("a cozy mystery, nothing young adult")
    assert listed(first)
    answer = chat.say(said)
    assert expected in answer.text and not listed(answer)
    assert chat.tools.calls == []  # no search for "2+3" or the weather
    more = chat.say("more please")  # the cozy mystery request is still the one refined
    assert listed(more) and search_filters(chat)["genres_exclude"] == ["young_adult"]
    assert search_filters(chat)["genres_include"] == ["mystery"]


# --- the reader's own history ------------------------------------------------------------------------


def _with_session(session: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are vibeshelf.\n" + fence_data(json.dumps(session))},
        {"role": "user", "content": text},
    ]


@pytest.mark.parametrize(
    "text",
    ["what should I read next?", "ok, what's my next read?", "pick something based on what I've liked"],
)
def test_what_next_asks_the_history_model_with_the_readers_liked_books(
    mini_tools: MiniTools, text: str
) -> None:
    liked = [card(mini_tools, t)["id"] for t in ("Rebecca", "The Hobbit", "Gone Girl")]
    session = {
        "last_shown": [],
        "liked_ids": liked[:1],
        "history_ids": liked[1:],
        "disliked_ids": [],
        "read_ids": [],
    }
    step = plan(_with_session(session, text), mini_tools.schemas())
    assert isinstance(step, ToolCallsStep)
    call = step.calls[0]
    assert call.name == "readers_also_liked" and call.arguments["history"] is True
    assert sorted(call.arguments["book_ids"]) == sorted(liked)


def test_what_next_with_no_history_says_how_to_give_one(chat: Chat) -> None:
    answer = chat.say("what should I read next?")
    assert "import your Goodreads or StoryGraph library" in answer.text and listed(answer)
    assert not chat.called("readers_also_liked")


def test_what_next_answers_from_history_and_keeps_the_readers_limits(mini_tools: MiniTools) -> None:
    liked = [card(mini_tools, t)["id"] for t in ("Rebecca", "The Hobbit")]
    c = Chat(mini_tools)
    c.messages.append(
        {
            "role": "system",
            "content": "You are vibeshelf.\n"
            + fence_data(json.dumps({"last_shown": [], "liked_ids": liked})),
        }
    )
    answer = c.say("no young adult please. what should I read next?")
    picks = listed(answer)
    assert picks and not set(picks) & {"Rebecca", "The Hobbit"}
    assert all("young_adult" not in card(mini_tools, t)["genres"] for t in picks)
    assert "your own history" in answer.text or "same taste" in answer.text


def test_a_book_named_with_what_next_is_a_more_like(chat: Chat) -> None:
    chat.say("I loved Rebecca, what should I read next?")
    assert chat.called("readers_also_liked") and not any(
        c.get("history") for c in chat.called("readers_also_liked")
    )


def test_titles_in_shorthand_of_the_author_asked_for_are_left_out(chat: Chat, mini_tools: MiniTools) -> None:
    chat.reader = catalog_reader(_catalog(mini_tools), chat.config.parse)
    chat.say("stephen king books pls")
    answer = chat.say("not it or pet sematary, done those")
    looked_up = {c["title"] for c in chat.called("find_book")}
    assert {"It", "Pet Sematary"} <= looked_up, looked_up
    assert listed(answer) and not {"It", "Pet Sematary"} & set(listed(answer))
    assert all("Stephen King" in card(chat.tools, t)["authors"] for t in listed(answer)), listed(answer)
