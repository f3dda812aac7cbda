"""The intent parser, one phrase family at a time, and the hard constraints it implies."""

from __future__ import annotations

import pytest

from vibeshelf.agent.intent import Constraints, Intent, ParseConfig, parse_intent, split_titles

# --- moods and topics -----------------------------------------------------------------------------


def test_a_mood_is_the_query_and_adds_no_constraint() -> None:
    intent = parse_intent("cozy and melancholic for a rainy weekend")
    assert intent.query == "cozy and melancholic for a rainy weekend"
    assert intent.topical and intent.has_subject
    assert Constraints().apply(intent).is_empty()
    assert not intent.genres_include and not intent.like_titles


def test_a_clause_cut_leaves_no_dangling_punctuation() -> None:
    assert parse_intent("a romance, but no vampires and nothing by Nicholas Sparks").query == "a romance"
    assert (
        parse_intent("short books under 200 pages, something funny").query == "short books, something funny"
    )


def test_request_phrasing_is_stripped_from_the_query() -> None:
    assert parse_intent("Can you recommend a mystery published before 1950?").query == "a mystery"
    assert (
        parse_intent("I'm looking for books about grief and gardens").query == "books about grief and gardens"
    )


@pytest.mark.parametrize(
    ("text", "genre"),
    [
        ("a cozy mystery", "mystery"),
        ("some sci-fi with robots", "science_fiction"),
        ("YA fantasy", "young_adult"),
        ("a good graphic novel", "graphic_novels"),
        ("non-fiction about the sea", "non_fiction"),
        ("a classic", "classics"),
        ("a funny book about a road trip", "humor"),  # else "road" wins: The Road, On the Road
        ("something hilarious", "humor"),
    ],
)
def test_genre_words_narrow_the_search_and_stay_in_the_query(text: str, genre: str) -> None:
    intent = parse_intent(text)
    assert (
        genre in intent.genres_include + intent.genres_all
    )  # "YA fantasy": YA narrows fantasy (every one of)
    assert intent.query  # the genre word still describes the mood


@pytest.mark.parametrize(
    ("text", "include", "every"),
    [
        ("a funny fantasy with dragons", ["fantasy"], ["humor"]),
        ("a hilarious mystery", ["mystery"], ["humor"]),
        ("hilarious romance", ["romance"], ["humor"]),
        ("funny sci-fi or fantasy", ["science_fiction", "fantasy"], ["humor"]),
        # A tone alone is the kind of book asked for: any-of, as for any genre.
        ("something funny", ["humor"], []),
        ("a funny book about a road trip", ["humor"], []),
        ("funny books, nothing fantasy", ["humor"], []),
        ("a dark fantasy", ["fantasy"], []),
    ],
)
def test_a_tone_beside_a_genre_must_hold_too(text: str, include: list[str], every: list[str]) -> None:
    # "a funny fantasy" is a fantasy that is funny: fantasy AND humor, not fantasy OR humor.
    intent = parse_intent(text)
    assert (intent.genres_include, intent.genres_all) == (include, every)
    assert intent.query == text.split(",")[0]  # the words still describe the mood


def test_actually_not_funny_rules_the_tone_out_rather_than_allowing_it() -> None:
    # "actually ..." usually lifts an exclusion ("actually YA is fine"); under a negation it is one.
    intent = parse_intent("actually not funny")
    assert intent.genres_exclude == ["humor"] and intent.allow_genres == []
    assert parse_intent("actually YA is fine").allow_genres == ["young_adult"]


def test_small_shelves_are_left_to_the_query() -> None:
    intent = parse_intent("a coming of age story")
    assert intent.genres_include == []
    assert "coming of age" in intent.query


@pytest.mark.parametrize("text", ["hi", "What would you recommend?", "thanks!"])
def test_small_talk_has_no_subject(text: str) -> None:
    intent = parse_intent(text)
    assert intent.query == "" and not intent.has_subject


