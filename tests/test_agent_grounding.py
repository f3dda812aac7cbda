"""Grounding: titles in the answer must come from the tools; tricky formatting and near-misses."""

from __future__ import annotations

import logging

import pytest

from vibeshelf.agent.grounding import Grounder, StreamingGrounder, looks_like_title, title_mentions


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
