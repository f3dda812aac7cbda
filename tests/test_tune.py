"""`vibeshelf tune`: mined pairs, the adapter fit, and the adapter as the served query encoder."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pyarrow.parquet as pq
from click.testing import CliRunner

from vibeshelf.cli import main
from vibeshelf.ingest.tuning.adapter_fit import AdapterConfig, fit_adapter
from vibeshelf.ingest.tuning.pairs import is_held_out, mine_pairs
from vibeshelf.layout import Layout
from vibeshelf.retrieval.query_adapter import AdaptedEncoder, QueryAdapter
from vibeshelf.retrieval.services import open_services


def test_pairs_are_seeded_skip_held_out_books_and_mix_every_kind(goodbooks_mini_catalog) -> None:
    catalog = pq.read_table(goodbooks_mini_catalog.catalog)
    ratings = pq.read_table(goodbooks_mini_catalog.ratings)
    pairs = mine_pairs(catalog, ratings, n_pairs=400, seed=3, held_out_fraction=0.3)
    assert pairs == mine_pairs(catalog, ratings, n_pairs=400, seed=3, held_out_fraction=0.3)
    assert {p.kind for p in pairs} == {"shelf", "blurb", "coread"}
    genres = dict(zip(catalog["id"].to_pylist(), catalog["genres"].to_pylist(), strict=True))
    for p in pairs:
        assert not is_held_out(p.positive, 0.3)
        assert p.negative is None or not is_held_out(p.negative, 0.3)
        assert set(p.shelves) <= set(genres[p.positive])
    assert any(is_held_out(i, 0.3) for i in genres)  # some books really are kept out


def test_fit_learns_a_map_the_identity_gets_wrong() -> None:
    rng = np.random.default_rng(0)
    books = rng.normal(size=(60, 8)).astype(np.float32)
    books /= np.linalg.norm(books, axis=1, keepdims=True)
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    anchors = (books @ rotation.T).astype(np.float32)  # requests live in a rotated space
    positives = [np.array([i]) for i in range(len(books))]

    def accuracy(vectors: np.ndarray) -> float:
        return float(np.mean(np.argmax(vectors @ books.T, axis=1) == np.arange(len(books))))

    config = AdapterConfig(epochs=60, batch_size=20, learning_rate=0.05, l2=0.0, temperature=0.1)
    adapter = fit_adapter(anchors, positives, books, config, model="m")
    assert accuracy(adapter.apply(anchors)) > accuracy(anchors) + 0.5
    assert adapter.model == "m" and adapter.info["pairs"] == 60


def test_tune_writes_the_adapter_that_services_serve(goodbooks_mini_index, tmp_path, caplog) -> None:
    home = tmp_path / "home"
    shutil.copytree(goodbooks_mini_index.home, home)
    layout = Layout(home)
    result = CliRunner().invoke(main, ["tune", "--out", str(home), "--pairs", "150", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert layout.query_adapter.is_file()
    tuned = open_services(layout, load_cf=False, query_adapter=True)
    assert isinstance(tuned.encoder, AdaptedEncoder)
    base = open_services(layout, load_cf=False, query_adapter=False)
    assert not isinstance(base.encoder, AdaptedEncoder)
    query = ["a cozy village mystery"]
    expected = tuned.encoder.adapter.apply(base.encoder.encode(query))
    np.testing.assert_allclose(tuned.encoder.encode(query), expected, atol=1e-6)

    # An adapter tuned for another model is not applied to this index's vectors.
    QueryAdapter(np.eye(384, dtype=np.float32), "some/other-model").save(layout.query_adapter)
    with caplog.at_level(logging.WARNING):
        other = open_services(layout, load_cf=False, query_adapter=True)
    assert not isinstance(other.encoder, AdaptedEncoder)
    assert "some/other-model" in caplog.text


def test_tune_without_an_index_says_to_ingest(tmp_path) -> None:
    result = CliRunner().invoke(main, ["tune", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "vibeshelf ingest" in result.output