# --- "like X", "I've read X" ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Something like The Night Circus", "The Night Circus"),
        ("books similar to Gone Girl, but shorter", "Gone Girl"),
        ("if I liked Gone Girl what should I read", "Gone Girl"),
        ("I loved Station Eleven", "Station Eleven"),
        ("in the vein of 'The Secret History'", "The Secret History"),
        ("books like the hunger games", "the hunger games"),  # all lower case: still a title
        ("Something like 1984", "1984"),
        ("more like The Girl Who Played with Fire", "The Girl Who Played with Fire"),
        ("something that scratches the same itch as Station Eleven", "Station Eleven"),
        ("the same kind of energy as Gone Girl", "Gone Girl"),
    ],
)
def test_like_titles(text: str, title: str) -> None:
    intent = parse_intent(text)
    assert [t.title for t in intent.like_titles] == [title]
    assert intent.has_subject


def test_not_the_same_vibe_is_no_liking() -> None:
    assert parse_intent("not the same vibe as Gone Girl, something lighter").like_titles == []


def test_like_title_with_author_and_a_trailing_constraint() -> None:
    intent = parse_intent("like The Shining by Stephen King but nothing before 1990")
    assert [(t.title, t.author) for t in intent.like_titles] == [("The Shining", "Stephen King")]
    assert intent.year_min == 1990


@pytest.mark.parametrize(
    "text",
    ["I'd like something like a warm hug", "I feel like something sad", "I love fantasy", "looks like rain"],
)
def test_like_as_a_verb_is_not_a_title(text: str) -> None:
    assert parse_intent(text).like_titles == []


def test_several_titles_are_split_for_lookup() -> None:
    intent = parse_intent("I loved Gone Girl and The Girl on the Train")
    assert split_titles(intent.like_titles[0].title).parts == ("Gone Girl", "The Girl on the Train")
    assert split_titles("Pride and Prejudice").parts == ("Pride", "Prejudice")  # the whole is looked up too


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I've read Dracula already", "Dracula"),
        ("I have already read The Hobbit", "The Hobbit"),
        ("already read Rebecca, thanks", "Rebecca"),
        ("i read harry potter already", "harry potter"),
        # Titles that start with an article: capitalised, or after "read" in an all-lower-case message.
        ("I have read A Game of Thrones", "A Game of Thrones"),
        ("I've read An Abundance of Katherines already", "An Abundance of Katherines"),
        ("i have read a wrinkle in time", "a wrinkle in time"),
    ],
)
def test_read_titles(text: str, title: str) -> None:
    intent = parse_intent(text)
    assert [t.title for t in intent.read_titles] == [title]
    assert intent.like_titles == []


def test_read_a_lot_of_something_is_not_a_title() -> None:
    assert parse_intent("I've read a lot of fantasy lately").read_titles == []
    assert parse_intent("i have read a few of those").read_titles == []


def test_an_article_starts_a_title_only_when_it_looks_like_one() -> None:
    assert [t.title for t in parse_intent("something like A Little Life but shorter").like_titles] == [
        "A Little Life"
    ]
    assert parse_intent("something like a warm hug").like_titles == []
    assert parse_intent("Something like a warm hug").like_titles == []


# --- references to the last list -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "refs"),
    [
        ("more like the second one", "like_refs", [1]),
        ("the first one sounds great", "like_refs", [0]),
        ("something similar to the last one", "like_refs", [-1]),
        ("more like #3", "like_refs", [2]),
        ("I've read the first one and the third one", "read_refs", [0, 2]),
        ("not the second one, I hated it", "reject_refs", [1]),
    ],
)
def test_ordinal_references(text: str, field: str, refs: list[int]) -> None:
    intent = parse_intent(text)
    assert getattr(intent, field) == refs
    assert intent.query == ""  # the reference is not searched for as words


def test_more_like_these_and_more_please() -> None:
    assert parse_intent("more like these").like_shown
    more = parse_intent("more please")
    assert more.more and not more.has_subject


