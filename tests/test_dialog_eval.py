"""The dialog evaluation: scoring against the catalog, the fixed split, file errors, one real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibeshelf import dialog_eval as de

BOOKS = {
    "goodbooks:1": de.CatalogBook(
        "goodbooks:1", "Dark Tower", ("Stephen King",), frozenset({"fantasy", "horror"}), 1982, 4.0, 50_000
    ),
    "goodbooks:2": de.CatalogBook(
        "goodbooks:2", "Mort", ("Terry Pratchett",), frozenset({"fantasy", "humor"}), 1987, 4.2, 90_000
    ),
    "goodbooks:3": de.CatalogBook(
        "goodbooks:3", "Twilight", ("Stephenie Meyer",), frozenset({"fantasy", "young_adult"}), 2005, 3.6, 10
    ),
}


def dialog(**expect) -> de.Dialog:
    return de.Dialog(id="d1", kind="exclusion", turns=["a", "b"], expect=de.Expectation(**expect))


def test_a_card_by_a_ruled_out_author_is_a_violation_and_a_miss() -> None:
    result = de.score(dialog(authors_none=["stephen king"]), ["goodbooks:1", "goodbooks:2"], BOOKS)
    assert result.violations == ["Dark Tower: author Stephen King"]
    assert result.passed == pytest.approx(1 / 5)  # two cards count as five; one of them fits


def test_a_card_by_none_of_the_authors_asked_for_misses_without_a_violation() -> None:
    result = de.score(
        dialog(authors_any=["terry pratchett", "Stephenie Meyer"]),
        ["goodbooks:1", "goodbooks:2", "goodbooks:3"],
        BOOKS,
    )
    assert result.violations == []
    assert [m.split(":")[0] for m in result.misses] == ["Dark Tower"]
    assert result.passed == pytest.approx(2 / 5)


def test_limits_other_than_a_no_fail_the_card_without_a_violation() -> None:
    result = de.score(
        dialog(year_max=1985, seed_books=[2], shelves_any=["fantasy"]),
        ["goodbooks:1", "goodbooks:2", "goodbooks:3"],
        BOOKS,
    )
    assert result.violations == []
    assert [m.split(":")[0] for m in result.misses] == ["Mort", "Twilight"]
    assert result.passed == pytest.approx(1 / 5)


def test_shelves_ruled_out_and_required_shelves() -> None:
    result = de.score(
        dialog(shelves_none=["young_adult"], shelves_all=["humor"]), ["goodbooks:2", "goodbooks:3"], BOOKS
    )
    assert result.violations == ["Twilight: shelf young_adult"]
    assert "not shelved ['humor']" in result.misses[0]


def test_only_the_first_ten_cards_are_scored() -> None:
    result = de.score(dialog(min_rating=4.1), ["goodbooks:2"] * 12 + ["goodbooks:1"], BOOKS)
    assert len(result.cards) == 10
    assert result.passed == 1.0


def test_split_is_fixed_disjoint_and_halves_every_kind() -> None:
    dialogs = [
        de.Dialog(id=f"{kind}-{i}", kind=kind, turns=["a", "b"], expect=de.Expectation(min_rating=1))
        for kind in de.KINDS
        for i in range(7)
    ]
    dev, test = de.split(dialogs)
    assert de.split(list(reversed(dialogs))) == (dev, test)
    assert {d.id for d in dev}.isdisjoint({d.id for d in test})
    assert len(dev) + len(test) == len(dialogs)
    for kind in de.KINDS:
        assert sum(d.kind == kind for d in dev) == 4
        assert sum(d.kind == kind for d in test) == 3


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    good = {"id": "x", "kind": "messy", "turns": ["a", "b"], "expect": {"min_rating": 4}}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "id": "y", "kind": "chitchat"}) + "\n")
    with pytest.raises(de.DialogSetError, match=r"set\.jsonl:3: kind"):
        de.load_dialogs(path)


def test_conversations_too_strict_for_the_catalog_are_reported() -> None:
    problems = de.unfair([dialog(shelves_any=["fantasy"]), dialog(shelves_any=["poetry"])], BOOKS)
    assert problems == ["d1: only 3 catalog books meet its limits", "d1: unknown ['poetry']"]


def test_the_committed_sets_are_valid_and_split_by_the_seed() -> None:
    dev, test = de.load_dialogs(de.DEV_SET), de.load_dialogs(de.TEST_SET)
    assert len(dev) + len(test) >= 200
    assert {d.kind for d in dev} == {d.kind for d in test} == set(de.KINDS)
    assert de.split([*dev, *test]) == (dev, test)


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("fresh", de.FRESH_SPLIT_SEED),
        ("fresh2", de.FRESH2_SPLIT_SEED),
        ("fresh3", de.FRESH3_SPLIT_SEED),
        ("fresh4", de.FRESH4_SPLIT_SEED),
        ("fresh5", de.FRESH5_SPLIT_SEED),
        ("fresh6", de.FRESH6_SPLIT_SEED),
        ("fresh7", de.FRESH7_SPLIT_SEED),
        ("fresh8", de.FRESH8_SPLIT_SEED),
        ("fresh9", de.FRESH9_SPLIT_SEED),
        ("fresh10", de.FRESH10_SPLIT_SEED),
        ("fresh11", de.FRESH11_SPLIT_SEED),
        ("fresh12", de.FRESH12_SPLIT_SEED),
        ("fresh13", de.FRESH13_SPLIT_SEED),
        ("fresh14", de.FRESH14_SPLIT_SEED),
        ("fresh15", de.FRESH15_SPLIT_SEED),
    ],
)
def test_each_fresh_set_is_split_by_its_own_seed_and_its_test_half_is_held_out(name: str, seed: int) -> None:
    dev = de.load_dialogs(de.DIALOG_DIR / f"{name}_dev.jsonl")
    test = de.load_dialogs(de.DIALOG_DIR / f"{name}_test.jsonl")
    assert {d.kind for d in dev} == {d.kind for d in test} == set(de.KINDS)
    assert de.split([*dev, *test], seed=seed) == (dev, test)
    assert de.held_out(de.TEST_SET) and de.held_out(de.DIALOG_DIR / f"{name}_test.jsonl")
    assert not de.held_out(de.DEV_SET) and not de.held_out(de.DIALOG_DIR / f"{name}_dev.jsonl")


@pytest.mark.slow
def test_a_conversation_runs_through_the_chat_api(goodbooks_mini_index) -> None:
    from vibeshelf.settings import Settings

    catalog = de.load_catalog(goodbooks_mini_index.catalog)
    convo = de.Dialog(
        id="e2e",
        kind="exclusion",
        turns=["a fantasy novel please", "nothing by J.K. Rowling"],
        expect=de.Expectation(shelves_any=["fantasy"], authors_none=["J.K. Rowling"]),
    )
    with de.DialogRunner(Settings(home=goodbooks_mini_index.home)) as runner:
        result = runner.run(convo, catalog)
    assert result.error is None
    assert result.cards, "the last answer showed no books"
    assert all(c in catalog for c in result.cards)
    assert result.tool_calls > 0


def test_the_writers_lookup_validates_a_set_against_the_catalog(goodbooks_mini_catalog, tmp_path) -> None:
    import json
    import subprocess
    import sys

    lookup = [sys.executable, str(de.DIALOG_DIR / "lookup.py"), "--home", str(goodbooks_mini_catalog.home)]
    fair = {"id": "w-1", "kind": "exclusion", "turns": ["fantasy", "no Rowling"]}
    fair["expect"] = {"shelves_any": ["fantasy"], "authors_none": ["J.K. Rowling"]}
    misspelt = {**fair, "id": "w-2", "expect": {"shelves_any": ["fantasy"], "authors_none": ["JK Rowling"]}}
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(json.dumps(fair) + "\n")
    bad.write_text(json.dumps(fair) + "\n" + json.dumps(misspelt) + "\n")
    ok = subprocess.run([*lookup, "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("1 conversations, 0 errors")
    failed = subprocess.run([*lookup, "validate", str(bad)], capture_output=True, text=True)
    assert (
        failed.returncode == 1
        and "w-2: author 'JK Rowling' is not spelled as in the catalog" in failed.stdout
    )
    found = subprocess.run([*lookup, "author", "rowling"], capture_output=True, text=True)
    assert found.stdout.startswith("J.K. Rowling\t")
