"""The search quality ladder on the built index: each rung adds one piece, dev and held-out side by side.

    VIBESHELF_HOME=.vibeshelf .venv/bin/python bench/search_ladder.py

Rungs: BM25 alone; base encoder alone (vectors); tuned encoder alone (the query adapter `vibeshelf tune`
writes); hybrid (BM25 + tuned vectors); + shelf signal; + reranker (what search_books serves); and the
served pipeline with the base encoder, which decides whether the adapter stays on by default. Sets:
eval/search/dev.jsonl (tuned on) and test.jsonl (held out), their es/fr/de translations (known items),
the held-out known items whose book the tuning never saw ("test unseen"), and the older
eval/dev_queries.jsonl / test_queries.jsonl. Prints known-item MRR@10 and hit@10 and mood NDCG@10.
Names on the command line pick sets: `bench/search_ladder.py dev test`.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from vibeshelf.ingest.tuning.adapter_fit import AdapterConfig
from vibeshelf.ingest.tuning.pairs import is_held_out
from vibeshelf.layout import Layout
from vibeshelf.retrieval import evaluation as ev
from vibeshelf.retrieval.book_search import BookSearch
from vibeshelf.retrieval.hybrid_search import DEFAULT_FUSION
from vibeshelf.retrieval.query_adapter import AdaptedEncoder, QueryAdapter
from vibeshelf.retrieval.services import open_services
from vibeshelf.retrieval.shelf_predictor import ShelfPredictor
from vibeshelf.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "dev": ROOT / "eval/search/dev.jsonl",
    "test": ROOT / "eval/search/test.jsonl",
    **{f"test.{lang}": ROOT / f"eval/search/test.{lang}.jsonl" for lang in ("es", "fr", "de")},
    **{f"dev.{lang}": ROOT / f"eval/search/dev.{lang}.jsonl" for lang in ("es", "fr", "de")},
    "test unseen": ROOT / "eval/search/test.jsonl",
    "old dev": ROOT / "eval/dev_queries.jsonl",
    "old test": ROOT / "eval/test_queries.jsonl",
}


def main() -> None:
    layout = Layout(get_settings().home_dir)
    services = open_services(layout, load_cf=False, query_adapter=False)
    base = services.search.searcher
    base_encoder = base.encoder
    tuned_encoder = None
    if layout.query_adapter.is_file():
        tuned_encoder = AdaptedEncoder(base_encoder, QueryAdapter.load(layout.query_adapter))
    genres = base.catalog["genres"].to_pylist()

    def searcher(encoder, shelf: bool) -> BookSearch:
        s = copy.copy(base)
        s.encoder = encoder
        s.fusion = DEFAULT_FUSION if shelf else DEFAULT_FUSION.model_copy(update={"shelf_weight": 0.0})
        s.shelves = ShelfPredictor.from_catalog(encoder, genres, base.matrix) if shelf else None
        return BookSearch(s, services.prior, services.search.weights)

    tuned = tuned_encoder or base_encoder
    rungs = [
        ("BM25 alone", searcher(base_encoder, False), "text", False),
        ("base encoder alone", searcher(base_encoder, False), "vector", False),
    ]
    if tuned_encoder is not None:
        rungs.append(("tuned encoder alone", searcher(tuned, False), "vector", False))
    rungs += [
        ("hybrid (BM25 + encoder)", searcher(tuned, False), "hybrid", False),
        ("+ shelf signal", searcher(tuned, True), "hybrid", False),
        ("+ reranker (served)", searcher(tuned, True), "hybrid", True),
    ]
    if tuned_encoder is not None:
        rungs.append(("served, base encoder", searcher(base_encoder, True), "hybrid", True))
    names = [n for n in (sys.argv[1:] or SETS) if SETS[n].is_file()]
    print(f"{'system':26s} " + " ".join(f"{n:>22s}" for n in names))
    print(f"{'':26s} " + " ".join(f"{'KI MRR/hit, mood NDCG':>22s}" for _ in names))
    for label, search, mode, reranked in rungs:
        cells = []
        for name in names:
            queries = ev.load_dev_set(SETS[name])
            if name.endswith("unseen"):
                # Known items among the books tuning never saw (ingest.tuning.pairs.is_held_out).
                queries = [
                    q
                    for q in queries
                    if isinstance(q, ev.KnownItemQuery)
                    and is_held_out(q.book_id, AdapterConfig().held_out_fraction)
                ]
            evaluator = ev.Evaluator(search, queries)
            hits = evaluator.retrieve(search.searcher, mode)
            judged = evaluator.judge(hits, search.weights if reranked else None)
            rows = {r.subset: r for r in ev._summarise(label, judged)}
            ki, mood = rows.get("known_item"), rows.get("mood")
            ki_text = f"{ki.mrr:.3f}/{ki.recall:.3f}" if ki else "-"
            cells.append(f"{ki_text}, {mood.ndcg:.3f}" if mood else ki_text)
        print(f"{label:26s} " + " ".join(f"{c:>22s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
