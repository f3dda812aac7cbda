"""Export the embedding model's transformer to ONNX for serving, and prove it matches.

Ingest runs this once per model: it writes ``model.onnx`` (token-embedding rows in, contextual token
embeddings out; pooling and normalisation happen in numpy, driven by ``encoder.json``),
``token_embeddings.f32`` (the model's input embedding table, which the server reads row by row instead
of holding it in memory, see ``retrieval/token_table.py``), ``tokenizer.json`` (truncation and padding
baked in) and ``encoder.json``, then compares the ONNX encoder with sentence-transformers
on a sample of texts and refuses to install it unless every cosine is >= ``MIN_COSINE``.
The folder is built beside the target and swapped in with a rename, so a reader never sees a
half-written encoder.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vibeshelf.ingest.embedder import (
    file_sha256,
    load_sentence_transformer,
    model_id,
    quiet_torch_threads,
    weights_file,
)
from vibeshelf.retrieval.encoder import (
    ENCODER_INFO_FILE,
    EXPORT_FORMAT,
    INPUTS_EMBEDS,
    MODEL_FILE,
    TOKEN_TABLE_FILE,
    TOKENIZER_FILE,
    EncoderInfo,
    QueryEncoder,
)
from vibeshelf.retrieval.token_table import write_token_table

MIN_COSINE = 0.999
OPSET = 18

# Texts the parity check always includes: a 10-word query, a one-word query, an empty string, a
# non-English line, and a passage longer than max_seq_len (exercises truncation).
PARITY_TEXTS = [
    "a cozy mystery set in a small english village with cats",
    "dragons",
    "",
    "Cien años de soledad, una novela de Gabriel García Márquez",
    "Books like The Name of the Wind but with a female protagonist and less romance",
    "space opera with political intrigue, found family and a sentient ship",
    "The Hunger Games (The Hunger Games #1) by Suzanne Collins. Genres: young adult, dystopia.",
    " ".join(["In a hole in the ground there lived a hobbit, and the story went on and on."] * 30),
]


INPUT_NAMES = (INPUTS_EMBEDS, "attention_mask", "token_type_ids")


class EncoderParityError(RuntimeError):
    """The ONNX encoder does not reproduce sentence-transformers closely enough to serve queries."""


def _token_embeddings_module(st_model):
    import torch

    transformer = st_model[0].auto_model.eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, inputs_embeds, attention_mask, token_type_ids):
            # The id -> row lookup stays outside the graph (TokenTable); positions and token types
            # are still added inside, exactly as in the model.
            out = self.transformer(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    return TokenEmbeddings().eval()


def _check_pipeline(st_model, model: str) -> None:
    """Only transformer -> mean pooling (-> normalize) pipelines are reproduced by QueryEncoder."""
    names = [type(module).__name__ for module in st_model]
    pooling = st_model[1] if len(st_model) > 1 else None
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None
    )
    if names[:2] != ["Transformer", "Pooling"] or mode != "mean" or len(names) > 3:
        raise EncoderParityError(
            f"model {model!r} is {' -> '.join(names)} (pooling {mode!r}); the ONNX query encoder "
            "supports Transformer -> mean Pooling [-> Normalize] only"
        )


def _export_graph(module, dummy, path: Path) -> str:
    """Export with the dynamo exporter (faster graph at runtime), falling back to TorchScript."""
    import torch

    # The exporter logs a warning per missing torchvision op and progress lines: noise at ingest.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    names = list(INPUT_NAMES)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                module,
                dummy,
                str(path),
                dynamo=True,
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_shapes={name: {0: batch, 1: seq} for name in names},
                external_data=False,
                opset_version=OPSET,
                verbose=False,
            )
            return f"torch {torch.__version__} dynamo"
        except Exception as exc:  # the exporter raises many types; the fallback is the point
            print(f"dynamo ONNX export failed ({exc!s:.200}); retrying with TorchScript", file=sys.stderr)
            torch.onnx.export(
                module,
                dummy,
                str(path),
                dynamo=False,
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "token_embeddings"]},
                opset_version=17,
            )
            return f"torch {torch.__version__} torchscript"


def measure_parity(encoder: QueryEncoder, st_model, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """Cosine between ONNX and sentence-transformers vectors for each text (batched, so padding is
    exercised too)."""
    texts = list(texts)
    reference = st_model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    onnx = np.concatenate(
        [encoder.encode_uncached(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    )
    reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    return (onnx * reference).sum(axis=1)


def existing_encoder(
    out_dir: Path, model_name: str, weights_sha: str, max_seq_len: int | None = None
) -> EncoderInfo | None:
    """The encoder already in ``out_dir`` when it was exported from the same model, weights and
    truncation length (None: any length)."""
    try:
        info = EncoderInfo.model_validate_json((out_dir / ENCODER_INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    files = [MODEL_FILE, TOKENIZER_FILE, info.token_table or TOKEN_TABLE_FILE]
    complete = all((out_dir / f).is_file() for f in files)
    same = info.format == EXPORT_FORMAT and info.model == model_name and info.weights_sha256 == weights_sha
    same_length = max_seq_len is None or info.max_seq_len == max_seq_len
    return info if complete and same and same_length else None


def export_encoder(
    model: str,
    out_dir: Path,
    *,
    max_seq_len: int | None = None,
    sample_texts: Sequence[str] = (),
    force: bool = False,
    min_cosine: float = MIN_COSINE,
    quiet: bool = False,
) -> EncoderInfo:
    """Export ``model`` (a sentence-transformers name or folder) to ``out_dir`` and check parity.

    Inputs are truncated at ``max_seq_len`` word pieces (None: the model's own setting). Skips the
    work when ``out_dir`` already holds an export of the same model, weights and length (unless
    ``force``). ``sample_texts`` (e.g. a few catalog documents) are added to the parity sample.
    Raises ``EncoderParityError`` when any sampled cosine is below ``min_cosine``.
    """
    quiet_torch_threads()
    import torch

    name = model_id(model)
    weights = weights_file(model)
    weights_sha = file_sha256(weights) if weights else ""
    if not force and (info := existing_encoder(out_dir, name, weights_sha, max_seq_len)):
        return info

    if not quiet:
        print(f"exporting the query encoder ({name}) to ONNX in {out_dir} ...", file=sys.stderr)
    st_model = load_sentence_transformer(model, max_seq_len)
    _check_pipeline(st_model, model)
    max_seq_len = int(st_model.max_seq_length)
    dim = int(st_model.get_embedding_dimension())

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        tokenizer = st_model.tokenizer.backend_tokenizer
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(tokenizer.to_str())
        tokenizer.enable_truncation(max_length=max_seq_len)
        hf_tokenizer = st_model.tokenizer
        tokenizer.enable_padding(pad_id=hf_tokenizer.pad_token_id or 0, pad_token=hf_tokenizer.pad_token)
        tokenizer.save(str(tmp / TOKENIZER_FILE))

        table = st_model[0].auto_model.get_input_embeddings().weight.detach().to(torch.float32)
        write_token_table(table.numpy(), tmp / TOKEN_TABLE_FILE)
        dummy_batch = tokenizer.encode_batch(["a short text", "a somewhat longer text to pad the batch"])
        ids, mask, types = (
            torch.tensor([getattr(e, field) for e in dummy_batch], dtype=torch.long)
            for field in ("ids", "attention_mask", "type_ids")
        )
        dummy = (table[ids], mask, types)
        exporter = _export_graph(_token_embeddings_module(st_model), dummy, tmp / MODEL_FILE)

        info = EncoderInfo(
            model=name,
            dim=dim,
            max_seq_len=max_seq_len,
            pooling="mean",
            normalize=True,
            inputs=list(INPUT_NAMES),
            token_table=TOKEN_TABLE_FILE,
            vocab_size=int(table.shape[0]),
            exporter=exporter,
            opset=OPSET,
            weights_sha256=weights_sha,
            exported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        (tmp / ENCODER_INFO_FILE).write_text(info.model_dump_json(indent=2))

        texts = [*PARITY_TEXTS, *sample_texts]
        cosines = measure_parity(QueryEncoder.load(tmp, cache_size=0), st_model, texts)
        worst = int(np.argmin(cosines))
        if cosines[worst] < min_cosine:
            raise EncoderParityError(
                f"ONNX export of {model!r} does not match sentence-transformers: cosine "
                f"{cosines[worst]:.5f} < {min_cosine} on sample {worst} ({texts[worst][:60]!r}); "
                "the encoder was not installed"
            )
        info = info.model_copy(
            update={"parity_min_cosine": float(cosines.min()), "parity_samples": len(texts)}
        )
        (tmp / ENCODER_INFO_FILE).write_text(info.model_dump_json(indent=2))
        _swap_in(tmp, out_dir)
        if not quiet:
            print(
                f"query encoder ready: parity cosine >= {info.parity_min_cosine:.7f} over {len(texts)} texts",
                file=sys.stderr,
            )
        return info
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` with ``new`` by renames (an open ORT session keeps its loaded copy)."""
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