# --- negations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["nothing young adult", "no YA", "Not YA.", "I don't want young adult", "anything but teen books"]
)
def test_genre_negations(text: str) -> None:
    intent = parse_intent(text)
    assert intent.genres_exclude == ["young_adult"]
    assert intent.genres_include == [] and intent.query == ""


def test_vampires_are_excluded_as_a_shelf_and_as_a_word() -> None:
    intent = parse_intent("no vampires please")
    assert intent.genres_exclude == ["vampires"]
    assert intent.exclude_terms == ["vampire"]


def test_a_list_of_themes_after_one_negation() -> None:
    intent = parse_intent("no cliffhangers, no vampires, werewolves or zombies")
    assert {"cliffhanger", "vampire", "werewolf", "zombie"} <= set(intent.exclude_terms)


def test_unknown_nouns_after_a_strong_negation_become_terms() -> None:
    assert parse_intent("fantasy, no dragons or elves").exclude_terms == ["dragon", "elf"]


@pytest.mark.parametrize(
    "text",
    ["nothing too dark", "not too long please", "not sure what I want", "no preference", "isn't too sad"],
)
def test_degrees_and_idioms_are_not_hard_exclusions(text: str) -> None:
    intent = parse_intent(text)
    assert intent.exclude_terms == [] and intent.genres_exclude == []
    # ...and the negated words are not searched for either
    for word in ("dark", "long", "sure", "preference", "sad"):
        assert word not in intent.query


@pytest.mark.parametrize(
    ("text", "authors"),
    [
        ("not by Stephen King", ["Stephen King"]),
        ("nothing by James Patterson or Dan Brown", ["James Patterson", "Dan Brown"]),
        ("a thriller, but no books by Lee Child please", ["Lee Child"]),
    ],
)
def test_author_exclusions(text: str, authors: list[str]) -> None:
    assert parse_intent(text).exclude_authors == authors


def test_nothing_like_a_title_rules_it_out_instead_of_seeding() -> None:
    intent = parse_intent("nothing like Twilight")
    assert [t.title for t in intent.avoid_titles] == ["Twilight"]
    assert intent.like_titles == []


# --- time -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year_min", "year_max"),
    [
        ("before 2000", None, 1999),
        ("pre-2000 please", None, 1999),
        ("published after 2005", 2006, None),
        ("since 2010", 2010, None),
        ("from the 80s", 1980, 1989),
        ("1990s sci-fi", 1990, 1999),
        ("something from the eighties", 1980, 1989),
        ("late 90s horror", 1996, 1999),
        ("the 80s or earlier", None, 1989),
        ("1990 or later", 1990, None),
        ("between 1950 and 1970", 1950, 1970),
        ("the 1800s", 1800, 1899),
        ("19th century novels", 1800, 1899),
        ("written in the twentieth century", 1900, 1999),
        ("late 20th century", 1965, 1999),
        ("nothing before 1990", 1990, None),
        ("published in 1984", 1984, 1984),
    ],
)
def test_years(text: str, year_min: int | None, year_max: int | None) -> None:
    intent = parse_intent(text)
    assert (intent.year_min, intent.year_max) == (year_min, year_max)


def test_recent_counts_back_from_the_catalogs_newest_year() -> None:
    assert parse_intent("something recent").year_min == 2017 - 10
    assert parse_intent("something recent", ParseConfig(latest_year=2024)).year_min == 2014
    assert parse_intent("from the last 5 years", ParseConfig(latest_year=2024)).year_min == 2019
    # Not recent is before the years "recent" covers: a 2014 book is recent, so not one of these.
    assert parse_intent("nothing recent", ParseConfig(latest_year=2024)).year_max == 2013


@pytest.mark.parametrize("text", ["not the newer ones", "not any recent stuff", "no, not those new releases"])
def test_recency_refused_through_an_article_or_a_determiner(text: str) -> None:
    intent = parse_intent(text)
    assert (intent.year_min, intent.year_max) == (None, 2006)


