"""The ONNX query encoder: parity with sentence-transformers, no torch at serve time, caching, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vibeshelf.retrieval.encoder import EncoderInfo, EncoderNotFoundError, QueryEncoder
from vibeshelf.settings import Settings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
QUERIES = [
    "a cozy mystery set in a small english village with cats",
    "books like dune",
    "heartbreaking historical fiction about sisters in occupied France",
    "funny fantasy with a dragon",
    "",
    "Die Verwandlung von Franz Kafka",
]


def _sample_texts(shared_data: Path | None) -> list[str]:
    texts = list(QUERIES)
    if shared_data is not None:
        import duckdb

        path = shared_data / "goodbooks-mini" / "descriptions.csv"
        rows = duckdb.sql(f"select description from read_csv('{path}') order by book_id limit 16").fetchall()
        texts += [r[0] for r in rows]  # real blurbs, many longer than max_seq_len
    return texts


@pytest.fixture(scope="module")
def st_model(exported_encoder: Path):
    """The reference: sentence-transformers with the truncation length the encoder was exported with."""
    from vibeshelf.ingest.embedder import default_model_path, load_sentence_transformer

    info = EncoderInfo.model_validate_json((exported_encoder / "encoder.json").read_text())
    return load_sentence_transformer(str(default_model_path()), info.max_seq_len)


def test_parity_with_sentence_transformers(exported_encoder: Path, st_model) -> None:
    texts = _sample_texts(SHARED_DATA if SHARED_DATA.is_dir() else None)
    encoder = QueryEncoder.load(exported_encoder)

    reference = st_model.encode(texts, batch_size=8, normalize_embeddings=True)
    one_by_one = np.concatenate([encoder.encode([t]) for t in texts])
    batched = encoder.encode_uncached(texts)  # one padded batch: padding must not leak into means

    for vectors in (one_by_one, batched):
        assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cosines = (vectors * reference).sum(axis=1)
        assert cosines.min() >= 0.999, f"worst text: {texts[int(cosines.argmin())][:80]!r}"


def test_encoder_json_describes_the_export(exported_encoder: Path) -> None:
    info = EncoderInfo.model_validate_json((exported_encoder / "encoder.json").read_text())
    assert info.model == "sentence-transformers/all-MiniLM-L6-v2"
    # The token table is outside the graph (retrieval/token_table.py): read per query, not held in RAM.
    assert info.inputs[0] == "inputs_embeds" and info.token_table == "token_embeddings.f32"
    assert (
        (exported_encoder / info.token_table).stat().st_size
        == info.vocab_size * info.dim * 4
        == 30522 * 384 * 4
    )
    assert (info.dim, info.pooling, info.normalize) == (384, "mean", True)
    assert info.max_seq_len == Settings().embed_max_seq_len  # 128 unless VIBESHELF_EMBED_MAX_SEQ_LEN
    assert info.parity_min_cosine is not None and info.parity_min_cosine >= 0.999
    assert len(info.weights_sha256) == 64


def test_export_is_skipped_when_model_unchanged(exported_encoder: Path, tmp_path: Path) -> None:
    import shutil

    from vibeshelf.ingest.embedder import default_model_path
    from vibeshelf.ingest.onnx_export import export_encoder

    target = tmp_path / "encoder"
    shutil.copytree(exported_encoder, target)
    before = (target / "model.onnx").stat().st_mtime_ns
    kept = EncoderInfo.model_validate_json((target / "encoder.json").read_text())
    info = export_encoder(str(default_model_path()), target, max_seq_len=kept.max_seq_len)
    assert (target / "model.onnx").stat().st_mtime_ns == before
    assert info.exported_at == json.loads((exported_encoder / "encoder.json").read_text())["exported_at"]


def test_lru_cache_returns_same_vectors_and_evicts(exported_encoder: Path) -> None:
    encoder = QueryEncoder.load(exported_encoder, cache_size=2)
    first = encoder.encode(["space opera", "cozy mystery", "space opera"])
    np.testing.assert_array_equal(first[0], first[2])
    again = encoder.encode(["space opera"])
    np.testing.assert_array_equal(again[0], first[0])
    encoder.encode(["gothic horror"])
    assert list(encoder._cache) == ["space opera", "gothic horror"]  # "cozy mystery" evicted (LRU)
    again[0, 0] = 42.0  # callers own their arrays; the cache is not aliased
    assert encoder.encode(["space opera"])[0, 0] != 42.0


def test_encode_rejects_a_bare_string_and_handles_empty_list(exported_encoder: Path) -> None:
    encoder = QueryEncoder.load(exported_encoder)
    with pytest.raises(TypeError, match="list of texts"):
        encoder.encode("space opera")
    assert encoder.encode([]).shape == (0, 384)


def test_missing_encoder_says_to_run_ingest(tmp_path: Path) -> None:
    with pytest.raises(EncoderNotFoundError, match="vibeshelf ingest"):
        QueryEncoder.load(tmp_path / "nowhere")


@pytest.mark.parametrize("damaged", ["encoder.json", "model.onnx", "tokenizer.json", "token_embeddings.f32"])
def test_damaged_encoder_file_is_a_clear_error(exported_encoder: Path, tmp_path: Path, damaged: str) -> None:
    import shutil

    folder = tmp_path / "encoder"
    shutil.copytree(exported_encoder, folder)
    (folder / damaged).write_text('{"truncated')
    with pytest.raises(EncoderNotFoundError, match="run `vibeshelf ingest` to export it again"):
        QueryEncoder.load(folder)


def test_serving_modules_do_not_import_torch(exported_encoder: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import vibeshelf.retrieval.book_index
        import vibeshelf.retrieval.query_adapter
        import vibeshelf.retrieval.shelf_predictor
        from vibeshelf.retrieval.encoder import QueryEncoder
        vec = QueryEncoder.load({str(exported_encoder)!r}).encode(["a quiet novel about grief"])
        assert vec.shape == (1, 384), vec.shape
        heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
        print("HEAVY=" + ",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY=\n" in out.stdout


def test_an_encoder_exported_before_the_token_table_still_loads(
    exported_encoder: Path, tmp_path: Path
) -> None:
    """Format 1 (ids in, lookup inside the graph) is what indexes built before export format 2 hold; a
    server must keep answering from one until the next ingest re-exports it. The old graph is rebuilt
    here from the new one by putting the table back in front of it as a Gather node."""
    import shutil

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    info = EncoderInfo.model_validate_json((exported_encoder / "encoder.json").read_text())
    table = np.fromfile(exported_encoder / info.token_table, dtype="<f4").reshape(info.vocab_size, info.dim)
    graph_model = onnx.load(str(exported_encoder / "model.onnx"))
    graph = graph_model.graph
    embeds = next(i for i in graph.input if i.name == "inputs_embeds")
    graph.input.remove(embeds)
    graph.input.insert(0, helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]))
    graph.initializer.append(numpy_helper.from_array(table, "word_embeddings"))
    graph.node.insert(0, helper.make_node("Gather", ["word_embeddings", "input_ids"], ["inputs_embeds"]))
    old = tmp_path / "encoder-v1"
    old.mkdir()
    onnx.save(graph_model, str(old / "model.onnx"))
    shutil.copy(exported_encoder / "tokenizer.json", old / "tokenizer.json")
    v1 = info.model_copy(
        update={"format": 1, "inputs": ["input_ids", "attention_mask", "token_type_ids"], "token_table": None}
    )
    (old / "encoder.json").write_text(v1.model_dump_json())

    texts = ["a quiet novel about grief", "space opera with a sentient ship", ""]
    np.testing.assert_allclose(
        QueryEncoder.load(old).encode_uncached(texts),
        QueryEncoder.load(exported_encoder).encode_uncached(texts),
        atol=1e-6,
    )


def test_a_graph_that_wants_embeddings_without_a_table_is_a_clear_error(
    exported_encoder: Path, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "encoder"
    shutil.copytree(exported_encoder, folder)
    info = EncoderInfo.model_validate_json((folder / "encoder.json").read_text())
    (folder / "encoder.json").write_text(info.model_copy(update={"token_table": None}).model_dump_json())
    with pytest.raises(EncoderNotFoundError, match=r"names no token table.*run `vibeshelf ingest`"):
        QueryEncoder.load(folder)
