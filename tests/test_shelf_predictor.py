"""The shelf predictor: which shelves a query asks for, and the shelf signal it gives fusion."""

from __future__ import annotations

import numpy as np
import pytest

from vibeshelf.retrieval.shelf_predictor import ShelfPredictor, shelf_label


class ScriptedEncoder:
    """Maps each known text to a fixed unit vector (our own encoder boundary, scripted)."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {k: np.asarray(v, np.float32) / np.linalg.norm(v) for k, v in vectors.items()}

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


ENCODER = ScriptedEncoder(
    {
        "horror books": [1, 0, 0],
        "humor books": [0, 1, 0],
        "mystery books": [0, 0, 1],
        "scary night": [0.9, 0.1, 0.2],
        "": [1, 1, 1],
    }
)
GENRES = [["horror"], ["horror", "mystery"], ["humor"], ["mystery"], []]
VECTORS = np.eye(3, dtype=np.float32)[[0, 0, 1, 2, 1]]


def test_predict_ranks_the_closest_shelves_with_probabilities_summing_to_one() -> None:
    predictor = ShelfPredictor.from_catalog(ENCODER, GENRES, VECTORS, top_k=2)
    found = predictor.predict("scary night")
    assert [s for s, _ in found] == ["horror", "mystery"]
    assert found[0][1] > found[1][1] > 0
    assert sum(p for _, p in found) == pytest.approx(1.0)
    assert predictor.predict("   ") == []


def test_book_scores_are_the_predicted_mass_of_each_books_shelves() -> None:
    predictor = ShelfPredictor.from_catalog(ENCODER, GENRES, VECTORS, top_k=3)
    probs = predictor.probabilities(ENCODER.encode(["scary night"])[0])
    scores = predictor.book_scores(probs)
    column = {s: j for j, s in enumerate(predictor.shelves)}
    assert scores[1] == pytest.approx(probs[column["horror"]] + probs[column["mystery"]])
    assert scores[4] == 0.0  # no shelves, no signal
    assert scores[1] > scores[0] > scores[2]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="temperature"):
        ShelfPredictor.from_catalog(ENCODER, GENRES, VECTORS, temperature=0)
    assert shelf_label("young_adult") == "young adult"


def test_services_expose_the_predictor_and_search_uses_it(mini_services) -> None:
    found = mini_services.shelves.predict("terrifying haunted house, ghosts, keep me up at night")
    assert "horror" in [s for s, _ in found[:2]]
    hits = mini_services.search.searcher.search("a spooky ghost story")
    assert all(h.shelf_score is not None and 0.0 <= h.shelf_score <= 1.0 + 1e-6 for h in hits)
    predicted = {s for s, _ in mini_services.shelves.predict("a spooky ghost story")}
    assert hits[0].shelf_score > 0 and predicted & set(hits[0].book["genres"])