def test_a_year_said_beside_a_vague_recency_word_is_what_it_means() -> None:
    intent = parse_intent("pre 2007 please, the newer ones are meh")
    assert (intent.year_min, intent.year_max) == (None, 2006)
    assert parse_intent("newer, from 2005 or later").year_min == 2005


@pytest.mark.parametrize(
    "text", ["a novel set in the 1920s", "a story set in 1850", "Nineteen Eighty-Four", "1984"]
)
def test_settings_and_titles_are_not_publication_dates(text: str) -> None:
    intent = parse_intent(text)
    assert intent.year_min is None and intent.year_max is None


def test_classic_is_the_classics_shelf_not_a_year_cut() -> None:
    intent = parse_intent("a classic")
    assert intent.genres_include == ["classics"]
    assert intent.year_max is None


# --- length ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "min_pages", "max_pages", "query"),
    [
        ("short books under 200 pages", None, 200, "short books"),
        ("nothing over 500 pages", None, 500, ""),
        ("a novel of 300 pages or less", None, 300, ""),
        ("a cozy mystery, less than 250 pages", None, 250, "a cozy mystery"),
        ("fewer than 150 pages please", None, 150, ""),
        ("at most 250 pages", None, 250, ""),
        ("no more than 300 pages", None, 300, ""),
        ("not more than 300 pages", None, 300, ""),
        ("300 pages or fewer", None, 300, ""),
        ("quick reads, 150 pages tops", None, 150, "quick reads"),
        ("books with under 200 pages about dragons", None, 200, "books about dragons"),
        ("an epic fantasy over 600 pages", 600, None, "an epic fantasy"),
        ("more than 400 pages", 400, None, ""),
        ("at least 300 pages", 300, None, ""),
        ("300+ pages", 300, None, ""),
        ("a saga of 1,000 pages or more", 1000, None, "a saga"),
        ("nothing under 100 pages", 100, None, ""),
        ("between 200 and 400 pages", 200, 400, ""),
        ("a thriller, 200-400 pages", 200, 400, "a thriller"),
    ],
)
def test_page_counts(text: str, min_pages: int | None, max_pages: int | None, query: str) -> None:
    intent = parse_intent(text)
    assert (intent.min_pages, intent.max_pages) == (min_pages, max_pages)
    assert intent.query == query


def test_page_numbers_are_not_years_or_ratings_and_other_negations_do_not_flip_them() -> None:
    intent = parse_intent("up to 1200 pages, over 4 stars")
    assert intent.max_pages == 1200 and intent.year_max is None and intent.min_average_rating == 4.0
    intent = parse_intent("between 1000 and 1500 pages")
    assert (intent.min_pages, intent.max_pages) == (1000, 1500) and intent.year_min is None
    assert parse_intent("over 500 pages").min_average_rating is None  # "over 5..." is no rating
    intent = parse_intent("no vampires under 300 pages")  # the "no" is about vampires
    assert intent.max_pages == 300 and intent.min_pages is None and intent.exclude_terms == ["vampire"]


@pytest.mark.parametrize("text", ["something short", "short and sweet", "not too long", "a 300 page book"])
def test_length_words_without_a_bound_stay_vibes(text: str) -> None:
    intent = parse_intent(text)
    assert intent.min_pages is None and intent.max_pages is None
    if "short" in text:
        assert "short" in intent.query


def test_page_limits_fold_like_year_ranges() -> None:
    c = Constraints().apply(parse_intent("short books under 200 pages"))
    assert (c.min_pages, c.max_pages) == (None, 200)
    assert c.filters() == {"max_pages": 200} and c.describe() == ["under 200 pages"]
    c = c.apply(parse_intent("something darker"))  # a turn that says nothing about length keeps it
    assert c.max_pages == 200
    c = c.apply(parse_intent("actually between 300 and 500 pages"))  # a new range replaces the old one
    assert (c.min_pages, c.max_pages) == (300, 500) and c.describe() == ["300–500 pages"]
    c = c.apply(parse_intent("any length is fine"))
    assert c.min_pages is None and c.max_pages is None and c.is_empty()
    assert Constraints(min_pages=400).describe() == ["over 400 pages"]
    assert "min_pages" not in Constraints(min_pages=500, max_pages=200).filters()  # never an invalid range


