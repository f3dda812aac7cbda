"""The embedding cache and embed_documents: persistence, dedupe, compaction, damaged shards."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from vibeshelf.ingest.embedder import MAX_SHARDS, EmbeddingCache, cache_key, embed_documents


class HashEmbedder:
    """Deterministic stand-in for a model (vectors derived from the text), recording its inputs."""

    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        out = np.array(
            [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.uint8)[:8] for t in texts],
            dtype=np.float32,
        )
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_vectors_persist_and_only_new_texts_are_embedded(tmp_path: Path) -> None:
    texts = ["alpha", "beta", "gamma", "beta"]
    first = HashEmbedder()
    result = embed_documents(texts, first, EmbeddingCache(tmp_path, "m", 8), batch_size=2, progress=False)
    assert sorted(first.seen) == ["alpha", "beta", "gamma"]  # the duplicate is embedded once
    assert (result.embedded, result.cached) == (3, 0)
    np.testing.assert_array_equal(result.vectors[1], result.vectors[3])

    second = HashEmbedder()
    again = embed_documents(
        [*texts, "delta"], second, EmbeddingCache(tmp_path, "m", 8), batch_size=2, progress=False
    )
    assert second.seen == ["delta"] and (again.embedded, again.cached) == (1, 4)
    np.testing.assert_array_equal(again.vectors[:4], result.vectors)
    np.testing.assert_allclose(again.vectors[4], HashEmbedder().encode(["delta"])[0])


def test_models_do_not_share_vectors(tmp_path: Path) -> None:
    embed_documents(["alpha"], HashEmbedder(), EmbeddingCache(tmp_path, "model-a", 8), progress=False)
    other = HashEmbedder()
    embed_documents(["alpha"], other, EmbeddingCache(tmp_path, "model-b", 8), progress=False)
    assert other.seen == ["alpha"]
    assert cache_key("model-a", "alpha") != cache_key("model-b", "alpha")


def test_many_chunks_are_compacted_into_one_shard(tmp_path: Path) -> None:
    texts = [f"text {i}" for i in range(3 * (MAX_SHARDS + 1))]
    cache = EmbeddingCache(tmp_path, "m", 8)
    result = embed_documents(texts, HashEmbedder(), cache, batch_size=3, chunk_size=3, progress=False)
    assert len(list(cache.folder.glob("shard-*.parquet"))) == 1
    reopened = EmbeddingCache(tmp_path, "m", 8)
    found, vectors = reopened.get_many([cache_key("m", t) for t in texts])
    assert found.all() and len(reopened) == len(texts)
    np.testing.assert_array_equal(vectors, result.vectors)


def test_damaged_shard_is_ignored_and_its_vectors_recomputed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = EmbeddingCache(tmp_path, "m", 8)
    embed_documents(["alpha", "beta"], HashEmbedder(), cache, progress=False)
    (shard,) = cache.folder.glob("shard-*.parquet")
    shard.write_bytes(b"not parquet")

    redo = HashEmbedder()
    result = embed_documents(["alpha", "beta"], redo, EmbeddingCache(tmp_path, "m", 8), progress=False)
    assert sorted(redo.seen) == ["alpha", "beta"] and result.embedded == 2
    assert "ignoring unreadable embedding cache shard" in capsys.readouterr().err
    assert shard.with_suffix(".unreadable").is_file()  # set aside, not deleted, not re-read
    EmbeddingCache(tmp_path, "m", 8)
    assert "unreadable" not in capsys.readouterr().err


def test_embedder_returning_the_wrong_shape_is_an_error(tmp_path: Path) -> None:
    class Broken(HashEmbedder):
        def encode(self, texts: list[str]) -> np.ndarray:
            return super().encode(texts)[:, :4]

    with pytest.raises(ValueError, match=r"expected \(2, 8\)"):
        embed_documents(["a", "b"], Broken(), EmbeddingCache(tmp_path, "m", 8), progress=False)


def test_ctrl_c_keeps_the_batches_already_embedded(tmp_path: Path) -> None:
    class Interrupted(HashEmbedder):
        def encode(self, texts: list[str]) -> np.ndarray:
            if len(self.seen) >= 4:  # two batches of two done, then the reader presses Ctrl-C
                raise KeyboardInterrupt
            return super().encode(texts)

    texts = [f"book {i}" for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        embed_documents(texts, Interrupted(), EmbeddingCache(tmp_path, "m", 8), batch_size=2, progress=False)

    rerun = HashEmbedder()
    result = embed_documents(texts, rerun, EmbeddingCache(tmp_path, "m", 8), batch_size=2, progress=False)
    assert (result.cached, result.embedded) == (4, 6)
    assert len(rerun.seen) == 6
