"""Grounding: titles in the answer must come from the tools; tricky formatting and near-misses."""

from __future__ import annotations

import logging

import pytest

from vibeshelf.agent.grounding import (
    BookFacts,
    Grounder,
    StreamingGrounder,
    figure_claims,
    looks_like_title,
    title_mentions,
)


@pytest.fixture
def grounder() -> Grounder:
    g = Grounder()
    g.add_book(
        "The Name of the Wind", ["Patrick Rothfuss"], "The Kingkiller Chronicle", ["fantasy", "young_adult"]
    )
    g.add_book("The Night Circus", ["Erin Morgenstern"], None, ["fantasy", "magical_realism"])
    g.add_book("Harry Potter and the Sorcerer's Stone", ["J.K. Rowling"], "Harry Potter", ["fantasy"])
    g.add_book(
        "The Fellowship of the Ring: Being the First Part of The Lord of the Rings", ["J.R.R. Tolkien"]
    )
    g.add_book("Cien años de soledad", ["Gabriel García Márquez"])
    g.add_user_text('I loved Dune. Something "cozy but sad", please')
    return g


@pytest.mark.parametrize(
    "line",
    [
        "**The Name of the Wind** by Patrick Rothfuss is lush.",
        "**the name of the wind** in lower case is still the book.",
        "**Name of the Wind** drops its article.",
        "**The Name of the Wind (The Kingkiller Chronicle, #1)** with the series suffix.",
        "*The Night Circus*, an italic title.",
        "_The Night Circus_, underscored.",
        "“The Night Circus” in curly quotes.",
        "[The Night Circus](https://example.com/book) as a link.",
        "**Harry Potter and the Sorcerer’s Stone** with a curly apostrophe.",
        "**The Fellowship of the Ring** without its long subtitle.",
        "**Cien Años de Soledad** with different case, accents kept.",
        "**Cien anos de soledad** without accents.",
        "The **Kingkiller Chronicle** is the series.",
        "By **Erin Morgenstern**, an author name in bold.",
        "Since you loved **Dune**, here is something else.",  # the reader named it
        'You asked for something "cozy but sad".',  # the reader's words, quoted back
        "**Why it fits:** cozy, rainy, melancholic.",  # a label, not a title
        "**Highly rated** and **popular**.",
        "Its rating is **4.21** from **12,000** readers.",
        "Genres: **Fantasy**, **magical realism**.",
        "It is *really* good, and the prose is *so* lush.",
        "A science_fiction shelf and snake_case words are not italics.",
        "Written by Patrick Rothfuss, it sings.",
        "The Night Circus by Erin Morgenstern is a plain-text mention of a returned book.",
    ],
)
def test_known_titles_and_non_titles_are_kept(grounder: Grounder, line: str):
    assert grounder.ground_line(line) == line, grounder.invented(line)
    assert grounder.removed == []


@pytest.mark.parametrize(
    ("line", "invented"),
    [
        ("- **The Midnight Library** by Matt Haig — a second chance.", "The Midnight Library"),
        ("1. *Piranesi* by Susanna Clarke: labyrinthine.", "Piranesi"),
        ("### Gone Girl", "Gone Girl"),
        ("* [Project Hail Mary](https://example.com) by Andy Weir", "Project Hail Mary"),
        ('- "Station Eleven" — after the end.', "Station Eleven"),
        ("- The Goldfinch by Donna Tartt, a plain-text list item.", "The Goldfinch"),
        (
            "- **The Name of the Wind 2: Revenge** is not the returned book.",
            "The Name of the Wind 2: Revenge",
        ),
    ],
)
def test_an_invented_title_takes_its_list_item_or_heading_with_it(
    grounder: Grounder, line: str, invented: str
):
    assert grounder.ground_line(line) is None
    assert grounder.removed == [invented]


def test_in_prose_the_paragraph_with_the_invented_title_goes_whole(grounder: Grounder):
    # Cutting only the sentence left orphans ("by Cormac McCarthy (1974)."): the paragraph goes.
    text = (
        "**The Night Circus** is dreamy.\n\n"
        "You might also enjoy **The Starless Sea**\nby Erin Morgenstern (2019). Both are slow.\n\n"
        "Take your time."
    )
    assert grounder.ground(text) == "**The Night Circus** is dreamy.\n\nTake your time."
    assert grounder.removed == ["The Starless Sea"]