# --- popularity and quality -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["less well known", "hidden gems", "something underrated", "not too popular"]
)
def test_obscure(text: str) -> None:
    cfg = ParseConfig(obscure_max_ratings=12_345)
    intent = parse_intent(text, cfg)
    assert intent.max_ratings_count == 12_345 and intent.min_ratings_count is None
    assert not intent.popular


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("under 50,000 ratings", None, 50_000),
        ("fewer than 50k ratings", None, 50_000),
        ("less than 1.5 million ratings", None, 1_500_000),
        ("at least 10k ratings", 10_000, None),
        ("over 200 000 reviews", 200_000, None),
    ],
)
def test_explicit_ratings_counts(text: str, low: int | None, high: int | None) -> None:
    intent = parse_intent(text)
    assert (intent.min_ratings_count, intent.max_ratings_count) == (low, high)


def test_popular_and_bestsellers() -> None:
    cfg = ParseConfig(popular_min_ratings=90_000)
    for text in ("popular thrillers", "bestsellers", "something well-known"):
        intent = parse_intent(text, cfg)
        assert intent.popular and intent.min_ratings_count == 90_000, text


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("highly rated fantasy", 4.0),
        ("top-rated memoirs", 4.0),
        ("rated above 4.3", 4.3),
        ("4.2+ stars", 4.2),
    ],
)
def test_quality(text: str, rating: float) -> None:
    assert parse_intent(text).min_average_rating == rating


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("nothing under a four-star average", 4.0),  # a negated upper bound is a floor
        ("no books rated below 3.8", 3.8),
        ("four stars and up", 4.0),  # the value in words, the bound after it
        ("rated 4 or more", 4.0),
        ("4.0 minimum rating", 4.0),
        ("I meant 4.0 as the floor", 4.0),
        ("at least four stars", 4.0),
        ("a four and a half star average minimum", 4.5),
        ("I want another 4+ star read", 4.0),
    ],
)
def test_a_star_floor_said_any_way_round(text: str, rating: float) -> None:
    assert parse_intent(text).min_average_rating == rating


@pytest.mark.parametrize(
    "text",
    [
        "every YA fantasy this year was a 2-star read for me",  # the reader's own rating of a book
        "I gave Good Omens its five stars",
        "at least four books please",  # a number in words is a rating only with stars or a rating word
        "2 or more books",
    ],
)
def test_a_star_value_without_a_bound_or_a_rating_is_no_floor(text: str) -> None:
    assert parse_intent(text).min_average_rating is None


@pytest.mark.parametrize(
    "text",
    [
        "one folks rated real high",  # reception and approval, approval after
        "with good critics",
        "the reviews are glowing",
        "just the titles that reviewers really rated",  # someone who judges books, and a verb of liking
        "ones other readers loved",
    ],
)
def test_how_a_book_was_received_said_approvingly_is_a_rating_floor(text: str) -> None:
    assert parse_intent(text).min_average_rating == 4.0


@pytest.mark.parametrize(
    "text", ["I really rated Gone Girl", "I rated it highly", "something funny as well, reviewed"]
)
def test_the_readers_own_rating_is_no_floor(text: str) -> None:
    assert parse_intent(text).min_average_rating is None


# --- feeling lucky, different, reset, lifting -----------------------------------------------------


@pytest.mark.parametrize("text", ["I'm feeling lucky", "surprise me", "just pick one for me"])
def test_lucky(text: str) -> None:
    intent = parse_intent(text)
    assert intent.lucky and intent.has_subject


@pytest.mark.parametrize(
    "text", ["something different", "something completely different please", "none of these"]
)
def test_different(text: str) -> None:
    assert parse_intent(text).different


