"""The catalog lookup that writers of dialog sets use (they run it; they never read the planner's code).

    python eval/dialogs/lookup.py [--home .vibeshelf] shelves
    python eval/dialogs/lookup.py find WORDS...            # titles/authors holding every word, most rated first
    python eval/dialogs/lookup.py author NAME              # catalog spellings of authors whose name holds NAME
    python eval/dialogs/lookup.py count '{"shelves_any": ["horror"], "authors_none": ["Stephen King"]}'
    python eval/dialogs/lookup.py validate FILE.jsonl      # 0 errors before a set is split and added

``count`` and ``validate`` apply the same checks as ``vibeshelf eval --dialogs`` (``vibeshelf.dialog_eval``):
known shelves and books, authors spelled as in the catalog, at least 12 catalog books meeting each conversation.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from vibeshelf.dialog_eval import (
    CatalogBook,
    DialogSetError,
    Expectation,
    failures,
    load_catalog,
    load_dialogs,
    unfair,
)
from vibeshelf.layout import Layout


def _line(book: CatalogBook) -> str:
    number = book.id.split(":", 1)[1]
    shelves = " ".join(sorted(book.shelves))
    return (
        f"{number}\t{book.title} | {', '.join(book.authors)} | {book.year} | rating {book.rating} | "
        f"{book.ratings_count} ratings | {shelves}"
    )


def _most_rated(books: list[CatalogBook], n: int) -> list[CatalogBook]:
    return sorted(books, key=lambda b: -(b.ratings_count or 0))[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".vibeshelf"))
    parser.add_argument("command", choices=["shelves", "find", "author", "count", "validate"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    catalog = load_catalog(Layout(args.home).catalog)
    books = list(catalog.values())
    if args.command == "shelves":
        for shelf, n in sorted(Counter(s for b in books for s in b.shelves).items()):
            print(f"{shelf}\t{n}")
    elif args.command == "find":
        words = [w.casefold() for w in args.args]
        hits = [b for b in books if all(w in f"{b.title} {' '.join(b.authors)}".casefold() for w in words)]
        for book in _most_rated(hits, 25):
            print(_line(book))
    elif args.command == "author":
        said = " ".join(args.args).casefold()
        for name, n in Counter(a for b in books for a in b.authors if said in a.casefold()).most_common(30):
            print(f"{name}\t{n} books")
    elif args.command == "count":
        expect = Expectation.model_validate_json(" ".join(args.args))
        fitting = [b for b in books if not failures(b, expect)[0]]
        print(f"{len(fitting)} catalog books meet these limits; most rated:")
        for book in _most_rated(fitting, 10):
            print(_line(book))
    else:
        path = Path(args.args[0])
        try:
            dialogs = load_dialogs(path)
        except DialogSetError as err:
            print(f"ERROR {err}")
            return 1
        authors = {a.casefold() for b in books for a in b.authors}
        errors = list(unfair(dialogs, catalog))
        errors += [
            f"{d.id}: author {a!r} is not spelled as in the catalog"
            for d in dialogs
            for a in [*d.expect.authors_none, *d.expect.authors_any]
            if a.casefold() not in authors
        ]
        for error in errors:
            print(f"ERROR {error}")
        print(f"{len(dialogs)} conversations, {len(errors)} errors")
        return 1 if errors else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
