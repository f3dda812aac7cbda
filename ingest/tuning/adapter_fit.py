"""``vibeshelf tune``: fit the query adapter (``retrieval.query_adapter``) on pairs mined from the catalog.

Contrastive learning with a softmax over every tuning book at once (the in-batch negatives of
MultipleNegativesRankingLoss taken to the whole catalog, which holds each pair's hard negative too):
for a request ``x`` with answering books ``P``::

    q = normalise(x @ (I + A))        loss = logsumexp(q . D / t) - logsumexp(q . D[P] / t) + l2 * |A|^2

``D`` are the book vectors already in the index (held-out books left out), ``x`` the base encoder's
vector of the request. A shelf request is answered by every book on all its shelves. Torch is used for
the gradients (it is an ingest dependency; the server applies the matrix with numpy).

Interrupting writes nothing (the previous adapter, if any, stays); the adapter is written by rename once
the fit finishes, so rerunning is always safe and takes the same ~minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from vibeshelf.ingest.tuning.pairs import TrainingPair, is_held_out
from vibeshelf.retrieval.query_adapter import QueryAdapter


@dataclass(frozen=True)
class AdapterConfig:
    n_pairs: int = 8000
    seed: int = 0
    held_out_fraction: float = 0.2
    epochs: int = 4
    batch_size: int = 256
    learning_rate: float = 1e-3
    temperature: float = 0.05
    l2: float = 0.01


def positive_sets(
    pairs: Sequence[TrainingPair], book_ids: Sequence[str], genres: Sequence[Sequence[str] | None]
) -> list[np.ndarray]:
    """Row indices (into ``book_ids``) of the books that answer each pair."""
    row = {b: i for i, b in enumerate(book_ids)}
    shelf_rows: dict[str, set[int]] = {}
    for i, shelves in enumerate(genres):
        for g in shelves or ():
            shelf_rows.setdefault(g, set()).add(i)
    cache: dict[tuple[str, ...], np.ndarray] = {}
    out = []
    for pair in pairs:
        if pair.shelves:
            if pair.shelves not in cache:
                rows = set.intersection(*(shelf_rows.get(s, set()) for s in pair.shelves))
                cache[pair.shelves] = np.array(sorted(rows), dtype=np.int64)
            found = cache[pair.shelves]
            out.append(found if len(found) else np.array([row[pair.positive]], dtype=np.int64))
        else:
            out.append(np.array([row[pair.positive]], dtype=np.int64))
    return out


def fit_adapter(
    anchors: np.ndarray,
    positives: Sequence[np.ndarray],
    books: np.ndarray,
    config: AdapterConfig,
    *,
    model: str,
    progress: Callable[[int, int, float], None] | None = None,
) -> QueryAdapter:
    """Fit ``I + A`` so each anchor vector scores its positive books above the other ``books``."""
    import torch

    torch.manual_seed(config.seed)
    dim = books.shape[1]
    x = torch.from_numpy(np.asarray(anchors, dtype=np.float32))
    d = torch.from_numpy(np.asarray(books, dtype=np.float32))
    a = torch.zeros(dim, dim, requires_grad=True)
    eye = torch.eye(dim)
    optimizer = torch.optim.Adam([a], lr=config.learning_rate)
    n = len(x)
    steps_per_epoch = max(1, -(-n // config.batch_size))
    total = steps_per_epoch * config.epochs
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, config.batch_size):
            idx = order[start : start + config.batch_size]
            q = torch.nn.functional.normalize(x[idx] @ (eye + a), dim=1)
            logits = q @ d.T / config.temperature
            target = torch.full_like(logits, float("-inf"))
            for r, i in enumerate(idx.tolist()):
                target[r, torch.from_numpy(positives[i])] = 0.0
            loss = (
                torch.logsumexp(logits, dim=1) - torch.logsumexp(logits + target, dim=1)
            ).mean() + config.l2 * (a * a).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if progress:
                progress(step, total, float(loss.detach()))
    matrix = (eye + a.detach()).numpy()
    return QueryAdapter(matrix, model, {**asdict(config), "pairs": n, "fitted_at": time.time()})


def training_books(
    ids: Sequence[str], vectors: np.ndarray, genres: Sequence[Sequence[str] | None], held_out_fraction: float
) -> tuple[list[str], np.ndarray, list[Sequence[str] | None]]:
    """The catalog less its held-out books (ids, vectors, shelves, same order)."""
    keep = [i for i, book_id in enumerate(ids) if not is_held_out(book_id, held_out_fraction)]
    return [ids[i] for i in keep], vectors[keep], [genres[i] for i in keep]
