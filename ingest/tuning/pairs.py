"""Query-like / book pairs mined from the catalog and its ratings, for contrastive tuning of the encoder.

Three kinds, mixed in fixed shares (``PairMix``), all from data the catalog already has and never from
an evaluation set. A pair names its books by catalog id:

* ``shelf``: one or two of a book's specific shelves phrased as a reader's request ("looking for
  dystopian, ideally young adult"; templates and shelf phrasings in ``data/``) -> the book; every book on
  all the requested shelves answers it too (``TrainingPair.shelves``). Hard negative: a book on the same
  broad shelf with none of the requested ones.
* ``blurb``: one sentence of a description -> its book, which keeps exact content matching. Hard
  negative: a book on the same first shelf.
* ``coread``: a liking cue about one book ("more like <title>") -> the book whose 4-5 star readers are
  most like its own (cosine of the reader sets).

A fixed share of books (``held_out_fraction``, chosen by a hash of the id) is never used, so a gain can be
measured on books the tuning never saw (``is_held_out``).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pyarrow as pa

from vibeshelf.retrieval.genre_shelves import BROAD_GENRES

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


@dataclass(frozen=True)
class TrainingPair:
    """A reader-like request and the book (catalog id) that answers it; ``negative`` a near miss."""

    kind: str
    anchor: str
    positive: str
    negative: str | None = None
    shelves: tuple[str, ...] = ()  # a shelf request: every book on all of these answers it


@dataclass(frozen=True)
class PairMix:
    shelf: float = 0.45
    blurb: float = 0.3
    coread: float = 0.25


def is_held_out(book_id: str, fraction: float) -> bool:
    """Whether ``book_id`` is among the books tuning never sees (stable across runs and machines)."""
    digest = hashlib.sha256(book_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def _data_lines(name: str) -> list[str]:
    text = resources.files("vibeshelf.ingest.tuning").joinpath("data", name).read_text(encoding="utf-8")
    return [line.rstrip("\n") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def request_templates() -> tuple[list[str], list[str], list[str]]:
    """(one-shelf templates, two-shelf templates, liking templates)."""
    lines = _data_lines("request_templates.txt")
    liking = [t for t in lines if "{t}" in t]
    shelf = [t for t in lines if "{t}" not in t]
    return [t for t in shelf if "{b}" not in t], [t for t in shelf if "{b}" in t], liking


def shelf_phrases() -> dict[str, list[str]]:
    phrases = {}
    for line in _data_lines("shelf_phrases.tsv"):
        shelf, _, said = line.partition("\t")
        phrases[shelf] = [p for p in said.split("|") if p]
    return phrases


def _sentences(description: str | None) -> list[str]:
    if not description:
        return []
    return [s for s in _SENTENCE.split(" ".join(description.split())) if 40 <= len(s) <= 300]


def coread_pairs(
    book_ids: list[str], ratings: pa.Table, anchors: list[str], *, min_readers: int = 5
) -> list[tuple[str, str]]:
    """For each anchor, the book whose liked-by set is most like the anchor's (cosine), among ``book_ids``."""
    from scipy import sparse

    liked = ratings.filter(pa.compute.greater_equal(ratings["rating"], 4))
    position = {b: i for i, b in enumerate(book_ids)}
    users: dict[str, int] = {}
    rows, cols = [], []
    for user, book in zip(liked["user_id"].to_pylist(), liked["book_id"].to_pylist(), strict=True):
        if book in position:
            rows.append(users.setdefault(user, len(users)))
            cols.append(position[book])
    if not rows:
        return []
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(book_ids))
    )
    matrix.data[:] = 1.0  # a reader who rated a book twice counts once
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    by_book = matrix.T.tocsr()
    pairs = []
    chosen = [position[a] for a in anchors if a in position and counts[position[a]] >= min_readers]
    for start in range(0, len(chosen), 512):
        block = chosen[start : start + 512]
        co = (by_book[block] @ matrix).toarray()
        co /= np.sqrt(np.outer(counts[block], counts).clip(1.0))
        co[np.arange(len(block)), block] = 0.0
        co[:, counts < min_readers] = 0.0
        best = co.argmax(axis=1)
        for anchor, partner, score in zip(block, best, co[np.arange(len(block)), best], strict=True):
            if score > 0:
                pairs.append((book_ids[anchor], book_ids[int(partner)]))
    return pairs


def mine_pairs(
    catalog: pa.Table,
    ratings: pa.Table | None,
    *,
    n_pairs: int,
    seed: int = 0,
    held_out_fraction: float = 0.2,
    mix: PairMix = PairMix(),
) -> list[TrainingPair]:
    """``n_pairs`` training pairs in a seeded shuffled order (the same arguments give the same list)."""
    rng = random.Random(seed)
    columns = ["id", "title", "authors", "genres", "description"]
    books = [b for b in catalog.select(columns).to_pylist() if not is_held_out(b["id"], held_out_fraction)]
    by_id = {b["id"]: b for b in books}
    by_shelf: dict[str, list[str]] = defaultdict(list)
    for b in books:
        for g in b["genres"] or ():
            by_shelf[g].append(b["id"])
    one_shelf, two_shelves, liking = request_templates()
    phrases = shelf_phrases()

    def say(shelf: str) -> str:
        return rng.choice(phrases.get(shelf) or [shelf.replace("_", " ")])

    def negative_for(book: dict, avoid: set[str], pool_shelf: str | None) -> str | None:
        pool = by_shelf.get(pool_shelf or "") or []
        for _ in range(8 if pool else 0):
            other = rng.choice(pool)
            if other != book["id"] and not avoid & set(by_id[other]["genres"] or ()):
                return other
        return None

    wanted = {"shelf": round(n_pairs * mix.shelf), "blurb": round(n_pairs * mix.blurb)}
    wanted["coread"] = max(0, n_pairs - sum(wanted.values()))
    pairs: list[TrainingPair] = []

    shelved = [b for b in books if [g for g in b["genres"] or () if g not in BROAD_GENRES]]
    for _ in range(wanted["shelf"] if shelved else 0):
        book = rng.choice(shelved)
        specific = [g for g in book["genres"] if g not in BROAD_GENRES][:4]
        if len(specific) >= 2 and two_shelves and rng.random() < 0.5:
            a, b = rng.sample(specific, 2)
            request, asked = rng.choice(two_shelves).format(a=say(a), b=say(b)), {a, b}
        else:
            a = rng.choice(specific)
            request, asked = rng.choice(one_shelf).format(a=say(a)), {a}
        broad = next((g for g in book["genres"] if g in BROAD_GENRES), None)
        pairs.append(
            TrainingPair("shelf", request, book["id"], negative_for(book, asked, broad), tuple(sorted(asked)))
        )

    described = [(b, s) for b in books for s in _sentences(b["description"])]
    for book, sentence in rng.sample(described, min(wanted["blurb"], len(described))):
        first = (book["genres"] or [None])[0]
        pairs.append(TrainingPair("blurb", sentence, book["id"], negative_for(book, set(), first)))

    if ratings is not None and wanted["coread"] and liking:
        ids = list(by_id)
        anchors = rng.sample(ids, min(len(ids), wanted["coread"] * 2))
        for a, b in coread_pairs(ids, ratings, anchors)[: wanted["coread"]]:
            seed_book = by_id[a]
            request = rng.choice(liking).format(t=seed_book["title"], w=(seed_book["authors"] or ["?"])[0])
            pairs.append(TrainingPair("coread", request, b))

    rng.shuffle(pairs)
    return pairs
