"""Score the reader on single messages that rule one author or kind out (eval/refusals/*.jsonl).

    python eval/refusals/score.py [--home .vibeshelf] [--failures] [--rules-only]

Prints, per half and type, how many messages had the thing ruled out and how many asked for it instead.
--failures lists the dev half's misses only (the test half is held out). The reader is the server's: with
the shelf guesser and the stance judge over the index's encoder (--rules-only: the cues alone).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vibeshelf.agent.reading.reader import catalog_reader
from vibeshelf.agent.reading.stance import StanceJudge
from vibeshelf.layout import Layout
from vibeshelf.retrieval.services import open_services
from vibeshelf.text import fold

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".vibeshelf"))
    parser.add_argument("--failures", action="store_true")
    parser.add_argument("--rules-only", action="store_true")
    args = parser.parse_args()
    if args.rules_only:
        reader = catalog_reader(args.home / "catalog.parquet")
    else:
        services = open_services(Layout(args.home), load_cf=False, query_adapter=False)
        judge = StanceJudge.open(services.layout.stance, services.encoder.encode, services.encoder.info.model)
        reader = catalog_reader(services.layout.catalog, None, services.shelves.predict, judge.against)
    print(f"{'half':5} {'type':7} {'ruled out':>10} {'asked for':>10}")
    for half in ("dev", "test"):
        for kind in ("author", "kind"):
            rows = [json.loads(line) for line in (HERE / f"{half}.jsonl").open(encoding="utf-8")]
            rows = [r for r in rows if r["type"] == kind]
            ruled_out = asked = 0
            for row in rows:
                intent = reader.read(row["text"])
                key = fold(row["refuses"])
                if kind == "author":
                    surname = key.split()[-1]
                    hit = any(surname in fold(a) for a in intent.exclude_authors)
                    wrong = any(surname in fold(t.title) for t in intent.like_titles)
                else:  # a kind: its first word's stem among the shelves or terms ("science" -> science_fiction)
                    stem = key.split()[0][:5]
                    hit = any(stem in fold(g) for g in intent.genres_exclude + intent.exclude_terms)
                    wrong = any(stem in fold(g) for g in intent.genres_include)
                ruled_out += hit
                asked += wrong
                if args.failures and half == "dev" and (not hit or wrong):
                    print(f"  miss: {row['text']!r} -> {row['refuses']}")
            print(f"{half:5} {kind:7} {ruled_out:>5} / {len(rows):<3} {asked:>10}")


if __name__ == "__main__":
    main()