def test_plain_text_title_by_author_pattern_is_checked(grounder: Grounder):
    line = "For something darker, Rebecca by Daphne du Maurier is gothic. The Night Circus is lighter."
    assert grounder.ground_line(line) is None
    assert grounder.removed == ["Rebecca"]


@pytest.mark.parametrize(
    ("line", "invented"),
    [
        ("- **<b>To Kill a Mockingbird by Harper Lee</b>**", "To Kill a Mockingbird by Harper Lee"),
        ("- <b>To Kill a Mockingbird</b> by Harper Lee", "To Kill a Mockingbird"),
        ("- **<i>The Road</i>** by Tom Clancy", "The Road"),
    ],
)
def test_html_inside_markdown_hides_no_title(grounder: Grounder, line: str, invented: str):
    assert grounder.ground_line(line) is None
    assert grounder.removed == [invented]


def test_html_around_a_returned_title_is_dropped_and_the_title_kept(grounder: Grounder):
    line = "- **<b>The Night Circus</b>** by Erin Morgenstern<br>"
    assert grounder.ground_line(line) == "- **The Night Circus** by Erin Morgenstern"


@pytest.mark.parametrize(
    "line",
    [
        "- **The Night Circus** by Patrick Rothfuss",  # a returned title under another author
        "- **The Road** by Tom Clancy",  # the reader's words ("a funny road trip") under any author
        "- The Road by Tom Clancy, a plain-text item.",
        "- **The Road**, a title made of one word the reader used.",
        "- *The Name of the Wind*, by Stephen King: the wrong author after a comma.",
    ],
)
def test_a_title_must_come_with_its_own_author(line: str):
    g = Grounder()
    g.add_book("The Name of the Wind", ["Patrick Rothfuss"])
    g.add_book("The Night Circus", ["Erin Morgenstern"])
    g.add_user_text("a funny road trip")
    assert g.ground_line(line) is None, g.invented(line)


@pytest.mark.parametrize(
    "line",
    [
        "- **The Name of the Wind** by Rothfuss, the surname alone.",
        "- **The Name of the Wind** by P. Rothfuss. It sings.",
        "- **The Night Circus** — by Erin Morgenstern",
        "Since you loved **The Road** by Cormac McCarthy, try these.",  # title and author the reader gave
    ],
)
def test_a_title_with_its_own_author_is_kept(line: str):
    g = Grounder()
    g.add_book("The Name of the Wind", ["Patrick Rothfuss"])
    g.add_book("The Night Circus", ["Erin Morgenstern"])
    g.add_user_text("I loved The Road by Cormac McCarthy, something like it")
    assert g.ground_line(line) == line, g.invented(line)


def test_removals_are_logged(grounder: Grounder, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="vibeshelf.agent.grounding"):
        grounder.ground_line("- **Invented Book Title** by Nobody")
    assert "Invented Book Title" in caplog.text


def test_a_whole_answer_keeps_structure_and_drops_continuations(grounder: Grounder):
    text = (
        "Here are three picks:\n\n"
        "1. **The Name of the Wind** by Patrick Rothfuss\n"
        "   A musician's life story.\n"
        "2. **The Lies of Locke Lamora** by Scott Lynch\n"
        "   A heist in a canal city.\n"
        "3. **The Night Circus** by Erin Morgenstern\n"
        "   A duel of magicians.\n\n"
        "## The Way of Kings\n"
        "An invented section about an invented book.\n\n"
        "## Why these\n"
        "All three are immersive."
    )
    assert grounder.ground(text) == (
        "Here are three picks:\n\n"
        "1. **The Name of the Wind** by Patrick Rothfuss\n"
        "   A musician's life story.\n"
        "3. **The Night Circus** by Erin Morgenstern\n"
        "   A duel of magicians.\n\n"
        "## Why these\n"
        "All three are immersive."
    )
    assert grounder.removed == ["The Lies of Locke Lamora", "The Way of Kings"]


