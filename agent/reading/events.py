"""Books dated by history: an event or one end of a period, after a time word, rewritten as a year.

"nothing written after the death of Edward VII" -> "nothing written after 1910", "between the Armistice and the
invasion of Poland" -> "between 1919 and 1939", "from before the Berlin Wall fell" -> "from before 1990", so the
year reading downstream bounds them as it bounds digits. An event is a dated row of ``data/events.tsv``; one end of
a period (``data/historical_periods.tsv``) is said with a boundary word (``data/period_boundaries.tsv``: "the end
of the Cold War", "the war broke out"), or a period alone after a time word stands for its start or end ("before
the Great War" is before 1914, "after WWII" after 1945). Without a time word nothing is dated: "a novel about the
moon landing" names a topic, "a WWII novel" a setting.

A month places an event in its year: a book of that year counts as after an event of the year's first quarter
and as before one of its last quarter ("since the dissolution of the Soviet Union", December 1991, is from 1992).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vibeshelf.agent.reading import cues


@dataclass(frozen=True)
class _Moment:
    year: int
    month: int

    @property
    def first_after(self) -> int:
        """The first year whose books come after it."""
        return self.year + 1 if self.month >= 10 else self.year

    @property
    def last_before(self) -> int:
        """The last year whose books come before it."""
        return self.year - 1 if self.month <= 3 else self.year


@dataclass(frozen=True)
class _Period:
    start: _Moment
    end: _Moment | None


_LOWER = {"after", "since", "from", "post", "following", "later than", "newer than", "more recent than"}
_UPPER = {"before", "prior to", "pre", "earlier than", "older than", "until", "till", "up to", "up until"}
_TIME_WORD = re.compile(
    r"\b(?P<op>" + "|".join(sorted([*_LOWER, *_UPPER, "between"], key=len, reverse=True)) + r")[- ]?\s*$",
    re.IGNORECASE,
)
# "and" or "to" after "between <event>" or "from <event>": the second end of the span follows.
_SPAN_END = re.compile(r"^\s*(?:and|to|till|until|through)\s+", re.IGNORECASE)
_ONWARDS = re.compile(r"\s+(?:on|onwards?|forwards?)\b", re.IGNORECASE)
# A "no" shortly before the time word turns its side ("nothing written after ..." is up to it).
_NEGATED = re.compile(r"\b(?:nothing|none|no|not|never)\b(?:\s+[\w'’]+){0,3}\s*$", re.IGNORECASE)


@cache
def _events() -> dict[str, _Moment]:
    return {
        phrase.lower(): _Moment(int(year), int(month)) for phrase, year, month in cues.table("events.tsv")
    }


@cache
def _periods() -> dict[str, _Period]:
    out = {}
    for row in cues.table("historical_periods.tsv"):
        phrase, first, first_month, last, last_month = [*row, "", ""][:5]
        end = _Moment(int(last), int(last_month)) if last else None
        out[phrase.lower()] = _Period(_Moment(int(first), int(first_month)), end)
    return out


@cache
def _boundaries() -> dict[str, tuple[str, str]]:
    """boundary phrase -> (which end, where it stands: "lead" before the period, "tail" after it)."""
    return {phrase.lower(): (end, place) for phrase, end, place in cues.table("period_boundaries.tsv")}


def _alternation(phrases: list[str]) -> str:
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))


@cache
def _mention() -> re.Pattern[str]:
    periods = _alternation([p.removeprefix("the ") for p in _periods()])
    events = _alternation([e.removeprefix("the ") for e in _events()])
    leads = _alternation([b for b, (_, place) in _boundaries().items() if place == "lead"])
    tails = _alternation([b for b, (_, place) in _boundaries().items() if place == "tail"])
    return re.compile(
        rf"(?<![\w'’])(?:the\s+)?(?:(?P<lead>{leads})\s+(?:the\s+)?(?P<led>{periods})"
        rf"|(?P<tailed>{periods})\s+(?P<tail>{tails})|(?P<event>{events})|(?P<period>{periods}))(?![\w'’])",
        re.IGNORECASE,
    )


def _key(table: dict[str, object], said: str) -> str:
    said = re.sub(r"\s+", " ", said.lower())
    return said if said in table else f"the {said}"


def _moment(m: re.Match[str], side: str) -> _Moment | None:
    """The point in time a mention stands for, on ``side`` ("lower" or "upper") of a bound."""
    if m.group("event"):
        return _events()[_key(_events(), m.group("event"))]
    periods = _periods()
    if m.group("period"):
        # A period alone after a time word: "after WWII" is after its end; "before the Great War" before any of
        # it, so its first year is out.
        period = periods[_key(periods, m.group("period"))]
        return period.end if side == "lower" else _Moment(period.start.year, 1)
    said, boundary = (
        (m.group("led"), m.group("lead")) if m.group("led") else (m.group("tailed"), m.group("tail"))
    )
    period = periods[_key(periods, said)]
    end, _ = _boundaries()[re.sub(r"\s+", " ", boundary.lower())]
    return period.start if end == "start" else period.end


def dated(text: str) -> str:
    """``text`` with each event or period end said after a time word rewritten as the year that bound means."""
    out: list[str] = []
    pos = 0
    span_start: int | None = None  # after "between <event>", where the span's second end is expected
    for m in _mention().finditer(text):
        before = text[pos : m.start()]
        if span_start is not None and (join := _SPAN_END.match(before)) and join.end() == len(before):
            moment = _moment(m, "upper")
            if moment is not None:
                out += [before, str(moment.last_before)]
                pos, span_start = m.end(), None
                continue
        span_start = None
        lead = _TIME_WORD.search(text, 0, m.start())
        if lead is None or lead.start() < pos:
            continue
        op = lead.group("op").lower()
        spans = op == "between" or (op == "from" and _SPAN_END.match(text[m.end() :]) is not None)
        if op == "from" and m.group("period") and not spans:
            continue  # "something from the Cold War years" is the period itself, not after it
        side = "upper" if op in _UPPER else "lower"
        moment = _moment(m, side)
        if moment is None:
            continue
        end = m.end()
        negated = _NEGATED.search(text, 0, lead.start()) is not None and not spans
        if spans:  # "between the Armistice and ...", "from the Armistice to ..."
            said = f"{op} {moment.first_after}"
            span_start = m.end()
        elif negated:
            # The parser turns a negated bound to the other side: "nothing after 1910" is up to 1910,
            # "nothing before 1990" from 1990.
            said = f"after {moment.last_before}" if side == "lower" else f"before {moment.first_after}"
        elif side == "lower":
            said = f"since {moment.first_after}"
            onwards = _ONWARDS.match(text, m.end())
            end = onwards.end() if onwards else end  # "since 1990", not "since 1990 onwards"
        else:
            said = f"before {moment.last_before + 1}"
        out += [text[pos : lead.start()], said]
        pos = end
    out.append(text[pos:])
    return "".join(out)