def test_reset_and_lifting_an_exclusion() -> None:
    c = Constraints().apply(parse_intent("no YA, no vampires, before 2000"))
    assert c.genres_exclude == ["young_adult", "vampires"] and c.year_max == 1999
    c = c.apply(parse_intent("actually YA is fine"))
    assert c.genres_exclude == ["vampires"]
    c = c.apply(parse_intent("any year is fine"))
    assert c.year_max is None
    c = c.apply(parse_intent("clear my filters"))
    assert c.is_empty()


@pytest.mark.parametrize(
    "text", ["start over", "let's start fresh", "forget everything", "from scratch please"]
)
def test_starting_over_is_no_clearing_of_filters(text: str) -> None:
    assert not parse_intent(text).reset


# --- constraints ----------------------------------------------------------------------------------


def _card(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "t:1",
        "title": "Night Orchard",
        "authors": ["Stephen King"],
        "year": 1995,
        "genres": ["horror", "fiction"],
        "average_rating": 4.1,
        "ratings_count": 30_000,
        "excerpt": "A small town, a vampire, a long winter.",
    }
    return base | kw


def test_constraints_carry_across_messages_and_later_ranges_win() -> None:
    c = Constraints()
    for text in ["cozy mysteries", "nothing young adult", "before 2000", "actually from the 80s"]:
        c = c.apply(parse_intent(text))
    assert c.genres_exclude == ["young_adult"]
    assert (c.year_min, c.year_max) == (1980, 1989)
    assert c.genres_include == []  # a genre asked for belongs to that request, not to the conversation


def test_admits_checks_every_rule_the_search_would() -> None:
    assert Constraints().admits(_card())
    assert not Constraints(genres_exclude=["horror"]).admits(_card())
    assert not Constraints(exclude_terms=["vampire"]).admits(_card())  # found in the excerpt, plural-aware
    assert Constraints(exclude_terms=["zombie"]).admits(_card())
    assert not Constraints(exclude_authors=["stephen king"]).admits(_card())
    assert not Constraints(exclude_authors=["King"]).admits(_card())
    assert Constraints(exclude_authors=["Kingsolver"]).admits(_card())
    assert not Constraints(year_max=1990).admits(_card())
    assert not Constraints(year_min=1990).admits(_card(year=None))  # unknown year cannot be vouched for
    assert not Constraints(min_average_rating=4.2).admits(_card())
    assert not Constraints(max_ratings_count=20_000).admits(_card())
    assert not Constraints(exclude_ids=["t:1"]).admits(_card())
    assert not Constraints().admits(_card(), include=["romance"])
    assert Constraints().admits(_card(), include=["romance", "horror"])
    assert Constraints(genres_all=["horror", "fiction"]).admits(_card())
    assert not Constraints(genres_all=["horror", "humor"]).admits(_card())  # every one, not any
    assert not Constraints().admits(_card(), include=["horror"], include_all=["humor"])
    assert Constraints().admits(_card(), include=["romance", "horror"], include_all=["fiction"])


def test_admits_checks_pages_only_where_the_card_has_a_page_count() -> None:
    rules = Constraints(max_pages=200)
    assert not rules.admits(_card(num_pages=350))
    assert rules.admits(_card(num_pages=200)) and rules.admits(_card(num_pages=120))
    # No page count (every goodbooks card): the tools said they could not apply the bound; kept.
    assert rules.admits(_card()) and rules.admits(_card(num_pages=None))
    assert not Constraints(min_pages=300).admits(_card(num_pages=299))


