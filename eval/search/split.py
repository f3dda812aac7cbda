"""Split a query set written by outside writers into dev (tune on it) and test (held out, never tuned on).

    python eval/search/split.py /path/to/search-queries

Reads every ``<kind>_<writer>.jsonl`` there (English) and its translations ``<kind>_<writer>.<lang>.jsonl``;
per kind, half the English queries (shuffled by a fixed seed after sorting by qid) go to ``dev.jsonl`` and
the rest to ``test.jsonl`` beside this file. A translation follows its English query: ``dev.<lang>.jsonl``
and ``test.<lang>.jsonl``. Rerunning on the same files writes the same split.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261205
HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^(?P<kind>[a-z_]+?)_(?P<writer>[a-z0-9]+)(?:\.(?P<lang>[a-z]{2}))?\.jsonl$")


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                sys.exit(f"{path} line {lineno}: not JSON ({err.msg})")
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def split(source: Path, out: Path = HERE) -> dict[str, int]:
    english: dict[str, list[dict]] = defaultdict(list)
    translated: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(source.glob("*.jsonl")):
        match = _NAME.match(path.name)
        if not match:
            sys.exit(f"{path}: expected <kind>_<writer>.jsonl or <kind>_<writer>.<lang>.jsonl")
        rows = read_jsonl(path)
        if match["lang"]:
            translated[match["lang"]] += rows
        else:
            for row in rows:
                english[row["kind"]].append(row)
    side: dict[str, str] = {}
    dev, test = [], []
    for kind in sorted(english):
        rows = sorted(english[kind], key=lambda r: r["qid"])
        qids = [r["qid"] for r in rows]
        if len(set(qids)) != len(qids):
            sys.exit(f"duplicate qids among the {kind} queries")
        random.Random(SEED).shuffle(rows)
        half = len(rows) // 2
        for r in rows[:half]:
            side[r["qid"]] = "dev"
        for r in rows[half:]:
            side[r["qid"]] = "test"
        dev += sorted(rows[:half], key=lambda r: r["qid"])
        test += sorted(rows[half:], key=lambda r: r["qid"])
    write_jsonl(out / "dev.jsonl", dev)
    write_jsonl(out / "test.jsonl", test)
    counts = {"dev": len(dev), "test": len(test)}
    for lang, rows in sorted(translated.items()):
        unknown = [r["qid"] for r in rows if r["qid"] not in side]
        if unknown:
            sys.exit(f"{lang} translations of unknown queries: {', '.join(unknown[:5])}")
        for name in ("dev", "test"):
            part = sorted((r for r in rows if side[r["qid"]] == name), key=lambda r: r["qid"])
            write_jsonl(out / f"{name}.{lang}.jsonl", part)
            counts[f"{name}.{lang}"] = len(part)
    return counts


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(split(Path(sys.argv[1])))