def test_streaming_gives_the_same_text_however_the_deltas_are_cut(grounder: Grounder):
    text = (
        "Picks:\n- **The Night Circus**\n- **Fake Book One**\n  more about it\n\n"
        "Done, **The Night Circus** again."
    )
    whole = Grounder(titles=dict(grounder.titles), other_names=set(grounder.other_names)).ground(text)
    for size in (1, 2, 3, 7, 50):
        stream = StreamingGrounder(
            Grounder(titles=dict(grounder.titles), other_names=set(grounder.other_names))
        )
        out = "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()
        assert out == whole
    assert whole == "Picks:\n- **The Night Circus**\n\nDone, **The Night Circus** again."


def test_streaming_releases_complete_lines_only(grounder: Grounder):
    stream = StreamingGrounder(grounder)
    assert stream.feed("**The Night") == ""  # a half-written title is never shown
    assert stream.feed(" Circus** is lovely.\nNext") == "**The Night Circus** is lovely.\n"
    assert stream.flush() == "Next"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Name of the Wind", True),
        ("Harry Potter and the Sorcerer's Stone", True),
        ("1984", False),  # bare numbers are ratings, years and counts far more often than titles
        ("Dune", True),
        ("cozy and melancholic", False),
        ("Why it fits", False),
        ("Note", False),
        ("4.5", False),
        ("Themes:", False),
    ],
)
def test_looks_like_title(text: str, expected: bool):
    assert looks_like_title(text) is expected


def test_title_mentions_finds_each_span_once():
    found = [m.text for m in title_mentions('**A** and *B*, "C D" and [E F](x) plus G H by Jane Roe')]
    assert found == ["A", "B", "C D", "E F", "G H"]


@pytest.fixture
def with_facts() -> Grounder:
    g = Grounder()
    g.add_book("The Comfort of Strangers", ["Ian McEwan"], facts=BookFacts(1981, 3.44, 8_843))
    g.add_book("Saturday", ["Ian McEwan"], facts=BookFacts(2005, 3.61, 45_567))
    return g


@pytest.mark.parametrize(
    "line",
    [
        "- **The Comfort of Strangers** by Ian McEwan — fiction; rated 3.44 by 8,843 readers",
        "**The Comfort of Strangers** by Ian McEwan (1981), a short, unsettling novel.",
        "**Saturday** by Ian McEwan, published in 2005, rated 3.6 out of 5 by about 45.6k readers.",
        "**Saturday** by Ian McEwan: one day in London, set in 2003.",  # when a story is set is no claim
    ],
)
def test_true_figures_about_a_returned_book_stand(with_facts: Grounder, line: str) -> None:
    assert with_facts.ground_line(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        # Seen from a real small model: the figures of the last answer's first book copied onto a new one.
        "- **The Comfort of Strangers** by Ian McEwan — fiction, contemporary; rated 3.44 by 12,365 readers",
        "- **The Comfort of Strangers** by Ian McEwan — rated 4.50, a reader favourite",
        "**Saturday** by Ian McEwan, published in 1998.",
        "**Saturday** by Ian McEwan (2012) follows a surgeon through one day.",
    ],
)
def test_a_line_saying_false_figures_about_a_returned_book_goes(with_facts: Grounder, line: str) -> None:
    assert with_facts.ground_line(line) is None
    assert with_facts.removed


@pytest.fixture
def also_liked() -> Grounder:
    """Books as readers_also_liked returns them: with how many readers of the seed also rated each highly."""
    g = Grounder()
    seed = {"id": "s", "title": "Big Little Lies", "authors": ["Liane Moriarty"], "year": 2014}
    g.add_book("Big Little Lies", ["Liane Moriarty"], facts=BookFacts.of(seed))
    secret = {
        "id": "h",
        "title": "The Husband's Secret",
        "authors": ["Liane Moriarty"],
        "year": 2013,
        "average_rating": 3.92,
        "ratings_count": 232_106,
        "why": {"method": "collaborative", "co_readers": 117},
    }
    g.add_book("The Husband's Secret", ["Liane Moriarty"], facts=BookFacts.of(secret))
    return g


