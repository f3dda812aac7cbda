"""Shared helpers for the index tests: a hand-written catalog and an embedder that counts calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog import CATALOG_SCHEMA
from vibeshelf.ingest.embedder import OnnxEmbedder
from vibeshelf.layout import Layout

BOOKS = [
    # (title, series, series_index, authors, genres, description)
    (
        "The Clockwork Orchard",
        None,
        None,
        ["Ada Finch"],
        ["steampunk", "fantasy"],
        "An inventor grows mechanical apple trees in Victorian London and must stop a guild that wants them.",
    ),
    (
        "Salt and Starlight",
        "Tidebound",
        1.0,
        ["Marisol Vega"],
        ["young_adult", "romance"],
        "Two rival lighthouse keepers on a stormy island fall in love while hiding a smuggler's secret.",
    ),
    (
        "The Quiet Ledger",
        None,
        None,
        ["Tom Beck", "Ines Park"],
        ["mystery", "crime"],
        "A small-town accountant finds a murdered client's second set of books and forged receipts.",
    ),
    (
        "Orbit of Ash",
        "Ashfall",
        2.0,
        ["K. R. Dane"],
        ["science_fiction", "space_opera"],
        "A mining crew on a dying moon mutinies against the corporation that stranded them in orbit.",
    ),
    (
        "Bread for Winter",
        None,
        None,
        ["Hanne Olsen"],
        ["cookbooks", "nonfiction"],
        "Recipes for sourdough, rye and festive Scandinavian breads, with notes on baking in cold kitchens.",
    ),
    (
        "The Last Cartographer",
        None,
        None,
        ["Ezra Lind"],
        ["historical_fiction"],
        "A mapmaker in sixteenth-century Lisbon secretly charts a coast the king wants kept hidden.",
    ),
    (
        "Paws on the Case",
        "Cat Café Mysteries",
        3.0,
        ["Molly Reed"],
        ["cozy_mystery"],
        "A café owner and her clever tabby cat solve the poisoning of a village baking contest judge.",
    ),
    (
        "Deep Water Protocol",
        None,
        None,
        ["Ray Okafor"],
        ["thriller"],
        "A navy diver uncovers a plot to sabotage an undersea data cable before a summit.",
    ),
    ("The Gardener's Year", None, None, ["Ruth Bell"], ["gardening", "nonfiction"], None),
    (
        "Ghosts of Marrow Hall",
        None,
        None,
        ["Vera Stone"],
        ["horror", "gothic"],
        # Longer than the 256 word pieces documents are truncated to (tests that index and query
        # encoder truncate alike).
        "A governess arrives at a crumbling manor where the portraits whisper at night. "
        + " ".join(
            f"On night {n} she hears footsteps in the {room}, finds a letter signed by a woman dead "
            "for a century, and learns a little more about why the family never speaks of the fire."
            for n, room in enumerate(
                ["attic", "cellar", "chapel", "library", "nursery", "tower", "garden", "stables"], 1
            )
        ),
    ),
    ("Learning to Fly", None, None, ["Sam Ortiz"], ["memoir"], None),
    (
        "The Dragon Accountant",
        None,
        None,
        ["Pip Harrow"],
        ["fantasy", "humor"],
        "A dragon who hoards spreadsheets instead of gold is audited by a very nervous knight.",
    ),
]


def write_catalog(layout: Layout, books=BOOKS) -> None:
    rows = []
    for i, (title, series, index, authors, genres, description) in enumerate(books, start=1):
        full_title = f"{title} ({series}, #{int(index)})" if series else title
        rows.append(
            {
                "id": f"test:{i}", "source": "test", "title": title, "full_title": full_title,
                "series": series, "series_index": index, "authors": authors, "year": 2000 + i,
                "language": "eng", "genres": genres, "description": description,
                "average_rating": 4.0, "ratings_count": 10 * i, "num_pages": 100 + i, "isbn": None,
                "work_id": None, "image_url": None, "link": None,
            }
        )  # fmt: skip
    layout.ensure()
    pq.write_table(pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA), layout.catalog)


def install_encoder(exported: Path, layout: Layout) -> None:
    """Reuse the session's ONNX export (same model + weights, so build_index skips re-exporting)."""
    shutil.copytree(exported, layout.encoder)


class CountingEmbedder:
    """The real ONNX embedder, counting texts and optionally failing on the Nth call (an interrupt)."""

    def __init__(self, encoder_dir: Path, fail_on_call: int | None = None) -> None:
        self.inner = OnnxEmbedder(encoder_dir)
        self.dim = self.inner.dim
        self.calls = 0
        self.texts: list[str] = []
        self.fail_on_call = fail_on_call

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return self.inner.encode(texts)
