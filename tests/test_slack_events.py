"""Which Slack events are questions for vibeshelf, and what the person actually wrote."""

from __future__ import annotations

from slack_support import direct_message, mention

from vibeshelf.web.slack.events import SlackEnvelope, incoming_message, plain_text


def test_plain_text_drops_mentions_and_keeps_what_was_typed() -> None:
    assert plain_text("<@U0BOT> books like <https://example.org/x|The Hobbit> &amp; more") == (
        "books like The Hobbit & more"
    )
    assert plain_text("<@U0BOT|vibeshelf> hi <!here> in <#C123|books> or <#C9>") == "hi in #books or"
    assert plain_text("see <https://example.org/a> &lt;3") == "see https://example.org/a <3"
    assert plain_text("  <@U0BOT>   ") == ""


def test_a_mention_in_a_thread_answers_in_that_thread() -> None:
    message = incoming_message(SlackEnvelope.model_validate(mention("C1", "more please", "2.2", "1.1")))
    assert message is not None
    assert (message.kind, message.channel, message.ts, message.thread_ts) == ("mention", "C1", "2.2", "1.1")
    assert message.text == "more please" and message.user == "U0READER" and message.team == "T0TEST"
    top = incoming_message(SlackEnvelope.model_validate(mention("C1", "hi", "3.3")))
    assert top is not None and top.thread_ts == "3.3"  # a top-level mention starts its own thread


def test_only_people_s_new_direct_messages_are_questions() -> None:
    def kind(**extra: object) -> str | None:
        payload = direct_message("D1", "a book", "4.4")
        payload["event"].update(extra)
        message = incoming_message(SlackEnvelope.model_validate(payload))
        return message.kind if message else None

    assert kind() == "dm"
    assert kind(bot_id="B1") is None  # a bot, ourselves included
    assert kind(subtype="message_changed") is None
    assert kind(subtype="message_deleted", user=None) is None
    assert kind(channel_type="channel") is None  # channel chatter without a mention
    assert kind(type="reaction_added") is None
    assert incoming_message(SlackEnvelope(type="url_verification", challenge="x")) is None
