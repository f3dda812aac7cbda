"""Whether a message is against something it names, judged from the words around it rather than a cue list.

Readers rule things out in ways no list of cues holds ("Stephen King gives me the ick", "poetry goes over my
head", "true crime can stay on the airport shelf"). The rule reading (``reader.py``) finds the refusals it
has cues for; what it leaves undecided, an author or a kind of book named outside every refusal and lift,
is judged here: the clause and the sentence around the name, with the name replaced by a placeholder, are
embedded with the query encoder we already ship, and a logistic regression on those two vectors gives the
probability that the reader is against it.

The regression is fitted on ``data/stance_examples.jsonl``: 760 short messages with one target each,
labelled against / for / neutral, written by two writers who never saw the reader's code or its eval sets
(see ``data/stance_examples.md``). Fitting takes one encoder pass over them (seconds); the weights are
cached in the encoder's folder (``vibeshelf ingest`` fits them there), keyed by the examples' digest, the
encoder's model and the L2 strength, so a server never fits at all or fits once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from vibeshelf.agent.reading.cues import function_words
from vibeshelf.layout import STANCE_FILE

logger = logging.getLogger(__name__)

EXAMPLES_FILE = "stance_examples.jsonl"
PLACEHOLDER = "X"  # what the named thing becomes: the judgement is about the words around it, not the name

# A clause ends at punctuation or a word that turns to another thought ("..., but", "whereas").
_CLAUSE_BREAK = re.compile(
    r"[,;:.!?()\n\u2014\u2013]|\s-\s|\b(?:but|though|although|whereas|while|however|yet|so|because|instead|rather"
    r"|unlike|except)\b",
    re.IGNORECASE,
)
# A colon does not end the sentence: what it introduces is said under the words before it.
_SENTENCE_BREAK = re.compile(r"[.!?;\n]+")
# A list after a colon ("The following are disqualified: Sparks, Roberts"): its items' clause is the lead-in.
_LIST_AFTER_COLON = re.compile(r":(?P<items>[^.!?;:\n]*)$")
_LIST_ITEM_WORDS = 12  # more words than this between the colon and the item: a clause of its own
# How the views are cut; part of the cached weights' key, since the same examples give other features.
VIEWS = "2: a colon's list under its lead-in"
_WORD = re.compile(r"[^\W\d_]{3,}")
# A verdict needs words to be said in: a clause of the target and a "please" ("horror pls", "sci fi again")
# asks for it or names it, and the regression has nothing to read there.
MIN_PREDICATE_WORDS = 2

Encode = Callable[[list[str]], np.ndarray]
# (text, start, end) spans of one message -> the probability that the reader is against each.
StanceGuesser = Callable[[str, Sequence[tuple[int, int]]], list[float]]


def text_around(text: str, breaks: re.Pattern[str], start: int, end: int) -> str:
    """``text`` from the last break before ``start`` to the first after ``end``, stripped."""
    left = max((m.end() for m in breaks.finditer(text, 0, start) if m.end() <= start), default=0)
    right = next((m.start() for m in breaks.finditer(text, end)), len(text))
    return text[left:right].strip()


def target_views(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause and the sentence around ``text[start:end]``, the target replaced by the placeholder. A
    target alone in an item of a list after a colon takes the colon's lead-in clause as its own."""
    masked = text[:start] + PLACEHOLDER + text[end:]
    stop = start + len(PLACEHOLDER)
    clause = text_around(masked, _CLAUSE_BREAK, start, stop)
    sentence = text_around(masked, _SENTENCE_BREAK, start, stop)
    listed = _LIST_AFTER_COLON.search(masked, 0, start)
    if (
        listed
        and len(_content_words(clause)) < MIN_PREDICATE_WORDS
        and len(listed.group("items").split()) <= _LIST_ITEM_WORDS
    ):
        lead = text_around(masked, _CLAUSE_BREAK, listed.start(), listed.start())
        clause = f"{lead}: {clause}"
    return clause, sentence


def _content_words(clause: str) -> list[str]:
    return [w for w in _WORD.findall(clause) if w.lower() not in function_words()]


@dataclass(frozen=True)
class StanceExample:
    text: str
    target: str
    against: bool

    @property
    def span(self) -> tuple[int, int]:
        start = self.text.index(self.target)
        return start, start + len(self.target)


def examples_text() -> str:
    return (
        resources.files("vibeshelf.agent.reading")
        .joinpath("data")
        .joinpath(EXAMPLES_FILE)
        .read_text(encoding="utf-8")
    )