def test_filters_are_valid_search_filters() -> None:
    from vibeshelf.tools.models import SearchFilters

    c = Constraints().apply(
        parse_intent("no vampires, not by Anne Rice, before 2000, highly rated, hidden gems")
    )
    filters = c.with_ids(["goodbooks:1"]).filters(
        include=["fantasy"], include_all=["humor", "romance"], extra_exclude_genres=["romance"]
    )
    parsed = SearchFilters.model_validate(filters)  # extra="forbid": a wrong field name fails here
    assert parsed.genres_include == ["fantasy"]
    assert parsed.genres_all == ["humor"]  # a shelf ruled out is never required
    assert parsed.genres_exclude == ["vampires", "romance"]
    assert parsed.exclude_terms == ["vampire"] and parsed.exclude_authors == ["Anne Rice"]
    assert parsed.year_max == 1999 and parsed.min_average_rating == 4.0
    assert parsed.max_ratings_count == 20_000 and parsed.exclude_ids == ["goodbooks:1"]
    # A range the tool would reject is never sent.
    assert "year_min" not in Constraints(year_min=2010, year_max=1999).filters()


def test_describe_is_plain_english() -> None:
    c = Constraints().apply(
        parse_intent("no YA, no vampires, not by Stephen King, from the 80s, under 50k ratings")
    )
    assert c.describe() == [
        "leaving out young adult and vampires",
        "nothing by Stephen King",
        "published 1980–1989",
        "under 50,000 ratings",
    ]


def test_parsing_never_raises_on_odd_input() -> None:
    for text in ["", "   ", "???", "no", "not", "like", "by", "19", "1" * 5000, "🙂 🙃", "no no no no"]:
        intent = parse_intent(text)
        # Odd input asks for nothing in particular: no kind, author, title or bound is invented.
        assert not (intent.genres_include or intent.exclude_authors or intent.like_titles), text
        assert intent.year_min is None and intent.year_max is None, text


@pytest.mark.parametrize(
    ("text", "title", "query"),
    [
        # "with the", "in the" inside a capitalised title are part of it ...
        ("something like The Girl with the Dragon Tattoo", "The Girl with the Dragon Tattoo", ""),
        ("books like Love in the Time of Cholera but shorter", "Love in the Time of Cholera", "shorter"),
        # ... and end the title when what follows is the reader's own words.
        ("something like Dune with a female lead", "Dune", "a female lead"),
        ("like Gone Girl set in the 1950s", "Gone Girl", "set in the 1950s"),
    ],
)
def test_clause_words_inside_capitalised_titles(text: str, title: str, query: str) -> None:
    intent = parse_intent(text)
    assert [t.title for t in intent.like_titles] == [title]
    assert intent.query == query


def test_read_titles_with_articles_and_inner_clause_words_split_for_lookup() -> None:
    intent = parse_intent("I have read A Game of Thrones and The Girl with the Dragon Tattoo")
    assert split_titles(intent.read_titles[0].title).parts == (
        "A Game of Thrones",
        "The Girl with the Dragon Tattoo",
    )
    assert intent.query == ""  # nothing left over to search for


@pytest.mark.parametrize(
    "text", ["short ones", "older ones please", "romantic ones", "short ones under 300 pages"]
)
def test_adjective_ones_narrows_the_last_request(text: str) -> None:
    intent = parse_intent(text)
    assert intent.nudge and not intent.topical


def test_ones_inside_a_real_topic_is_still_a_topic() -> None:
    intent = parse_intent("something about the ones who walk away")
    assert intent.topical and not intent.nudge


@pytest.mark.parametrize(
    ("text", "query"), [("I loved it", ""), ("recommendations for a thriller", "thriller")]
)
def test_a_request_opener_is_cut_on_a_word_boundary(text: str, query: str) -> None:
    # "I love" is no opener of "I loved it" ("d it" was left to search on).
    assert parse_intent(text).query.split()[-1:] == query.split()[-1:]
    assert not parse_intent(text).query.startswith(("d ", "ations"))


