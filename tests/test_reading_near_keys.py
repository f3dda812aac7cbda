"""NearKeys: the keys a near spelling is scored against are narrowed without changing the best match."""

from __future__ import annotations

import random
import string

import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from vibeshelf.agent.reading.vocabulary import NearKeys, catalog_vocabulary


def misspelt(key: str, rng: random.Random) -> str:
    """``key`` with one to three random deletions, insertions or substitutions."""
    chars = list(key)
    for _ in range(rng.choice([1, 1, 2, 3])):
        at = rng.randrange(len(chars) + 1)
        letter = rng.choice(string.ascii_lowercase + " ")
        op = rng.random()
        if op < 0.33 and at < len(chars):
            del chars[at]
        elif op < 0.66:
            chars.insert(at, letter)
        elif at < len(chars):
            chars[at] = letter
    return "".join(chars)


@pytest.mark.parametrize("kind", ["authors", "titles", "series"])
def test_the_narrowed_keys_give_the_best_match_of_all_keys(goodbooks_mini_catalog, kind: str) -> None:
    vocab = catalog_vocabulary(goodbooks_mini_catalog.catalog)
    keys, cutoff = {
        "authors": (list(vocab.by_full), 92.0),
        "titles": ([k for k in vocab.titles if len(k.split()) >= 3], 92.0),
        "series": ([k for k in vocab.series if len(k.split()) >= 2], 90.0),
    }[kind]
    assert len(keys) > 20
    near = NearKeys(keys, cutoff)
    rng = random.Random(7)
    texts = [text for key in keys for text in (key, misspelt(key, rng), misspelt(key, rng))]
    texts += ["the girl who played", "stephen kng", "a b", ""]
    matched = 0
    for text in texts:
        narrowed = near.near(text)
        assert len(narrowed) <= len(keys)
        for scorer, score_cutoff in ((fuzz.ratio, cutoff), (Levenshtein.distance, 1)):
            best = process.extractOne(text, keys, scorer=scorer, score_cutoff=score_cutoff)
            assert process.extractOne(text, narrowed, scorer=scorer, score_cutoff=score_cutoff) == (
                None if best is None else (best[0], best[1], narrowed.index(best[0]))
            ), text
            matched += best is not None
    assert matched > len(texts) // 2  # the misspellings mostly still match: the check is not vacuous


def test_only_keys_sharing_a_piece_with_the_text_are_scored() -> None:
    near = NearKeys(["john grisham", "john green", "margaret atwood", "ursula k le guin"], 92.0)
    found = near.near("john gresham")
    assert "john grisham" in found
    assert "margaret atwood" not in found
    assert near.near("zzzzzzzzzz") == []


def test_a_name_keyed_without_its_suffix_is_found_near() -> None:
    # "Kurt Vonnegut Jr." is also keyed "kurt vonnegut": the near index covers that key too, so a misspelling
    # of the name as readers write it ("kurt vonegut") links to the author.
    from vibeshelf.agent.reading.authors import AuthorLinker
    from vibeshelf.agent.reading.vocabulary import Vocabulary

    rows = [("Slaughterhouse-Five", ["Kurt Vonnegut Jr."]), ("The Snowman", ["Jo Nesbø"])]
    vocab = Vocabulary.build(
        [["fiction"]] * len(rows),
        [r[1] for r in rows],
        [1000] * len(rows),
        [f"{r[0]} {' '.join(r[1])}" for r in rows],
        [r[0] for r in rows],
    )
    assert "kurt vonnegut" in vocab.by_full
    assert "kurt vonnegut" in NearKeys(vocab.by_full, 92.0).near("kurt vonegut")
    assert [m.names for m in AuthorLinker(vocab).find("nothing by kurt vonegut")] == [("Kurt Vonnegut Jr.",)]