@pytest.mark.parametrize(
    "line",
    [
        # The planner's own line that the first version of this check removed: "117 readers who enjoyed
        # Big Little Lies" is the co-reader count the tool gave, not the book's number of ratings.
        "1. **The Husband's Secret** by Liane Moriarty (2013) — 117 readers who enjoyed Big Little Lies rated it"
        " highly as well; mystery with a contemporary fiction streak. 232,106 readers give it 3.92 on average.",
        "1. **The Husband's Secret** by Liane Moriarty (2013) — 117 readers who rated Big Little Lies highly"
        " loved this one too. It averages 3.92 across 232,106 ratings.",
        "- **The Husband's Secret** — a favourite with 117 fans of Big Little Lies; 3.92 average from 232,106 ratings.",
    ],
)
def test_a_co_reader_count_the_tool_gave_stands(also_liked: Grounder, line: str) -> None:
    assert also_liked.ground_line(line) == line, also_liked.removed


def test_a_co_reader_count_copied_from_another_answer_goes(also_liked: Grounder) -> None:
    line = (
        "1. **The Husband's Secret** by Liane Moriarty — 1,085 readers who enjoyed Big Little Lies loved it."
    )
    assert also_liked.ground_line(line) is None


def test_the_same_book_from_two_results_keeps_the_figures_of_both() -> None:
    # A search returned it first (no co-readers); readers_also_liked later, with them.
    g = Grounder()
    searched = {
        "id": "h",
        "title": "The Husband's Secret",
        "authors": ["Liane Moriarty"],
        "ratings_count": 232_106,
    }
    g.add_book("The Husband's Secret", ["Liane Moriarty"], facts=BookFacts.of(searched))
    liked = {**searched, "year": 2013, "why": {"co_readers": 117}}
    g.add_book("The Husband's Secret", ["Liane Moriarty"], facts=BookFacts.of(liked))
    assert (
        g.ground_line("**The Husband's Secret** (2013): 117 readers of Big Little Lies loved it.") is not None
    )
    assert (
        g.ground_line("**The Husband's Secret** (2013): 12,365 readers of Big Little Lies loved it.") is None
    )


@pytest.mark.parametrize(
    "line",
    [
        # Bounds and rounded values are true of the figure, not equal to it.
        "**Saturday** by Ian McEwan — over 40,000 readers have rated it, most of them 3.5+.",
        "**Saturday** by Ian McEwan — rated above 3.5 by more than 45,000 readers.",
        "**Saturday** by Ian McEwan — rated under 4, by fewer than 50k readers.",
        "**Saturday** by Ian McEwan — about 45,000 readers; rated 4 stars on average.",
        "**Saturday** by Ian McEwan — some 46k ratings, roughly 3.6/5.",
        # The list numbers and a count too small to be a book's readers are no figures of it.
        "3. **Saturday** by Ian McEwan — 5. in my list, liked by 12 fans I know.",
        # A bracketed year of a book named in plain words is that book's, not the returned title's.
        "**Saturday** by Ian McEwan — after his Atonement (2001), one day in a surgeon's life.",
        # A line that names two returned books: its figures may be either's.
        "**Saturday** (2005) has far more readers than **The Comfort of Strangers**: 45,567 to 8,843 ratings.",
        "**Saturday** (2005) and **The Comfort of Strangers** (1981), rated 3.61 and 3.44.",
    ],
)
def test_figures_that_are_true_of_a_returned_book_stand(with_facts: Grounder, line: str) -> None:
    assert with_facts.ground_line(line) == line, with_facts.removed


@pytest.mark.parametrize(
    "line",
    [
        "**Saturday** by Ian McEwan — over 100,000 readers have rated it.",
        "**Saturday** by Ian McEwan — rated 4+ by its readers.",
        "**Saturday** by Ian McEwan — 1.2 million readers.",
        # Two books on a line: the year bracketed right after a title is still that title's.
        "**Saturday** (2012) and **The Comfort of Strangers** (1981), both by Ian McEwan.",
    ],
)
def test_bounds_and_bracketed_years_that_are_false_go(with_facts: Grounder, line: str) -> None:
    assert with_facts.ground_line(line) is None


