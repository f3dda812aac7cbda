"""The eval harness: metric definitions, dev-set parsing, and a run on the goodbooks-mini index."""

from __future__ import annotations

import json
import math

import pytest

from vibeshelf.retrieval.evaluation import (
    DEFAULT_DEV_SET,
    DEFAULT_TEST_SET,
    DevSetError,
    Evaluator,
    KnownItemQuery,
    MoodQuery,
    load_dev_set,
    ndcg,
    recall,
    reciprocal_rank,
)


def test_metrics_on_hand_computed_cases() -> None:
    flags = [False, True, False, True] + [False] * 6
    assert reciprocal_rank(flags) == 0.5
    assert reciprocal_rank([False] * 10 + [True]) == 0.0  # beyond k = 10
    assert recall(flags, n_relevant=2) == 1.0  # the denominator is min(k, relevant)
    assert recall(flags, n_relevant=1) == 1.0  # never above 1
    assert recall(flags, n_relevant=4) == 0.5
    assert recall(flags, n_relevant=0) == 0.0
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert math.isclose(ndcg(flags, n_relevant=2), expected)
    assert ndcg([True] * 10, n_relevant=50) == 1.0


def test_mood_judgement_requires_all_any_and_none() -> None:
    q = MoodQuery(
        qid="m",
        kind="mood",
        query="x",
        genres_all=["romance"],
        genres_any=["historical", "regency"],
        genres_none=["vampires"],
    )
    assert q.relevant(["romance", "historical"])
    assert not q.relevant(["romance"])  # no genre from genres_any
    assert not q.relevant(["historical"])  # missing a genres_all genre
    assert not q.relevant(["romance", "regency", "vampires"])


def test_the_shipped_dev_set_is_valid_and_balanced() -> None:
    queries = load_dev_set(DEFAULT_DEV_SET)
    known = [q for q in queries if isinstance(q, KnownItemQuery)]
    moods = [q for q in queries if isinstance(q, MoodQuery)]
    assert len(known) >= 40 and len(moods) >= 30
    assert len({q.book_id for q in known}) == len(known)


def test_the_held_out_test_set_is_valid_and_disjoint_from_the_dev_set() -> None:
    queries = load_dev_set(DEFAULT_TEST_SET)
    known = [q for q in queries if isinstance(q, KnownItemQuery)]
    moods = [q for q in queries if isinstance(q, MoodQuery)]
    assert len(known) >= 30 and len(moods) >= 25
    assert len({q.book_id for q in known}) == len(known)
    dev = load_dev_set(DEFAULT_DEV_SET)
    assert not {q.book_id for q in known} & {q.book_id for q in dev if isinstance(q, KnownItemQuery)}
    assert not {q.query for q in queries} & {q.query for q in dev}


def test_bad_dev_set_lines_name_the_file_line_and_field(tmp_path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text(
        json.dumps({"qid": "a", "kind": "mood", "query": "x"}) + "\n" + '{"qid": "b", "kind": "known_item"\n'
    )
    with pytest.raises(DevSetError, match=r"dev.jsonl line 2: not JSON"):
        load_dev_set(path)
    path.write_text(json.dumps({"qid": "a", "kind": "known_item", "query": "x"}) + "\n")
    with pytest.raises(DevSetError, match=r"dev.jsonl line 1: .*book_id"):
        load_dev_set(path)


def test_evaluator_runs_the_four_systems_on_a_real_index(mini_services) -> None:
    queries = [
        KnownItemQuery(
            qid="k1",
            kind="known_item",
            query="katniss volunteers for the deadly televised games in panem",
            book_id="goodbooks:1",
        ),
        KnownItemQuery(
            qid="k2",
            kind="known_item",
            query="boy wizard discovers his magic at a school of witchcraft",
            book_id="goodbooks:2",
        ),
        MoodQuery(qid="m1", kind="mood", query="scary horror novel", genres_any=["horror"]),
        MoodQuery(
            qid="m2",
            kind="mood",
            query="romance without vampires",
            genres_any=["romance"],
            genres_none=["vampires"],
            filters={"exclude_terms": ["vampire"]},
        ),
    ]
    rows = Evaluator(mini_services.search, queries).compare()
    systems = {r.system for r in rows}
    assert systems == {"bm25", "vector", "hybrid", "hybrid+rerank"}
    for r in rows:
        assert 0.0 <= r.mrr <= 1.0 and 0.0 <= r.ndcg <= 1.0 and 0.0 <= r.recall <= 1.0
    best = max(r.mrr for r in rows if r.subset == "known_item")
    assert best == 1.0  # these two are easy: some system puts each first


def test_evaluator_rejects_books_missing_from_the_index(mini_services) -> None:
    q = KnownItemQuery(qid="k", kind="known_item", query="x", book_id="goodbooks:9999999")
    with pytest.raises(DevSetError, match="goodbooks:9999999"):
        Evaluator(mini_services.search, [q])
