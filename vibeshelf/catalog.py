"""The canonical catalog and ratings schemas every source is normalised into."""

from __future__ import annotations

import pyarrow as pa

# One row per book. `id` is stable across rebuilds: "<source>:<native id>"
# (goodbooks:<book_id>, bookcrossing:<isbn>, ucsd:<book_id>).
CATALOG_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),  # series suffix split off
        pa.field("full_title", pa.string(), nullable=False),  # title as the source gives it
        pa.field("series", pa.string()),
        pa.field("series_index", pa.float32()),  # "#1", "#2.5"; null when not numeric
        pa.field("authors", pa.list_(pa.string()), nullable=False),
        pa.field("year", pa.int32()),  # negative for BC
        pa.field("language", pa.string()),
        pa.field("genres", pa.list_(pa.string()), nullable=False),
        pa.field("description", pa.string()),
        pa.field("average_rating", pa.float32()),
        pa.field("ratings_count", pa.int64()),
        pa.field("num_pages", pa.int32()),
        pa.field("isbn", pa.string()),
        pa.field("work_id", pa.string()),  # groups editions of one work; null when unknown
        pa.field("image_url", pa.string()),
        pa.field("link", pa.string()),
    ]
)

# Explicit ratings on the 1-5 scale. Book-Crossing's 1-10 is mapped with ceil(r / 2).
RATINGS_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("book_id", pa.string(), nullable=False),  # catalog `id`
        pa.field("rating", pa.int8(), nullable=False),
    ]
)

# Implicit interactions (read / shelved, no rating), e.g. Book-Crossing rating 0.
IMPLICIT_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("book_id", pa.string(), nullable=False),
    ]
)
