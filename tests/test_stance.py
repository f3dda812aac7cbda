"""The stance judge: refusals said in words no cue list holds, read from the words around what is named."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from test_reading import vocab

from vibeshelf.agent.intent import ParseConfig
from vibeshelf.agent.reading.reader import STANCE_CONFIDENCE, MessageReader
from vibeshelf.agent.reading.stance import (
    PLACEHOLDER,
    StanceJudge,
    examples_text,
    fit_logistic,
    parse_examples,
    target_views,
)


class ScriptedStance:
    """Says the reader is against whatever is named right before one of ``AGAINST``, and records what it
    was asked about."""

    AGAINST = ("gives me the ick", "goes over my head", "can stay on the airport shelf")

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        out = []
        for start, end in spans:
            self.asked.append(text[start:end])
            after = text[end:].lstrip(" ,")
            out.append(0.95 if after.startswith(self.AGAINST) else 0.1)
        return out


@pytest.fixture
def judged() -> tuple[MessageReader, ScriptedStance]:
    stance = ScriptedStance()
    return MessageReader(vocab(), ParseConfig(), stance=stance), stance


def test_an_author_the_judge_finds_refused_is_ruled_out_and_not_taken_as_a_liking(judged) -> None:
    reader, _ = judged
    intent = reader.read("Gillian Flynn gives me the ick. Something cozy like Agatha Christie?")
    assert "Gillian Flynn" in intent.exclude_authors
    assert "Agatha Christie" not in intent.exclude_authors
    assert all(ref.title != "Gone Girl" for ref in intent.like_titles)


def test_a_kind_the_judge_finds_refused_is_ruled_out_not_asked_for(judged) -> None:
    reader, _ = judged
    intent = reader.read("Poetry goes over my head, so a mystery please")
    assert "poetry" in intent.genres_exclude
    assert "poetry" not in intent.genres_include
    assert "mystery" in intent.genres_include
    # A guess from meaning: it yields to a kind the standing request holds (RequestTracker).
    assert "poetry" in intent.guessed_exclude


def test_what_the_cues_decided_is_never_judged_again(judged) -> None:
    reader, stance = judged
    intent = reader.read("no Stephen King, but Neil Gaiman is fine, and some fantasy or a mystery")
    assert "Stephen King" in intent.exclude_authors
    assert "Stephen King" not in stance.asked  # the cue's refusal stands as the cues read it
    assert "Neil Gaiman" not in stance.asked  # lifted by "is fine"
    assert "fantasy" in stance.asked and "fantasy" in intent.genres_include


@pytest.mark.parametrize(
    "text", ["Gillian Flynn never lets me down", "gillian flynn never disappoints, more please"]
)
def test_an_author_praised_is_never_judged(judged, text: str) -> None:
    reader, stance = judged
    intent = reader.read(text)
    assert "Gillian Flynn" not in stance.asked and "Gillian Flynn" not in intent.exclude_authors


def test_the_only_kind_a_message_asks_for_is_never_judged(judged) -> None:
    reader, stance = judged
    intent = reader.read("Poetry goes over my head")
    assert stance.asked == [] and "poetry" not in intent.genres_exclude


def test_an_unsure_judge_rules_nothing_out(judged) -> None:
    reader, _ = judged
    intent = reader.read("a thriller like Gone Girl, and maybe Paula Hawkins")
    assert intent.exclude_authors == [] and intent.genres_exclude == []


def test_views_replace_the_target_and_stop_at_the_clause() -> None:
    text = "I love Tolkien, but horror can stay on the airport shelf. Thanks!"
    start = text.index("horror")
    clause, sentence = target_views(text, start, start + len("horror"))
    assert clause == f"{PLACEHOLDER} can stay on the airport shelf"
    assert sentence == f"I love Tolkien, but {PLACEHOLDER} can stay on the airport shelf"


@pytest.mark.parametrize("item", ["Nicholas Sparks", "Nora Roberts"])
def test_an_item_of_a_list_after_a_colon_is_seen_under_its_lead_in(item: str) -> None:
    text = (
        "Romance, please. The following are disqualified: Nicholas Sparks, Nora Roberts. Reasons on request."
    )
    start = text.index(item)
    clause, sentence = target_views(text, start, start + len(item))
    assert clause == f"The following are disqualified: {PLACEHOLDER}"
    assert sentence.startswith("The following are disqualified: ") and PLACEHOLDER in sentence


def test_a_clause_of_its_own_after_a_colon_keeps_its_own_words() -> None:
    text = "Two things: horror bores me to tears."
    start = text.index("horror")
    clause, _ = target_views(text, start, start + len("horror"))
    assert clause == f"{PLACEHOLDER} bores me to tears"


def test_the_shipped_examples_parse() -> None:
    examples = parse_examples(examples_text())
    assert len(examples) >= 700
    assert 0.3 < np.mean([e.against for e in examples]) < 0.5
    assert all(e.text[slice(*e.span)] == e.target for e in examples)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('{"text": "no horror", "target": "horror", "stance": "maybe"}', "line 2: stance must be"),
        ('{"text": "no horror", "target": "poetry", "stance": "against"}', "line 2: stance must be"),
        ('{"text": "no horror"}', "line 2: missing target, stance"),
        ("not json", "line 2: Expecting value"),
    ],
)
def test_a_malformed_example_names_its_line(line: str, error: str) -> None:
    good = '{"text": "no horror", "target": "horror", "stance": "against"}'
    with pytest.raises(ValueError, match=error):
        parse_examples(f"{good}\n{line}\n", "examples.jsonl")


def test_the_regression_learns_a_separable_rule() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 3] > 0.2).astype(np.float64)
    weights, bias = fit_logistic(x, y, l2=0.01)
    predicted = (x @ weights + bias) > 0
    assert (predicted == y.astype(bool)).mean() >= 0.97
    assert weights[0] > 0 > weights[3] and abs(weights[1]) < weights[0]


def test_the_fitted_judge_is_cached_beside_the_encoder_and_refitted_for_another_model(tmp_path) -> None:
    calls: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        rng = np.random.default_rng(len(texts))
        return rng.normal(size=(len(texts), 8)).astype(np.float32)

    cache = tmp_path / "encoder" / "stance.npz"
    first = StanceJudge.open(cache, encode, "model-a")
    assert cache.is_file() and len(calls) == 1
    again = StanceJudge.open(cache, encode, "model-a")
    assert len(calls) == 1  # read from the cache, not fitted again
    assert np.allclose(first.weights, again.weights) and first.bias == again.bias
    StanceJudge.open(cache, encode, "model-b")
    assert len(calls) == 2


def test_a_home_it_cannot_write_still_gets_a_judge(tmp_path, caplog) -> None:
    (tmp_path / "encoder").write_text("a file where the folder should be")
    judge = StanceJudge.open(
        tmp_path / "encoder" / "stance.npz",
        lambda texts: np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32),
        "model-a",
    )
    assert judge.weights.shape == (16,)
    assert "could not cache the stance judge" in caplog.text


def test_a_judge_fitted_for_other_vectors_judges_nothing() -> None:
    judge = StanceJudge(
        lambda texts: np.ones((len(texts), 4), dtype=np.float32), np.ones(16, np.float32), 5.0
    )
    assert judge.against("no horror", [(3, 9)]) == [0.0]


def test_the_judge_over_the_real_encoder_reads_phrasings_nobody_labelled(goodbooks_mini_index) -> None:
    """Written for this test (none is in the examples): the judge must rank what readers are against above
    what they ask for, though no word of a cue list is in them."""
    from vibeshelf.retrieval.encoder import QueryEncoder

    encoder = QueryEncoder.load(goodbooks_mini_index.encoder)
    judge = StanceJudge.open(goodbooks_mini_index.stance, encoder.encode, encoder.info.model)
    against = [
        ("Westerns put me to sleep every time, anything else is fine", "Westerns"),
        ("I find Hemingway unbearable, his style grates on me", "Hemingway"),
        ("after three Jodi Picoult books in a row I need a long break from her", "Jodi Picoult"),
        ("cookbooks just gather dust on my shelf, so skip those", "cookbooks"),
        ("honestly space opera is wasted on me", "space opera"),
        ("Dan Brown makes me roll my eyes so hard it hurts", "Dan Brown"),
    ]
    wanted = [
        ("Westerns are my dad's favourite and mine too, more please", "Westerns"),
        ("I adore Hemingway, his style is so clean", "Hemingway"),
        ("I could read Jodi Picoult all summer long", "Jodi Picoult"),
        ("cookbooks with stories in them are the best gifts", "cookbooks"),
        ("give me space opera with big battles", "space opera"),
        ("Dan Brown is perfect for the plane, something like that", "Dan Brown"),
    ]

    def p(text: str, target: str) -> float:
        start = text.index(target)
        return judge.against(text, [(start, start + len(target))])[0]

    scores_against = [p(*pair) for pair in against]
    scores_wanted = [p(*pair) for pair in wanted]
    pairs_ranked_right = np.mean([a > w for a in scores_against for w in scores_wanted])
    assert pairs_ranked_right >= 0.8, (scores_against, scores_wanted)
    assert max(scores_wanted) < STANCE_CONFIDENCE, scores_wanted


def test_the_server_reads_an_unmarked_refusal_with_the_judge(goodbooks_mini_index, tmp_path) -> None:
    """Through the real app: the judge is fitted (or read) in the lifespan and reaches the planner and the
    guard, so a "no" said without a cue holds for the whole session."""
    import re

    from fastapi.testclient import TestClient
    from test_reading import _prolific_authors

    from vibeshelf.agent.reading.reader import catalog_reader
    from vibeshelf.settings import Settings
    from vibeshelf.web.app import create_app

    author, shelf = _prolific_authors(goodbooks_mini_index.catalog, 1)[0]
    message = (
        f"Honestly {author} makes my eyes glaze over every time. Something else in {shelf.replace('_', ' ')}?"
    )
    # The cues alone read no refusal here: whatever rules the author out below is the judge's doing.
    assert author not in catalog_reader(goodbooks_mini_index.catalog).read(message).exclude_authors
    settings = Settings(
        home=goodbooks_mini_index.home, state_db=tmp_path / "state.duckdb", chat_rate_limit_per_minute=0
    )
    with TestClient(create_app(settings)) as client:
        sid = client.post("/v1/sessions").json()["id"]
        for said in (message, "more please"):
            text = client.post("/v1/chat", json={"message": said, "session_id": sid}).text
            assert "event: done" in text, text[-500:]
            shown = re.findall(r'"authors": ?\[([^\]]*)\]', text.split("event: books", 1)[-1])
            assert shown and all(author not in authors for authors in shown), (said, shown)
        request = client.get(f"/v1/sessions/{sid}").json()["request"]
        assert author in request["exclude_authors"]
