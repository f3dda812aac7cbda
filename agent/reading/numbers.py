"""Years written in words, and readers' shorthand, rewritten so the rest of the reading sees digits and words.

"before nineteen seventy" -> "before 1970", "two thousand and ten" -> "2010", "nineteen eighty-four" ->
"1984", "b4 1980" -> "before 1980". Decades in words ("the nineteen-sixties") are left to the decade
reading. The number words and the shorthand are data (``data/cardinal_words.tsv``, ``data/shorthand.tsv``).
"""

from __future__ import annotations

import re
from functools import cache

from vibeshelf.agent.reading import cues

_WORD = re.compile(r"[A-Za-z]+|\S")


@cache
def _cardinals() -> dict[str, int]:
    return {word: int(value) for word, value in cues.table("cardinal_words.tsv")}


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    """(value, words used) of a number below 100 written at ``words[i]`` ("eighty four", "twelve")."""
    n = _cardinals()
    if i >= len(words) or words[i] not in n or n[words[i]] >= 100:
        return None
    first = n[words[i]]
    if first >= 20 and first % 10 == 0 and i + 1 < len(words) and n.get(words[i + 1], 100) < 10:
        return first + n[words[i + 1]], 2
    return first, 1


def _year_at(words: list[str], i: int) -> tuple[int, int] | None:
    """(year, words used) of a year written in words starting at ``words[i]``, if one starts there."""
    n = _cardinals()
    w = words[i]
    if w == "two" and i + 1 < len(words) and words[i + 1] == "thousand":
        j = i + 2 + (i + 2 < len(words) and words[i + 2] == "and")
        rest = _below_hundred(words, j)
        return (2000 + rest[0], j + rest[1] - i) if rest else (2000, 2)
    century = n.get(w)
    if century is None or not 10 <= century <= 20:
        return None
    j = i + 1
    if j < len(words) and words[j] == "hundred":
        k = j + 1 + (j + 1 < len(words) and words[j + 1] == "and")
        rest = _below_hundred(words, k)
        return (century * 100 + rest[0], k + rest[1] - i) if rest else (century * 100, 2)
    if j < len(words) and words[j] in ("oh", "o") and (unit := _below_hundred(words, j + 1)) and unit[0] < 10:
        return century * 100 + unit[0], 3
    rest = _below_hundred(words, j)
    if rest is None or rest[0] < 10 or (century == 20 and rest[0] >= 30):
        return None  # "nineteen" alone, "twenty one": not years
    return century * 100 + rest[0], 1 + rest[1]


# A comparison sign before a number ("avg rating >= 3.9", "<300 pages"); "<3" alone is a heart.
_COMPARISON = re.compile(r"(?<![<>=])(>=|=>|≥|<=|=<|≤|>|<(?!3(?![\d.])))\s*(?=\d)")
_COMPARISON_WORDS = {">=": "at least", "=>": "at least", "≥": "at least", "<=": "at most", "=<": "at most"}
_COMPARISON_WORDS |= {"≤": "at most", ">": "over", "<": "under"}
# "older then 2000": texters write "then" for "than" after a comparative.
_THEN_FOR_THAN = re.compile(r"\b((?:[a-z]+er|more|less|fewer)\s+)then\b", re.IGNORECASE)


def _refusal_sign_words(sign: re.Match[str]) -> str:
    """A sign that says no, as words: "no" before what it refuses, "is a no," after it (at a clause's end)."""
    return " no " if re.match(r"\s*\w", sign.string[sign.end() :]) else " is a no, "


def normalise(text: str) -> str:
    """``text`` with years in words as digits, shorthand ("b4", "thru"), signs for words ("≠", "romance 👎")
    and comparison signs (">= 3.9") written out."""
    text = cues.rewrite(text, "shorthand.tsv")
    text = cues.rewrite(text, "sign_words.tsv")
    text = cues.refusal_signs().sub(_refusal_sign_words, text)
    text = _COMPARISON.sub(lambda m: f" {_COMPARISON_WORDS[m.group(1)]} ", text)
    text = _THEN_FOR_THAN.sub(r"\1than", text)
    tokens = list(re.finditer(r"[A-Za-z]+", text))
    words = [t.group(0).lower() for t in tokens]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(tokens):
        found = _year_at(words, i)
        if found:
            year, used = found
            last = tokens[i + used - 1]
            between = text[tokens[i].start() : last.end()]
            if re.fullmatch(r"[A-Za-z]+(?:[\s-]+[A-Za-z]+)*", between):  # one run of words, no punctuation
                out += [text[pos : tokens[i].start()], str(year)]
                pos = last.end()
                i += used
                continue
        i += 1
    out.append(text[pos:])
    return "".join(out)