def test_a_title_two_returned_books_share_may_state_either_ones_figures() -> None:
    g = Grounder()
    g.add_book("Persuasion", ["Jane Austen"], facts=BookFacts(1817, 4.14, 400_000, book_id="1"))
    g.add_book("Persuasion", ["Jane Austen"], facts=BookFacts(2004, 4.25, 9_000, book_id="2"))
    assert g.ground_line("**Persuasion** by Jane Austen (2004), rated 4.25 by 9,000 readers.") is not None
    assert g.ground_line("**Persuasion** by Jane Austen (1817), rated 4.14.") is not None
    # ... but all of one of them: this year and this rating are of different books.
    assert g.ground_line("**Persuasion** by Jane Austen (1817), rated 4.25.") is None


def test_a_slim_result_without_a_count_leaves_counts_unchecked() -> None:
    g = Grounder()
    slim = {"id": "7", "title": "Saturday", "authors": ["Ian McEwan"], "year": 2005, "rating": 3.61}
    g.add_book("Saturday", ["Ian McEwan"], facts=BookFacts.of(slim))
    assert g.ground_line("**Saturday** by Ian McEwan, rated 3.61 by 45,567 readers.") is not None
    assert g.ground_line("**Saturday** by Ian McEwan, rated 3.44 by 45,567 readers.") is None


@pytest.mark.parametrize(
    "line, kinds",
    [
        ("rated 3.44 by 8,843 readers", ["rating", "readers"]),
        ("1. The Book — 2. on my list, 45 people", []),  # list numbers, a small count
        ("published in 1981; 1.2M ratings", ["readers", "year"]),
        ("an average of 4.1/5 from 12k ratings", ["rating", "rating", "readers"]),
        ("it follows 1,500 people; 300 reviews", []),  # people in a story; reviews are another count
        ("set in 2003, with 2 sequels", []),
    ],
)
def test_figure_claims_reads_ratings_counts_and_years(line: str, kinds: list[str]) -> None:
    assert sorted(c.kind for c in figure_claims(line)) == sorted(kinds)


def test_the_readers_limits_restated_after_a_title_are_no_figures_of_it(with_facts: Grounder) -> None:
    # The planner's "like" answer opens so: the figures are what the reader asked of the picks.
    intro = (
        "If you liked **Saturday**, try these (published 1990–2000, rated 4 or higher, under 10,000 ratings):"
    )
    for kind, value in [("year", 1990), ("year", 2000), ("rating", 4), ("readers", 10_000)]:
        with_facts.add_reader_limit(kind, value)
    assert with_facts.ground_line(intro) == intro
    # A figure that is no limit of the reader's is still the book's, and checked.
    assert with_facts.ground_line("If you liked **Saturday**, rated 4.3 by its readers, try these:") is None


@pytest.mark.parametrize(
    "line, low, high",
    [
        ("rated 4 or higher", 3.94, float("inf")),
        ("under 10,000 ratings", float("-inf"), 10_200),
        ("published 1990–2000", 1989, 2001),
        ("about 45,000 readers", 40_500, 49_500),
    ],
)
def test_figure_claims_reads_bounds_and_spans(line: str, low: float, high: float) -> None:
    (claim,) = figure_claims(line)
    assert (claim.low, claim.high) == pytest.approx((low, high))


@pytest.mark.parametrize(
    "line",
    [
        "1. **Rebecca** by Daphne du Maurier (1938) — a gothic classic.",
        "- Dom Casmurro by Joaquim Maria Machado de Assis, a plain-text item.",
        "- *Rebecca*, by Daphne du Maurier",
    ],
)
def test_an_author_with_a_lower_case_particle_is_the_whole_name(line: str) -> None:
    g = Grounder()
    g.add_book("Rebecca", ["Daphne du Maurier"])
    g.add_book("Dom Casmurro", ["Joaquim Maria Machado de Assis"])
    assert g.ground_line(line) == line, g.invented(line)
    # ...and still the written author's: the particle does not let another name through.
    assert g.ground_line("- **Rebecca** by Daphne de Souza") is None