def parse_examples(text: str, source: str = EXAMPLES_FILE) -> list[StanceExample]:
    """The labelled lines; a malformed one raises naming the file and line (the file ships with the code)."""
    examples: list[StanceExample] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [key for key in ("text", "target", "stance") if key not in row]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            stance = row["stance"]
            if stance not in ("against", "for", "neutral") or row["target"] not in row["text"]:
                raise ValueError("stance must be against/for/neutral and target a part of text")
            examples.append(StanceExample(row["text"], row["target"], stance == "against"))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{source} line {number}: {err}") from err
    return examples


def _predicate_words(text: str, start: int, end: int) -> int:
    clause, _ = target_views(text, start, end)
    return len(_content_words(clause))


def features(encode: Encode, items: Sequence[tuple[str, int, int]]) -> np.ndarray:
    """One row per (text, start, end): the clause's and the sentence's embeddings side by side."""
    views = [target_views(text, start, end) for text, start, end in items]
    vectors = encode([v for pair in views for v in pair])
    return vectors.reshape(len(items), -1)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 25) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (the problem is small: ~1k rows, ~800 columns)."""
    rows, cols = x.shape
    design = np.hstack([x, np.ones((rows, 1))]).astype(np.float64)
    penalty = np.full(cols + 1, l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    w = np.zeros(cols + 1)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1].astype(np.float32), float(w[-1])


class StanceJudge:
    """P(against) for targets in messages, from the fitted regression over ``features``."""

    # Within 0.01 AUC of the best 5-fold strength on the examples (1.0: eval/stance/score.py), and its
    # probabilities spread far enough for the reader's threshold, which was chosen with it on the dev halves.
    L2 = 0.3

    def __init__(self, encode: Encode, weights: np.ndarray, bias: float) -> None:
        self._encode = encode
        self.weights = weights
        self.bias = bias

    @classmethod
    def fit(cls, encode: Encode, examples: Sequence[StanceExample], l2: float = L2) -> StanceJudge:
        x = features(encode, [(e.text, *e.span) for e in examples])
        y = np.array([e.against for e in examples], dtype=np.float64)
        weights, bias = fit_logistic(x, y, l2)
        return cls(encode, weights, bias)

    @classmethod
    def open(cls, cache: Path, encode: Encode, model: str) -> StanceJudge:
        """The judge for ``model``'s vectors: from ``cache`` when it was fitted on these examples with this
        model, else fitted now and cached (written atomically; several workers may race, any copy is right)."""
        text = examples_text()
        key = hashlib.sha256(f"{model}\n{cls.L2}\n{VIEWS}\n{text}".encode()).hexdigest()
        try:
            with np.load(cache) as saved:
                if str(saved["key"]) == key:
                    return cls(encode, saved["weights"], float(saved["bias"]))
        except (OSError, KeyError, ValueError):
            pass  # missing or from an older build: fit again
        logger.info("fitting the stance judge for %s (once per encoder; cached at %s)", model, cache)
        judge = cls.fit(encode, parse_examples(text))
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".npz.tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    np.savez(out, key=key, weights=judge.weights, bias=judge.bias)
                os.replace(tmp, cache)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError:  # a read-only home: it serves all the same, and fits again at the next start
            logger.warning("could not cache the stance judge at %s; it is fitted again next start", cache)
        return judge

    @classmethod
    def beside_encoder(cls, encoder_dir: Path) -> StanceJudge:
        """The judge over an exported encoder folder, fitted into it when missing (ingest does this, so a
        server's first start finds it ready)."""
        from vibeshelf.retrieval.encoder import QueryEncoder

        encoder = QueryEncoder.load(encoder_dir, cache_size=0)
        return cls.open(encoder_dir / STANCE_FILE, encoder.encode, encoder.info.model)

    def against(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        """P(against) for each span of ``text``; 0 where its clause holds no verdict (too few words)."""
        said = [
            (start, end) for start, end in spans if _predicate_words(text, start, end) >= MIN_PREDICATE_WORDS
        ]
        judged = dict(zip(said, self.regression(text, said), strict=True)) if said else {}
        return [judged.get(span, 0.0) for span in spans]

    def regression(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        """P(against) from the regression alone, for every span (``against`` adds the predicate limit)."""
        x = features(self._encode, [(text, start, end) for start, end in spans])
        if x.shape[1] != self.weights.shape[0]:  # a reindex switched to another model: no judgement
            fitted, got = self.weights.shape[0], x.shape[1]
            logger.warning("stance judge fitted for %d-d vectors, got %d-d; restart to refit", fitted, got)
            return [0.0] * len(spans)
        return (1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))).tolist()
