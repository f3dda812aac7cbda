"""The serve-time query encoder: the ONNX export of the embedding model, run with onnxruntime.

This module is on the server's import path, so it must never import torch, transformers or
sentence-transformers (a test imports it in a fresh interpreter and checks ``sys.modules``).
The folder it loads is written at ingest time by ``vibeshelf.ingest.onnx_export``. Since export
format 2 the token-embedding lookup happens outside the graph, from ``token_embeddings.f32`` read row by
row (``retrieval/token_table.py``: ~70 MB less resident memory); format-1 folders (ids in the graph)
still load.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from vibeshelf.retrieval.token_table import TokenTable, TokenTableError

ENCODER_INFO_FILE = "encoder.json"
# Bumped when the export changes shape (inputs, outputs, tokenizer settings): older folders are
# re-exported by ingest instead of being reused. 2: token embeddings looked up outside the graph.
EXPORT_FORMAT = 2
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
TOKEN_TABLE_FILE = "token_embeddings.f32"
INPUTS_EMBEDS = "inputs_embeds"


class EncoderNotFoundError(RuntimeError):
    """The encoder folder is missing or incomplete; `vibeshelf ingest` writes it."""


class EncoderInfo(BaseModel):
    """Contents of ``encoder.json``: what the ONNX graph expects and how to pool its output."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    format: int = EXPORT_FORMAT
    model: str  # model id the vectors in the index were made with
    dim: int
    max_seq_len: int
    pooling: Literal["mean"] = "mean"
    normalize: bool = True
    inputs: list[str] = ["input_ids", "attention_mask", "token_type_ids"]
    output: str = "token_embeddings"
    # Format 2: the graph takes INPUTS_EMBEDS; rows come from this raw float32 file (vocab_size x dim).
    token_table: str | None = None
    vocab_size: int | None = None
    exporter: str = ""
    opset: int | None = None
    parity_min_cosine: float | None = None  # measured against sentence-transformers at export
    parity_samples: int | None = None
    weights_sha256: str = ""  # of the source weights, so a re-export can be skipped
    exported_at: str = ""


def _session_options(threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    # No CPU arena: it keeps the largest batch's buffers for the process's life (~17 MB resident on the
    # 10k index) for no measurable gain on one-query batches; the vectors are bit-identical either way.
    opts.enable_cpu_mem_arena = False
    opts.intra_op_num_threads = threads
    if threads > 1:
        # Spinning workers burn the cores the server and ingest share; wake them on demand.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


# One thread per query by default. Measured here (2 shared cores, 10-word query, 300 runs):
# 1 thread p50 3.4-3.8 ms, 2 threads p50 8-22 ms; a ~15-token graph is too small to split, and the
# second core stays free for the server's other work.
QUERY_THREADS = 1


class QueryEncoder:
    """Encodes texts into L2-normalised float32 vectors, identical (cos >= 0.999) to the ingest model."""

    def __init__(
        self,
        directory: Path,
        info: EncoderInfo,
        session,
        tokenizer,
        cache_size: int,
        token_table: TokenTable | None = None,
    ) -> None:
        self.directory = directory
        self.info = info
        self._session = session
        self._tokenizer = tokenizer
        self._token_table = token_table
        self._input_names = {i.name for i in session.get_inputs()}
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, directory: Path | str, *, threads: int | None = None, cache_size: int = 512
    ) -> QueryEncoder:
        """Open the encoder folder (model.onnx, tokenizer.json, encoder.json)."""
        directory = Path(directory)
        missing = [
            f for f in (ENCODER_INFO_FILE, MODEL_FILE, TOKENIZER_FILE) if not (directory / f).is_file()
        ]
        if missing:
            raise EncoderNotFoundError(
                f"query encoder not found in {directory} (missing {', '.join(missing)}); "
                "run `vibeshelf ingest` to export it"
            )
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            info = EncoderInfo.model_validate_json((directory / ENCODER_INFO_FILE).read_text())
            tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        except Exception as exc:  # pydantic's ValueError, OSError, and tokenizers' bare Exception
            raise EncoderNotFoundError(
                f"query encoder in {directory} is unreadable ({str(exc)[:200]}); "
                "run `vibeshelf ingest` to export it again"
            ) from exc
        # The truncation is set from encoder.json rather than trusted from the tokenizer file: the
        # model was checked against sentence-transformers with exactly this length. Padding (to
        # the longest text of a batch, with the model's pad token) is saved in the file at export.
        tokenizer.enable_truncation(max_length=info.max_seq_len)
        if tokenizer.padding is None:
            tokenizer.enable_padding()
        try:
            session = ort.InferenceSession(
                str(directory / MODEL_FILE),
                _session_options(threads or QUERY_THREADS),
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime's errors share no useful base class
            raise EncoderNotFoundError(
                f"{directory / MODEL_FILE} cannot be loaded ({str(exc)[:200]}); "
                "run `vibeshelf ingest` to export it again"
            ) from exc
        return cls(directory, info, session, tokenizer, cache_size, _token_table(directory, info, session))

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (n, dim), float32, L2-normalised. Repeated texts hit an LRU cache."""
        if isinstance(texts, str):
            raise TypeError("QueryEncoder.encode takes a list of texts, not a single string")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    todo.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = hit
        if todo:
            unique = list(todo)
            vectors = self.encode_uncached(unique)
            with self._lock:
                for text, vec in zip(unique, vectors, strict=True):
                    for i in todo[text]:
                        out[i] = vec
                    if self._cache_size:
                        self._cache[text] = vec.copy()  # not a view pinning the batch
                        self._cache.move_to_end(text)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        """One forward pass over ``texts`` as a single padded batch (ingest batches through this)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"attention_mask": mask}
        if self._token_table is not None:
            feeds[INPUTS_EMBEDS] = self._token_table.lookup(ids)
        else:
            feeds["input_ids"] = ids
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        tokens = self._session.run([self.info.output], feeds)[0]
        return pool(tokens, mask, normalize=self.info.normalize)


def _token_table(directory: Path, info: EncoderInfo, session) -> TokenTable | None:
    """The row store a format-2 graph needs (None for a graph that looks up ids itself)."""
    if INPUTS_EMBEDS not in {i.name for i in session.get_inputs()}:
        return None
    if not info.token_table or not info.vocab_size:
        raise EncoderNotFoundError(
            f"{directory / ENCODER_INFO_FILE} names no token table for a graph that takes {INPUTS_EMBEDS}; "
            "run `vibeshelf ingest` to export it again"
        )
    try:
        return TokenTable(directory / info.token_table, info.vocab_size, info.dim)
    except TokenTableError as exc:
        raise EncoderNotFoundError(f"{exc}; run `vibeshelf ingest` to export it again") from exc


def pool(token_embeddings: np.ndarray, attention_mask: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """Mean over the non-padding tokens, then L2 normalisation (what sentence-transformers does)."""
    mask = attention_mask[..., None].astype(np.float32)
    summed = (token_embeddings * mask).sum(axis=1)
    vectors = summed / np.clip(mask.sum(axis=1), 1e-9, None)
    if normalize:
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return vectors.astype(np.float32, copy=False)
