"""Block Kit rendering: book cards, escaping of Slack's control characters, markdown -> mrkdwn."""

from __future__ import annotations

from vibeshelf.agent.events import BookPick
from vibeshelf.web.slack.blocks import (
    MAX_BLOCKS,
    SECTION_CHARS,
    book_blocks,
    book_section,
    defuse,
    escape,
    fit,
    text_sections,
    to_mrkdwn,
)


def pick(**fields: object) -> BookPick:
    base = {
        "id": "gb:1",
        "title": "The Rain Cottage",
        "authors": ["Ada Moss", "Ben Hale"],
        "year": 2015,
        "average_rating": 4.1,
        "ratings_count": 12345,
        "link": "https://www.goodreads.com/book/show/1",
        "image_url": "https://images.example.org/covers/1.jpg",
        "reason": "A cozy, rainy-weekend read.",
    }
    return BookPick(**{**base, **fields})


def test_a_card_has_title_link_authors_year_rating_why_and_cover() -> None:
    block = book_section(pick())
    text = block["text"]["text"]
    assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
    assert text.splitlines() == [
        "*<https://www.goodreads.com/book/show/1|The Rain Cottage>*",
        "by Ada Moss, Ben Hale · 2015",
        "★ 4.10 (12,345 ratings)",
        "_A cozy, rainy-weekend read._",
    ]
    assert block["accessory"] == {
        "type": "image",
        "image_url": "https://images.example.org/covers/1.jpg",
        "alt_text": "Cover of The Rain Cottage",
    }
    assert block["block_id"] == "book:gb:1"


def test_catalog_text_cannot_ping_or_inject_links() -> None:
    block = book_section(
        pick(
            title="<!channel> Tom & Jerry <https://evil.example|click>",
            authors=["<@U123>"],
            reason="*bold* & <b>",
            link="javascript:alert(1)",
            image_url="data:image/png;base64,xx",
        )
    )
    text = block["text"]["text"]
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; Tom &amp; Jerry &lt;https://evil.example|click&gt;" in text
    assert "by &lt;@U123&gt;" in text
    assert "javascript:" not in text  # no link at all for a non-http URL
    assert "accessory" not in block  # nor an image


def test_link_urls_cannot_break_out_of_the_link_syntax() -> None:
    text = book_section(pick(link="https://example.org/a|b>c?x=1&y=2"))["text"]["text"]
    assert text.startswith("*<https://example.org/a%7Cb%3Ec?x=1&amp;y=2|The Rain Cottage>*")


def test_a_card_without_optional_fields_still_renders() -> None:
    book = BookPick(id="x", title="Untitled")
    block = book_section(book)
    assert block["text"]["text"] == "*Untitled*" and "accessory" not in block
    assert book_section(pick(year=-350, ratings_count=None))["text"]["text"].splitlines()[1:3] == [
        "by Ada Moss, Ben Hale · 350 BC",
        "★ 4.10",
    ]


def test_book_blocks_start_with_a_divider_and_show_each_book_once() -> None:
    blocks = book_blocks([pick(), pick(id="gb:2", title="Other"), pick()])
    assert [b["type"] for b in blocks] == ["divider", "section", "actions", "section", "actions"]
    assert book_blocks([]) == []


def test_markdown_becomes_mrkdwn() -> None:
    md = (
        "## Picks\n"
        "Try **The Rain Cottage** by *Ada Moss* — see [its page](https://example.org/b?id=1&x=2).\n"
        "- one & two\n"
        "* three <maybe>"
    )
    assert to_mrkdwn(md).splitlines() == [
        "*Picks*",
        "Try *The Rain Cottage* by _Ada Moss_ — see <https://example.org/b?id=1&amp;x=2|its page>.",
        "• one &amp; two",
        "• three &lt;maybe&gt;",
    ]
    assert to_mrkdwn("**[Bold link](https://e.org)**") == "*<https://e.org|Bold link>*"
    assert to_mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))"  # not made a link
    assert to_mrkdwn("<!here> ping") == "&lt;!here&gt; ping"


def test_streamed_markdown_cannot_mention_anyone() -> None:
    text = defuse("Hi <!here> and <@U123> in <#C1>; 3 < 4 stays.")
    assert "<!" not in text and "<@" not in text and "<#" not in text
    assert "3 < 4 stays." in text


def test_long_answers_are_split_within_the_section_limit() -> None:
    paragraph = ("word " * 150).strip()  # 749 characters
    md = "\n\n".join([paragraph] * 10)
    sections = text_sections(md)
    assert len(sections) >= 3
    assert all(len(s["text"]["text"]) <= SECTION_CHARS for s in sections)
    assert " ".join(s["text"]["text"] for s in sections).split() == md.split()


def test_fit_keeps_a_message_within_fifty_blocks() -> None:
    many = [{"type": "section", "text": {"type": "mrkdwn", "text": str(n)}} for n in range(70)]
    fitted = fit(many)
    assert len(fitted) == MAX_BLOCKS and fitted[-1]["type"] == "context"
    assert fit(many[:5]) == many[:5]


def test_escape_only_touches_the_three_control_characters() -> None:
    assert escape("a & b < c > d *e* _f_") == "a &amp; b &lt; c &gt; d *e* _f_"


def test_cards_and_their_buttons_are_valid_block_kit_for_slack_sdk() -> None:
    from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

    books = [pick(), pick(id="gb:2", title="Other")]
    parsed = [Block.parse(b) for b in book_blocks(books)]
    for block in parsed:
        block.validate_json()  # slack_sdk's own Block Kit limits (lengths, counts, required fields)
    actions = [b for b in parsed if isinstance(b, ActionsBlock)]
    assert [type(b) for b in parsed[1:3]] == [SectionBlock, ActionsBlock] and len(actions) == 2
    buttons = actions[1].elements
    assert all(isinstance(b, ButtonElement) for b in buttons)
    assert [(b.action_id, b.value) for b in buttons] == [
        ("vibeshelf_more", "gb:2"),
        ("vibeshelf_read", "gb:2"),
        ("vibeshelf_up", "gb:2"),
        ("vibeshelf_down", "gb:2"),
    ]


def test_fit_never_leaves_a_card_without_its_buttons() -> None:
    many = [{"type": "section", "text": {"type": "mrkdwn", "text": "answer"}}] * 4
    blocks = fit([*many, *book_blocks([pick(id=f"gb:{n}", title=f"T{n}") for n in range(30)])])
    assert len(blocks) <= MAX_BLOCKS and blocks[-1]["type"] == "context"
    cards = [b for b in blocks if str(b.get("block_id", "")).startswith("book:")]
    buttons = [b for b in blocks if b["type"] == "actions"]
    assert len(cards) == len(buttons) > 0