def test_the_authors_asked_for_hold_until_replaced_refused_or_a_new_request() -> None:
    asked = Constraints().apply(Intent(text="anything by Christie", authors=["Agatha Christie"]))
    assert asked.filters()["authors_any"] == ["Agatha Christie"]
    assert "by Agatha Christie" in asked.describe()
    refined = asked.apply(Intent(text="only the older ones", year_max=1950))
    assert refined.authors_any == ["Agatha Christie"] and refined.year_max == 1950
    other = refined.apply(Intent(text="now some Gaiman", authors=["Neil Gaiman"]))
    assert other.authors_any == ["Neil Gaiman"]
    assert other.apply(Intent(text="no more Gaiman", exclude_authors=["Neil Gaiman"])).authors_any == []
    assert other.apply(Intent(text="forget that, a thriller", new_request=True)).authors_any == []
    # A correction naming another author replaces the one asked for; naming one with nothing asked adds none.
    fixed = other.apply(
        Intent(text="sorry, I meant Terry Pratchett", correction=True, named_authors=["Terry Pratchett"])
    )
    assert fixed.authors_any == ["Terry Pratchett"]
    assert (
        Constraints()
        .apply(Intent(text="sorry, Pratchett", correction=True, named_authors=["Terry Pratchett"]))
        .authors_any
        == []
    )


@pytest.mark.parametrize(
    "text", ["popular science books please", "some pop sci for my dad", "popular-science"]
)
def test_popular_science_is_a_kind_not_a_popularity_limit(text: str) -> None:
    intent = parse_intent(text)
    assert "science" in intent.genres_include
    assert not intent.popular and intent.min_ratings_count is None


def test_popular_before_a_kind_of_book_still_asks_for_popular_books() -> None:
    intent = parse_intent("popular thrillers")
    assert intent.popular and intent.min_ratings_count is not None


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("say the fifties through to the eighties", (1950, 1989)),
        ("between the 60s and the 70s", (1960, 1979)),
        ("80s or 90s", (1980, 1999)),
        ("the 60s-80s", (1960, 1989)),
        ("something from the 80s", (1980, 1989)),
    ],
)
def test_two_decades_joined_are_one_span(text: str, bounds: tuple[int, int]) -> None:
    intent = parse_intent(text)
    assert (intent.year_min, intent.year_max) == bounds


def test_an_author_named_beside_refusing_the_one_asked_for_takes_its_place() -> None:
    # "It was C.S. Lewis he recommended, not Tolkien at all": no correction cue, but the asked author is refused.
    asked = Constraints().apply(Intent(text="Tolkien's other books", authors=["J.R.R. Tolkien"]))
    swapped = asked.apply(
        Intent(
            text="it was Lewis, not Tolkien", exclude_authors=["J.R.R. Tolkien"], named_authors=["C.S. Lewis"]
        )
    )
    assert swapped.authors_any == ["C.S. Lewis"] and swapped.exclude_authors == ["J.R.R. Tolkien"]
    # Naming someone while refusing another author, not the one asked for, changes nothing asked.
    kept = asked.apply(
        Intent(
            text="no Dan Brown; Dan Simmons is fine",
            exclude_authors=["Dan Brown"],
            named_authors=["Dan Simmons"],
        )
    )
    assert kept.authors_any == ["J.R.R. Tolkien"]


@pytest.mark.parametrize(
    "text", ["a good old-fashioned spy story", "some espionage", "spy novels from the 60s"]
)
def test_spy_stories_are_thrillers(text: str) -> None:
    assert parse_intent(text).genres_include == ["thriller"]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("found family in space pls", ["science_fiction"]),
        ("a ragtag crew on a spaceship", ["science_fiction"]),
        ("a book about space for my son", []),
        ("something short, in the space of a week", []),
    ],
)
def test_a_story_set_in_space_is_science_fiction(text: str, kinds: list[str]) -> None:
    assert parse_intent(text).genres_include == kinds


@pytest.mark.parametrize(
    "text", ["not the ones with witches and ghosts", "no ghosts please", "nothing with witchcraft"]
)
def test_refusing_ghosts_or_witches_rules_out_the_paranormal_shelves(text: str) -> None:
    intent = parse_intent(text)
    assert {"paranormal", "supernatural"} <= set(intent.genres_exclude)
