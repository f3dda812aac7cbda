"""The served item -> item table of one model spec: the fitted model's neighbours, then content
similarity, two-step neighbours and the co-read tail, in that order.

``vibeshelf fit-cf`` ships this table and ``vibeshelf eval`` scores it, so what is measured is what is
served.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from vibeshelf.retrieval.cf.config import CFModelSpec
from vibeshelf.retrieval.cf.models import (
    EASE,
    CodedRatings,
    Interactions,
    ItemKNN,
    RP3beta,
    _top_n_csr,
    make_model,
    with_tail,
)

# Entries kept per row after the two-step neighbours are added: on goodbooks' validation split 100
# scores as the untruncated table (seeds Recall@20 0.0905 vs 0.0907) at a small fraction of its size.
TWO_STEP_KEEP = 100


def interactions(codes: CodedRatings, items: np.ndarray, spec: CFModelSpec) -> Interactions:
    """The training matrix ``spec`` fits on: its min_rating, weighted by its rating_weights."""
    return Interactions.build(
        codes, items=items, min_rating=spec.min_rating, rating_weights=spec.rating_weights
    )


def two_step(table: sp.csr_matrix, weight: float, *, keep: int = TWO_STEP_KEEP) -> sp.csr_matrix:
    """``table + weight * table @ table`` (a book's neighbours' neighbours, the book itself left out),
    each row cut to its ``keep`` strongest entries. Computed in row blocks, so memory follows one block's
    two-step pairs, not books squared."""
    table = table.tocsr().astype(np.float32)
    n = table.shape[0]
    parts = []
    for start in range(0, n, 2048):
        stop = min(n, start + 2048)
        head = table[start:stop]
        both = (head + weight * (head @ table)).tocsr()
        both.sort_indices()
        row = np.repeat(np.arange(stop - start), np.diff(both.indptr))
        data = both.data.copy()
        data[both.indices == row + start] = 0.0  # a book is not its own neighbour
        parts.append(_top_n_csr(both.indptr, both.indices, data, keep, n))
    if not parts:
        return table
    return sp.vstack(parts, format="csr").astype(np.float32)


def neighbour_table(
    inter: Interactions,
    spec: CFModelSpec,
    *,
    content: sp.csr_matrix | None = None,
    gram: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Fit ``spec`` on ``inter`` and return the table that is served for it.

    ``content`` (``cf.content.content_table`` over ``inter``'s books) is blended in when the spec has a
    content_weight; ``gram`` (EASE only) lets several EASE specs share one X^T X. Popularity has no
    table (an empty one)."""
    model = make_model(spec.algorithm, **spec.full_params())
    if isinstance(model, EASE):
        model.fit(inter, gram=gram)
        table = model.neighbours_table(spec.served_neighbours)
        model.weights = None  # free the dense matrix at once
    elif isinstance(model, ItemKNN | RP3beta):
        table = model.fit(inter).neighbours_table()
    else:
        return sp.csr_matrix((inter.n_items, inter.n_items), dtype=np.float32)
    if spec.content_weight > 0 and content is not None:
        from vibeshelf.retrieval.cf.content import blend

        table = blend(table, content, spec.content_weight)
    neighbour_model = isinstance(model, ItemKNN | RP3beta)
    if spec.two_step > 0 and neighbour_model:
        table = two_step(table, spec.two_step)
    if neighbour_model and spec.pool > int(spec.full_params().get("neighbours", 0)):
        # After the blend and the second step, whose scale is taken from the kept neighbours.
        deep = make_model(spec.algorithm, **{**spec.full_params(), "neighbours": spec.pool}).fit(inter)
        table = with_tail(table, deep.neighbours_table())  # type: ignore[attr-defined]
    return table


def content_for(
    spec_list: list[CFModelSpec], item_ids: np.ndarray, catalog: pa.Table | None
) -> sp.csr_matrix | None:
    """The content table for ``item_ids`` when some spec blends it in and the catalog is there."""
    if catalog is None or not any(spec.content_weight > 0 for spec in spec_list):
        return None
    from vibeshelf.retrieval.cf.content import content_table

    return content_table(item_ids, catalog)
