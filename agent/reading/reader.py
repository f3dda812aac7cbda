"""One reader message read against the catalog: the :class:`~vibeshelf.agent.intent.Intent` both the planner
and the constraint guard fold into the conversation's state.

The steps, each a general mechanism rather than a phrase:

1. **Spelling**: words the catalog's text never uses are corrected to the nearest shelf or author word
   (:mod:`.spelling`), so "a thriler" and "nothing by tolkein" read as meant.
2. **Refusals with a scope**: a refusal cue ("no", "steer clear of", "spare me", "not a fan of", ... in
   ``data/refusal_cues.txt``) rules out what follows it to the end of its clause, a list included
   ("no vampires, zombies or werewolves"); a tail cue ("... is off the table") rules out what precedes
   it, and so does a cue with nothing after it ("it's Gaiman I don't want"). Inside a scope, shelves and
   themes come from the genre lexicon and authors are linked to the catalog (:mod:`.authors`). A lift cue
   ("... is fine") allows again what precedes it.
3. **Time in words**: named periods (``data/eras.tsv``: "between the wars", "post-war", "this century")
   and decades in words ("the fifties", "nineteen-sixties"), negated when said inside a refusal; events and
   the ends of periods after a time word ("since the end of the Cold War", :mod:`.events`) as years.
4. **Starting over or correcting**: restart cues ("forget that") drop the standing request but keep the
   reader's "no"s; correction cues ("I meant") replace just what the message names.

What is ruled out is taken out of the text before the rest is parsed, so "spare me the romance" neither
asks for romance nor searches for the words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from vibeshelf.agent.intent import (
    AGE_BEFORE,
    FEW_READERS,
    MANY_READERS,
    OBSCURE_PHRASES,
    PERIOD_JOIN,
    POPULAR_PHRASES,
    READ_ALREADY,
    SETTING_BEFORE,
    Intent,
    ParseConfig,
    TitleRef,
    genre_hits,
    parse_intent,
    refused_year_bounds,
    theme_hits,
)
from vibeshelf.agent.reading import cues, events, numbers
from vibeshelf.agent.reading.authors import HONORIFICS, AuthorLinker, AuthorMention
from vibeshelf.agent.reading.series import SeriesMention, find_series
from vibeshelf.agent.reading.spelling import Speller
from vibeshelf.agent.reading.stance import StanceGuesser, text_around
from vibeshelf.agent.reading.titles import TitleLinker, TitleMention
from vibeshelf.agent.reading.translation import in_english
from vibeshelf.agent.reading.vocabulary import Vocabulary, catalog_vocabulary, empty_vocabulary, fold
from vibeshelf.retrieval.title_lookup import title_key

# A full stop, but not one after an initial ("J. K.") or a title or suffix of a name ("Dr. Seuss", "Jr.").
_PERIOD = r"(?<!\b[A-Za-z])(?<!\b(?:[DdMmSsJj][rRsStT]))(?<!\b[Mm]rs)\.(?=\s|$)"
_CLAUSE_END = re.compile(
    rf"{_PERIOD}|[;!?\n()]|\s[-–—]+\s|"
    r"\s(?:but|though|although|however|just|only|i want|i'd like|i would like|i need|i'm looking|"
    r"looking for|something|ideally|preferably|maybe|instead|rather|please|pls|thx|thanks|it's|its|"
    r"i said|i meant)\b",
    re.IGNORECASE,
)
# An aside of a few words set off by commas right after "is" ("Stephen King is, by group consensus, too obvious"):
# read without it, so the judgement reaches its subject. A longer stretch is a clause of its own ("only thing is,
# kindly keep Austen out of the list, she has read them all").
_ASIDE_AFTER_VERB = re.compile(
    r"(\b(?:is|are|was|were)|['’]s)\s*,\s*(?:[\w'’-]+\s+){0,3}[\w'’-]+\s*,\s*", re.IGNORECASE
)
# A negation right before a refusal cue, with only words that keep it governing the cue between them.
_NEGATION_BEFORE = re.compile(
    r"(?<![\w'’])(?:not|never|\w+n['’]t|(?:do|does|did|ca|wo|would|could|should|is|are|was|were|has|have|ai)nt)"
    r"(?:\s+(?:really|exactly|entirely|totally|particularly|at all|say|saying|said|that|i|we|be|been|am|is|are|so"
    r"|too))*\s+$",
    re.IGNORECASE,
)
# "I'm no scientist", "I am not an expert": a bare negation after "I am" before a person's noun describes the
# reader ("I'm no romance reader" names a kind, and is still read as refusing it).
_SELF_BEFORE = re.compile(r"\bI(?:['’]m|\s+am)\s+$", re.IGNORECASE)
_AGENT_NOUN = re.compile(r"\s+(?:(?:a|an|much\s+of\s+an?)\s+)?[^\W\d_]+(?:ist|ian|er|or|expert)\b(?!\s+of\b)")
# A perfect's auxiliary before "not" and a verb of reading after it: what has not been read yet.
_PERFECT_BEFORE = re.compile(r"(?:(?<![\w'’])(?:have|has|had)|\w['’](?:ve|s|d))\s+$", re.IGNORECASE)
_UNREAD = re.compile(
    r"\s+(?:(?:yet|even|actually|ever)\s+)?(?:read|finished|tried|started|opened)(?![\w'’])", re.IGNORECASE
)
_CONCESSION_END = re.compile(r"[,;.!?\n]|\s(?:but|so)\s", re.IGNORECASE)
_CONCORD = re.compile(r"no|none|nothing|nobody|no\s+more", re.IGNORECASE)
# An aside of a few words set off by commas right after a refusal cue; see ``_asides_after_refusals``.
_ASIDE_AFTER_CUE = re.compile(r"\s*,\s*(?P<aside>(?:[\w'’-]+\s+){0,3}[\w'’-]+)\s*,\s*(?=[\w\"'“‘])")
_BARE_NEGATIONS = frozenset({"no", "not", "nothing", "none", "never", "nor", "neither", "zero"})
_VERDICT_REACH = 3  # clauses a verdict said on its own may reach back to what it is about
_COORDINATED = re.compile(r"(?:\b(?:and|or|nor)|[,&/+])[\s-]*$", re.IGNORECASE)
# A cleft on a name ("It is Jordan who is excluded", "it's Gaiman that I can't stand"): said as the plain
# clause ("Jordan is excluded"), so what is said of the name is not read as a relative clause describing books.
_CLEFT = re.compile(
    r"\b[Ii]t(?:\s+is|\s+was|['’]s)\s+(?P<focus>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})\s+(?:who|that|whom)\s+"
    r"(?=(?i:is|are|was|were|has|have|got|gets|i|we)\b)",
)
# A list's labels ("(a) any works by Christie and (b) any by Cornwell"): not a parenthesis that ends a clause.
_ENUMERATOR = re.compile(r"(?<![\w)])\(\s*(?:[a-h]|[ivx]{1,4}|\d{1,2})\s*\)(?=\s)", re.IGNORECASE)
# A search box's minus before a word ("thriller -patterson -baldacci"): not a hyphen (no letter before it)
# nor a dash (no space after it).
_MINUS_OPERATOR = re.compile(r"(?:^|(?<=\s))-(?=[^\W\d_])")
_CLAUSE_START = re.compile(
    rf"{_PERIOD}|[;!?\n(),:]|\b(?:but|and|though|although|so|because|cause|cuz)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(rf"{_PERIOD}|[;!?\n]")
# "that author" points back at a writer as "her" does.
_THAT_WRITER = r"(?:that|this|the same)\s+(?:author|writer)"
_PRONOUN = re.compile(
    rf"\b(?:him|her|his|hers|she|he|them|their|theirs|they|those|these|both|either|neither|{_THAT_WRITER})\b",
    re.IGNORECASE,
)
_DECLINED_OBJECT = re.compile(r"\s+(?:on|to)(?![\w'’])", re.IGNORECASE)  # "pass on", "nope to"
_PERSON = re.compile(rf"him|her|he|she|{_THAT_WRITER}", re.IGNORECASE)
# One book pointed back at ("skip that one", "not this book"); "it" stays out, a title of its own.
_BOOK_POINTER = re.compile(r"\b(?:that|this)\s+(?:one|book|title|novel)\b|\bthe latter\b", re.IGNORECASE)
_PLURAL_PRONOUN = re.compile(r"them|their|theirs|they|those|these|both|either|neither", re.IGNORECASE)
_SINGULAR_PERSON = re.compile(r"\b(?:his|her|hers|him|he|she)\b", re.IGNORECASE)
_SKILLED_AT = re.compile(r"\s+at\b", re.IGNORECASE)
_OR_BEFORE = re.compile(r"\bor\s+$", re.IGNORECASE)
_EITHER_WAY = re.compile(r"not\b(?=\s*(?:[,.;:!?)]|$))", re.IGNORECASE)
_CLOSES_LIST = re.compile(r"\b(?:or|nor|too|either|as well)\b", re.IGNORECASE)
# Another refusal after a comma starts its own scope ("no YA, nothing after 2005"), so only these go on.
_LIST_GOES_ON = re.compile(r"\s*(?:or|nor|plus)\b", re.IGNORECASE)
_NOT_A_NAME = re.compile(
    r"^\s*(?:him|her|them|his|hers|theirs|me|us|you)\s*$|\b(?:authors?|writers?)\b", re.IGNORECASE
)
# Asking for other authors than those of the books liked: "a different author", "another writer",
# "other authors please", "not by the same author", "nothing else by her".
_OTHER_AUTHOR = re.compile(
    r"\b(?:different|other|another|new|someone else'?s?)\s+(?:authors?|writers?|novelists?)\b|"
    r"\bby\s+(?:somebody|someone|some(?:body|one) else|somebody different|someone different)\b|"
    r"\b(?:somebody|someone)\s+(?:else|different)\b|"
    r"\b(?:not|nothing|none)\s+(?:(?:else|more)\s+)?(?:by|from)\s+(?:the same (?:authors?|writers?)|him|her|them)\b",
    re.IGNORECASE,
)
# What a request for books for adults rules out.
GROWN_UP_REFUSES = ("young_adult", "childrens", "middle_grade")
# A refused phrase's shelf guessed from its meaning counts only at this probability or above.
KIND_CONFIDENCE = 0.8
# Books a pair of kinds must share in the catalog before "fantasy romance" means both: fewer, and the
# reader is better served by either than by a handful of cards.
JUXTAPOSED_MIN_BOOKS = 30
KindGuesser = Callable[[str], list[tuple[str, float]]]
# How sure the stance judge must be that a reader is against what they named before it is ruled out.
STANCE_CONFIDENCE = 0.7
_CONTENT_WORD = re.compile(r"[^\W\d_]{3,}")
# Words that point back at the books already being talked about ("popular ones", "make them shorter").
_ANAPHORA = re.compile(r"\b(?:ones|them|those|these|they|the same)\b", re.IGNORECASE)
_POPULAR = (POPULAR_PHRASES, MANY_READERS)
_OBSCURE = (OBSCURE_PHRASES, FEW_READERS)
_NEGATION = re.compile(r"\b(?:not|never|no|nothing)\b|n['’]t\b", re.IGNORECASE)
# A negation that says "only" ("she reads nothing else", "no one else will do", "no other author").
_EXCLUSIVE = re.compile(r"\b(?:nothing|no\s*one|nobody|none)\s+else\b|\bno\s+other\b", re.IGNORECASE)
_MEANT = re.compile(r"\b(?:i|we)\s+(?:meant|mean)\b[\s,:]*", re.IGNORECASE)
_TIME_GOVERNS = re.compile(
    r"\b(?:before|after|since|until|till|during|between|pre|post)[\s-]+(?:the\s+|a\s+)?(?:[^\W\d_]+\s+){0,2}$",
    re.IGNORECASE,
)
_LIST_JOIN_BEFORE = re.compile(r"(?:\s*,\s*|\s+(?:and|or|&)\s*|\s*/\s*)$", re.IGNORECASE)
_SINGULAR_PREDICATE = re.compile(r"(?:is|was|has|['’]s)\b", re.IGNORECASE)
_LIKE_THAT = re.compile(
    r"\blike\s+(?:this|that)\b|\b(?:this|that)\s+(?:vibe|feel|feeling|kind of thing|sort of thing)\b",
    re.IGNORECASE,
)
# A capitalised word inside a sentence (after a lower-case word or a comma): a name, a title, a show.
_NAMED_MID_SENTENCE = re.compile(r"(?<=[a-z,;] )(?!I\b)[A-Z][\w'’-]+")
_READ_WHOLE_SERIES = re.compile(
    r"\b(?:read|finished|done)\s+(?:the\s+whole\s+|all\s+(?:of\s+)?the\s+|the\s+|that\s+)"
    r"(?:trilogy|series|saga|books|lot)\b",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"(?:the|a|an)\s+", re.IGNORECASE)
# A lift said with a preposition ("X is back in") lifts only where it closes its clause: "back in 2019" is a time.
_ENDS_IN_PREPOSITION = re.compile(r"\b(?:in|on)$", re.IGNORECASE)
_CLAUSE_CLOSES = re.compile(r"\s*(?:[,.;:!?)]|$|(?:too|again|now|please|then|thanks)\b)", re.IGNORECASE)
# What may stand before a refusal that opens its sentence ("So none of those.", "And not those either").
_OPENS_SENTENCE = re.compile(r"\W*(?:(?:so|and|then|but|thus|hence|yeah|ok|okay)\b[\W]*)?", re.IGNORECASE)
# A word for a title's books after it ("the Camel Club series", "the Hunger Games books"): its series is meant.
_SERIES_AFTER = re.compile(r"[\s'’s]*(?:series|books|novels|trilogy|saga)\b", re.IGNORECASE)
# A repair of what was just said: "<item> sorry", "i mean <item>", "<item>*" (phone keyboards and typos).
_REPAIR = re.compile(
    r"[\s,]*(?:(?:i mean|i meant|sorry|oops|typo|\*)[\s,:]+(?P<lead>))?(?P<item>[^\W\d][^,.;!?*]{1,40}?)"
    r"(?(lead)(?=\s*(?:[,.;!?]|$))|\s*(?:\*|\b(?:sorry|oops|typo|autocorrect)\b))",
    re.IGNORECASE,
)
# Decades and centuries in digits: "the 90s", "'80s", "1990s", "the 1800s".
_DIGIT_DECADE = re.compile(r"(?:\bthe\s+|['’]|\b)(\d0)['’]?s\b|\b(1[0-9]\d0|20[0-2]0)['’]?s\b", re.IGNORECASE)
# Between two periods that make one span: "80s or 90s", "fifties and sixties", "70s to 90s".
_JOINS_PERIODS = re.compile(
    rf"(?:the\s+|early\s+|late\s+|mid[- ]?)?[\w'’-]+\s*(?:,\s*{PERIOD_JOIN}?|{PERIOD_JOIN})\s*"
    r"(?:the\s+|early\s+|late\s+|mid[- ]?)?",
    re.IGNORECASE,
)
# A comparator right before a period (only "the" between): which side of the period is meant.
_PERIOD_CMP = re.compile(
    r"\b(before|pre|prior to|earlier than|older than|until|till|up to|through|up until|since|after|post|"
    r"later than|newer than|more recent than|younger than)[- ]?\s*(?:the\s+)?$",
    re.IGNORECASE,
)
# "early", "mid" or "late" right before a decade ("the early 2000s", "late 1980s").
_PART_OF_DECADE = re.compile(r"\b(early|mid|late)[- ]?\s*(?:the\s+)?$", re.IGNORECASE)
_PART_OF_DECADE_IN = re.compile(r"(?:the\s+)?(early|mid|late)\b", re.IGNORECASE)
_UPPER_CMP = {"before", "pre", "prior to", "earlier than", "older than"}
_UPTO_CMP = {"until", "till", "up to", "through", "up until"}
_SINCE_CMP = {"since"}
_DECADE = re.compile(
    r"\b(?:the\s+|early\s+|late\s+|mid[- ]?)?(?:(nineteen|twenty)[- ]?)?"
    r"(twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|noughties|aughts)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Scope:
    start: int  # the cue's start: the whole span is taken out of the text when it names something
    end: int
    text_start: int  # what the cue applies to
    text_end: int


class MessageReader:
    """Reads messages against one catalog's vocabulary (cheap to share; one per catalog)."""

    def __init__(
        self,
        vocab: Vocabulary | None = None,
        config: ParseConfig | None = None,
        kinds: KindGuesser | None = None,
        stance: StanceGuesser | None = None,
    ) -> None:
        """``kinds`` guesses the shelves a phrase names from its meaning (the retrieval shelf predictor):
        a refusal the word lists do not cover ("not for young people") is matched to a shelf with it.
        ``stance`` judges, from the words around them, whether the reader is against the authors and kinds
        named outside every refusal the cues found ("poetry goes over my head"; ``stance.StanceJudge``)."""
        self.vocab = vocab or empty_vocabulary()
        self.config = config or ParseConfig()
        self._kinds = kinds
        self._stance = stance
        self._speller = Speller(self.vocab)
        self._authors = AuthorLinker(self.vocab)
        self._titles = TitleLinker(self.vocab)
        self._series_of_first = {title: series for series, title in self.vocab.series_first.items()}
        self._read = lru_cache(maxsize=1024)(self._read_uncached)

    def read(self, text: str, authors: Iterable[str] = ()) -> Intent:
        """What ``text`` asks. ``authors``: the authors the conversation is about (those asked for so far),
        whose titles are recognised in the reader's shorthand ("the firm" once Grisham is asked for)."""
        return self._read(text, tuple(authors)).model_copy(deep=True)

    def _likenesses_as_liking(self, text: str) -> str:
        """``text`` with a name made a likeness said as liking it: "something Agatha Christie-ish" ->
        "something like Agatha Christie" (suffixes in ``data/likeness_suffixes.txt``)."""
        suffix = cues.likeness_suffix()
        if not suffix.search(text):
            return text
        names = [(m.start, m.end) for m in self._authors.find(text)] + [
            (m.start, m.end) for m in self._titles.find(text)
        ]
        for start, end in sorted(set(names), reverse=True):
            tail = suffix.match(text, end)
            if tail:
                text = f"{text[:start]}like {text[start:end]}{text[tail.end() :]}"
        return text

    def _free_of_as_refusal(self, text: str) -> str:
        """``text`` with "<X>-free" said as a refusal of X at its end: "a vampire-free romance" -> "a romance.
        No vampire.", "something Picoult-free" -> "something. No Picoult." X is a kind, a theme or an
        author; anything else ("gluten-free") is left as written."""
        if not _FREE_OF.search(text):
            return text
        items = [(m.start, m.end) for m in self._authors.find(text)]
        split = _split_compounds(text)  # same length: "vampire-free" -> "vampire free"
        items += [(start, end) for start, end, *_ in (*genre_hits(split), *theme_hits(split))]
        refused: list[str] = []
        for start, end in sorted(set(items), reverse=True):
            tail = _FREE_OF.match(text, end)
            if tail:  # once taken, the suffix is gone: an item ending at the same place finds none
                refused.append(text[start:end])
                text = f"{text[:start]}{text[tail.end() :]}"
        return text.rstrip() + "".join(f". No {item}." for item in reversed(refused))

    def _asides_after_refusals(self, text: str) -> str:
        """``text`` without an aside set off by commas right after a refusal cue ("excluding, without
        limitation, any works by Patterson", "except, of course, Tolkien"), so the cue reaches its object.
        A bare negation keeps its comma ("no, fantasy"), and what names a kind or an author after a comma is
        the start of a list, not an aside ("things I dislike, vampires, zombies")."""
        if text.count(",") < 2:
            return text  # an aside needs a comma on each side; most messages have none to look for
        for m in reversed(list(cues.refusal().finditer(text))):
            if m.group(0).lower() in _BARE_NEGATIONS:
                continue
            aside = _ASIDE_AFTER_CUE.match(text, m.end())
            if aside and not self._names_item(aside.group("aside")):
                text = f"{text[: m.end()]} {text[aside.end() :]}"
        return text

    def _read_uncached(self, text: str, authors: tuple[str, ...] = ()) -> Intent:
        english = in_english(text)
        fixed = self._likenesses_as_liking(events.dated(numbers.normalise(self._speller.correct(english))))
        fixed = self._free_of_as_refusal(fixed)
        fixed = _ASIDE_AFTER_VERB.sub(r"\1 ", fixed)
        fixed = _ENUMERATOR.sub(" ", fixed)
        fixed = _CLEFT.sub(r"\g<focus> ", fixed)
        fixed = self._asides_after_refusals(fixed)
        fixed = _MINUS_OPERATOR.sub(lambda m: "no " if m.start() == 0 else ", no ", fixed)
        found_titles = self._titles.find(fixed)
        titled = [
            (t.start, t.end)
            for t in found_titles
            if len(fixed[t.start : t.end].split()) > 1 and fixed[t.start : t.end].istitle()
        ]
        refusals = _refusal_scopes(fixed, self._names_item, titled=titled)
        # "he's good at the short ones" says what he does well; it lifts nothing.
        lifts = [
            scope
            for scope in _tail_scopes(fixed, cues.lift().finditer(fixed))
            if not _SKILLED_AT.match(fixed, scope.end)
        ]
        masks: list[tuple[int, int]] = []
        out_shelves: list[str] = []
        out_terms: list[str] = []
        out_authors: list[AuthorMention] = []
        out_guessed: list[str] = []
        mentioned = self._authors.find(fixed)  # every author named, read once for the steps below
        titles = list(found_titles)
        titles += [n for n in self._titles.near(fixed, titles) if not any(_overlap(n, t) for t in titles)]
        titles += [n for n in self._titles.framed(fixed, titles) if not any(_overlap(n, t) for t in titles)]
        titles += [
            m for m in self._titles.by_author(fixed, mentioned) if not any(_overlap(m, t) for t in titles)
        ]
        # The titles of the authors the conversation is about, and of those named here ("koontz, no odd
        # thomas"), in the reader's shorthand.
        spoken = dict.fromkeys([*authors, *(n for m in mentioned if m.exact for n in m.names)])
        titles += self._titles.of_authors(fixed, spoken, titles)
        # "no Paula Hawkins" is no refusal of the book "Paula", nor "no Moriarty" (Liane Moriarty is read far
        # more than the book "Moriarty") of that book: a name over a title goes to the longer span, and on
        # the same span to the more read.
        titles = [t for t in titles if not any(self._name_over_title(a, t, fixed) for a in mentioned)]
        # A series after a liking cue ("more like mistborn") seeds from its first book.
        series_named = find_series(self.vocab, fixed)
        for m in series_named:
            lead = fixed[max(0, m.start - 20) : m.start]
            first = self.vocab.series_first.get(m.series)
            overlaps = any(t.start < m.end and m.start < t.end for t in titles)
            if first and not overlaps and _LIKE_LEAD.search(lead):
                titles.append(TitleMention(first, m.start, m.end))
        masks += [(t.start, t.end) for t in titles]
        pointed: set[int] = set()  # titles a plural pronoun in a refusal points back at
        refused_person = False
        productive: list[Scope] = []  # the refusals that ruled something out
        told = [bool(cues.not_liked().match(fixed, scope.start)) for scope in refusals]
        # Kinds named outside every refusal, which the message asks for (needed only beside a told experience).
        asked = (
            set(_kinds_named(_masked(fixed, [(s.start, s.end) for s in refusals]))) if any(told) else set()
        )
        for scope, experience in zip(refusals, told, strict=True):
            window = _masked(fixed, [(t.start, t.end) for t in titles])[scope.text_start : scope.text_end]
            window = _without_times(window)
            shelves = _refused_shelves(window)
            yielded = [s for s in shelves if s in asked] if experience else []
            if yielded:
                # "suggest some poetry, I never really got on with poetry": an experience told beside a
                # request for the same kind yields to the request.
                shelves = [s for s in shelves if s not in yielded]
            themes = theme_hits(_split_compounds(window))
            picked_by_readers = bool(_OBJECT_RELATIVE.match(window))
            if picked_by_readers:
                # "skip the ones every horror girlie has already read": the kind in the relative clause
                # says who reads them, it is not what is refused.
                shelves, themes = [], []
            authors = [
                a
                for a in self._authors.find(fixed, scope.text_start, scope.text_end)
                if not any(t.start < a.end and a.start < t.end for t in titles)
            ]
            if any(scope.text_start <= t.start < scope.text_end for t in titles):
                masks.append((scope.start, scope.end))
            if not (shelves or themes or authors or picked_by_readers or yielded) and self._kinds is not None:
                shelves = self._refused_kind(window)
                out_guessed += shelves
            if not (shelves or themes or authors) and (pronoun := _PRONOUN.search(window)):
                # "ive read all of bryson so skip him": the pronoun is the author named before it; "neither
                # of those", "skip them two": every author and book named before it in the message.
                before = [
                    a
                    for a in self._authors.find(fixed, 0, scope.start)
                    if not any(t.start < a.end and a.start < t.end for t in titles)
                ]
                plural = _PLURAL_PRONOUN.fullmatch(pronoun.group(0))
                authors = before if plural else before[-1:]
                at = scope.text_start + pronoun.start()
                written = self._author_of_book_before(fixed, at, titles, series_named)
                if not before and not plural and written is not None:
                    # "not the hunger games, or anything else by that author", "no more Gone Girl or anything
                    # by her": the writer of the book just named.
                    authors = [written]
                elif (
                    not before
                    and not plural
                    and _only_pronoun(window)
                    and _PERSON.fullmatch(pronoun.group(0))
                ):
                    # "i loved gone girl" then "not her though": someone an earlier message named, which
                    # the conversation's fold knows (``RequestTracker``).
                    refused_person = True
                if (
                    plural
                    and before
                    and any(before[-1].end <= t.start and t.end <= scope.start for t in titles)
                ):
                    # "any more Picoult? I've read A and B, so not those": the nearest things named, the books.
                    authors = []
                if plural:
                    named_before = {i for i, t in enumerate(titles) if t.end <= scope.start}
                    pointed.update(named_before)
                    if named_before:
                        # "I've read A and B, so not those": the pronoun has its books in this message,
                        # so it asks nothing of the last picks (it is no "something different").
                        masks.append((scope.start, scope.end))
                if plural and _only_pronoun(window):
                    # "these vampire stories I find silly, so those are not required": a pronoun standing
                    # alone points at the kinds named before it in its sentence as well.
                    sentence = _sentence_start(fixed, scope.start)
                    shelves = _kinds_named(fixed[sentence : scope.start])
                    opens = scope.text_start > scope.start  # "none of those", not "they're not for me"
                    if not shelves and opens and _OPENS_SENTENCE.fullmatch(fixed, sentence, scope.start):
                        # "the last vampire thing put me to sleep. So none of those.": a pronoun opening its
                        # sentence points at the kinds of the sentence before.
                        before = _sentence_start(fixed, max(0, sentence - 1))
                        shelves = _kinds_named(fixed[before:sentence])
            elif not (shelves or themes or authors) and _BOOK_POINTER.search(window):
                # "the class text is Slaughterhouse-Five, so leave that one off": the book named last before it.
                nearest = max(
                    (i for i, t in enumerate(titles) if t.end <= scope.start),
                    key=lambda i: titles[i].end,
                    default=None,
                )
                # A book liked ("I loved X, but not that one again") stays what to find more like.
                if nearest is not None and not _LIKE_CUE.search(
                    fixed, _sentence_start(fixed, titles[nearest].start), titles[nearest].start
                ):
                    pointed.add(nearest)
                    masks.append((scope.start, scope.end))
            if (
                shelves
                or themes
                or authors
                or any(scope.text_start <= t.start < scope.text_end for t in titles)
            ):
                productive.append(scope)
            if shelves or themes or authors:
                masks.append((scope.start, scope.end))
            repair = _REPAIR.match(fixed, scope.text_end)
            if (
                repair
                and repair.group("lead") is not None
                and _says_nothing(cues.correction().sub(" ", window))
            ):
                # "Pratchett? No sorry, I meant Gaiman": a "no" that refuses nothing of its own takes back
                # what was said before; the one meant after it is asked for, not refused.
                repair = None
            if repair:
                # "not agatha crispy, CHRISTIE sorry": a name repaired right after a refusal is refused.
                fixed_names = self._authors.find(fixed, repair.start("item"), repair.end("item"))
                authors += fixed_names
                if fixed_names:
                    masks.append((repair.start(), repair.end()))
            out_shelves += shelves
            for _, _, terms, theme_shelves in themes:
                out_terms += terms
                out_shelves += theme_shelves
            out_authors += authors
        # Authors read through ("I've read all of Bryson", "it's Jordan he's read"): names only count there.
        read_through = _refusal_scopes(fixed, self._names_item, cues.read_through(), cues.read_through_tail())
        for scope in read_through:
            if scope.text_end < scope.end:
                # "I want Dan Brown's stuff. I've read Rebecca": a tail cue with its own object after it.
                stop = _clause_stop(fixed, scope.end)
                if any(scope.end <= t.start < stop for t in titles):
                    continue
            found = [
                a
                for a in self._authors.find(fixed, scope.text_start, scope.text_end)
                if not any(t.start < a.end and a.start < t.end for t in titles)  # "Notes from a Small Island"
            ]
            if found:
                masks.append((scope.start, scope.end))
                out_authors += found
        for scope in productive:
            # "not Stephen Hawking, whose brief history bored me": a relative clause on what is refused
            # describes it; the kinds in it are not asked for.
            relative = _RELATIVE_AFTER.match(fixed, scope.end)
            if relative:
                stop = _SENTENCE_END.search(fixed, relative.end())
                masks.append((relative.start(), stop.start() if stop else len(fixed)))
        out_series: list[str] = []
        for scope in refusals:
            for m in find_series(self.vocab, fixed, scope.text_start, scope.text_end):
                out_series.append(m.series)
                masks.append((m.start, m.end))
        # A sentence saying a reader has been through someone's books ("I've worked through every one of
        # Christie's", "read a lot of Colleen Hoover already", "Thursday Next books are done too").
        for a, b in _sentences(fixed):
            sentence = fixed[a:b]
            if not (cues.through_verb().search(sentence) and cues.through_amount().search(sentence)):
                continue
            for mention in self._authors.find(fixed, a, b):
                if not any(t.start < mention.end and mention.start < t.end for t in titles):
                    out_authors.append(mention)
                    masks.append((mention.start, mention.end))
            for m in find_series(self.vocab, fixed, a, b):
                out_series.append(m.series)
                masks.append((m.start, m.end))
            # "the older classics I have mostly finished": a kind the reader has been through is not asked for.
            verb = cues.through_verb().search(sentence)
            if verb is not None:
                clause = _clause_start(fixed, a + verb.start())
                stop = _CLAUSE_START.search(fixed, a + verb.end(), b)
                end = stop.start() if stop else b
                masks += [(clause + h[0], clause + h[1]) for h in genre_hits(fixed[clause:end])]
        allowed_shelves: list[str] = []
        allowed_authors: list[str] = []
        for scope in lifts:
            if _ASKS_BEFORE.search(fixed, 0, scope.text_end):
                continue  # "what's good?" asks; it lifts nothing
            if _ENDS_IN_PREPOSITION.search(fixed, scope.start, scope.end) and not _CLAUSE_CLOSES.match(
                fixed, scope.end
            ):
                continue  # "Gregorys back to back in 2019": a time phrase, not "Gregory is back in"
            window = fixed[scope.text_start : scope.text_end]
            shelves = [s for _, _, found, _ in genre_hits(window) for s in found]
            names = [n for m in self._authors.find(fixed, scope.text_start, scope.text_end) for n in m.names]
            if shelves or names:  # "any length is fine" is the older reading's to lift
                masks.append((scope.start, scope.end))
            allowed_shelves += shelves
            allowed_authors += names
            sentence = _SENTENCE_END.search(fixed, scope.end)
            if names and (
                meant := _MEANT.search(fixed, scope.end, sentence.start() if sentence else len(fixed))
            ):
                # "Jordan's fine actually, I meant Goodkind": the one meant takes the lifted one's refusal.
                stop = _clause_end(fixed, meant.end(), self._names_item)
                instead = [
                    m for m in self._authors.find(fixed, meant.end(), stop) if not set(m.names) & set(names)
                ]
                out_authors += instead
                masks += [(m.start, m.end) for m in instead]
        year_min, year_max = self._time_words(fixed, refusals, masks)
        restart_cues = _restarts(fixed, titles)
        masks += [(m.start(), m.end()) for m in restart_cues]
        for rx in (cues.correction(), cues.next_read(), cues.grown_up()):
            masks += [(m.start(), m.end()) for m in rx.finditer(fixed)]
        for m in cues.concessive().finditer(fixed):
            # "I don't care if he wrote something historical", "even though I mostly read romance": what is
            # conceded is not what is asked for.
            stop = _CONCESSION_END.search(fixed, m.end())
            masks.append((m.start(), stop.start() if stop else len(fixed)))
        for m in restart_cues:
            # "forget poems, I need ...": what is dropped is the old request, not the new one.
            end = _CLAUSE_END.search(fixed, m.end())
            comma = fixed.find(",", m.end())
            stop = min(x for x in (end.start() if end else len(fixed), comma if comma != -1 else len(fixed)))
            # Only a cue that takes an object drops it ("forget poems"); after "start over: a thriller" the
            # words are the new request.
            takes_object = m.group(0).split()[-1].lower() in _DROPS_AN_OBJECT
            if takes_object and len(fixed[m.end() : stop].split()) <= 3:
                # Its object is one thing: "scrap poetry graphic novels" (said without a comma) drops the
                # poetry and asks for the graphic novels.
                kinds = sorted(genre_hits(fixed[m.end() : stop]))
                if len(kinds) >= 2 and kinds[0][0] < kinds[1][0]:
                    stop = m.end() + kinds[0][1]
                masks.append((m.end(), stop))

        echoes = [
            (_clause_start(fixed, m.start()), m.start())
            for m in _ECHO.finditer(fixed)
            if not any(sc.start <= m.start() < sc.end for sc in refusals)
        ]
        # "no YA, and the same goes for anything paranormal": what follows the cue, to its clause's end.
        echoes += [
            (m.end(), _clause_end(fixed, m.end(), self._names_item))
            for m in cues.echo_ahead().finditer(fixed)
        ]
        echoed: list[tuple[bool, list[str], list[str]]] = []
        for a, b in echoes:
            # "Atwood is out, Orwell's oeuvre likewise", "YA is out, and dystopias too": after a refusal of
            # this message, the echo joins it; otherwise the previous message's (RequestTracker decides).
            joins_refusal = any(sc.text_end <= a for sc in productive)
            names = [n for m in self._authors.find(fixed, a, b) for n in m.names]
            shelves = _kinds_named(fixed[a:b])
            echoed.append((joins_refusal, names, shelves))
            if joins_refusal and (names or shelves):
                masks.append((a, b))
        # "anything by Christie": the name says whose books, not what they are about. A "no" in the name's
        # clause leaves it unasked: a refusal misread as an ask would show nothing but that author's books.
        asked, asked_someone = _asked_authors(
            fixed, mentioned, titles, [*refusals, *lifts], self.vocab.is_common_word
        )
        # A "never" inside praise ("Nora Roberts never lets me down") negates nothing asked.
        asked = [m for m in asked if not _NEGATION.search(cues.praise_verb().sub(" ", _ask_clause(fixed, m)))]
        masks += [(m.start, m.end) for m in asked]
        positive = _masked(fixed, masks)
        intent = parse_intent(positive, self.config).model_copy(deep=True)
        if not intent.genres_include and not intent.genres_all:
            # Kinds of book named outside any refusal are asked for, whatever else the sentence says.
            for _, _, shelves, wanted in genre_hits(positive):
                if wanted:
                    _add(intent.genres_include, shelves[0])
        sides = [(end, shelves) for _, end, shelves, wanted in genre_hits(positive) if wanted]
        sides += [(end, shelves) for _, end, _, shelves in theme_hits(positive) if shelves]
        for end, shelves in sides:
            if cues.aspect_after().match(positive, end):
                # "more the military side": one side of the book being asked for narrows it, it is no new
                # kind of book and no new topic.
                for shelf in shelves[:1]:
                    if shelf in intent.genres_include:
                        intent.genres_include.remove(shelf)
                    _add(intent.genres_all, shelf)
                intent.nudge, intent.topical = True, False
        for scope in refusals:
            # "leave out anything before 1970": a year bound a refusal rules out is the other side of it.
            for (lo, hi), (other_lo, other_hi) in refused_year_bounds(
                fixed[scope.text_start : scope.text_end]
            ):
                if lo is not None and intent.year_min == lo:
                    intent.year_min, intent.year_max = None, other_hi
                elif hi is not None and intent.year_max == hi:
                    intent.year_min, intent.year_max = other_lo, None
        whole = parse_intent(fixed, self.config)
        intent.text = text
        # Exclusions come from the refusal scopes; the whole message's older reading adds only the free
        # terms and unlinked names it found inside them ("no cliffhangers", "not by Jo Bloggs").
        refused_text = " ".join(fold(_without_times(fixed[s.text_start : s.text_end])) for s in refusals)
        linked = [fold(fixed[m.start : m.end]) for m in out_authors]
        intent.genres_exclude = []
        intent.exclude_terms = []
        intent.exclude_authors = []
        for g in out_shelves:
            _add(intent.genres_exclude, g)
        for t in out_terms:
            _add(intent.exclude_terms, t)
        for t in whole.exclude_terms:
            if _PRONOUN.fullmatch(t):
                continue
            if fold(t) in refused_text and not any(fold(t) in span or span in fold(t) for span in linked):
                _add(intent.exclude_terms, t)
        for raw in whole.exclude_authors:
            if genre_hits(raw) or cues.refusal().match(raw) or _NOT_A_NAME.search(raw):
                continue  # "not by atwood and not ya", "not by her": the older reading's run-on, not a name
            if fold(raw) in refused_text and not any(
                fold(raw) in span or span in fold(raw) for span in linked
            ):
                _add(intent.exclude_authors, raw)
        for mention in out_authors:
            for name in mention.names:
                _add(intent.exclude_authors, name)
        intent.exclude_authors = [a for a in intent.exclude_authors if a not in allowed_authors]
        intent.exclude_series = list(dict.fromkeys(out_series))
        # "Arthur C. Clarke too": which side these take depends on the message before (RequestTracker).
        # Only a clause of its own echoes: in "so none of his either" the "either" belongs to the refusal.
        for joins_refusal, names, shelves in echoed:
            for n in names:
                if n not in intent.exclude_authors:
                    _add(intent.exclude_authors if joins_refusal else intent.echo_authors, n)
            for shelf in shelves:
                _add(intent.genres_exclude if joins_refusal else intent.echo_genres, shelf)
        for name in allowed_authors:
            _add(intent.allow_authors, name)
        for g in allowed_shelves:
            _add(intent.allow_genres, g)
        judged_authors: list[AuthorMention] = []
        if self._stance is not None:
            guessed, judged_authors = self._judged_refusals(
                fixed, intent, mentioned, titles, [*refusals, *lifts]
            )
            out_guessed += guessed
        if cues.grown_up().search(fixed):
            for g in GROWN_UP_REFUSES:  # "like harry potter but for grown ups"
                _add(intent.genres_exclude, g)
        intent.genres_exclude = [g for g in intent.genres_exclude if g not in intent.allow_genres]
        if not intent.genres_include and not intent.genres_all:
            # With no kind named, what the book is about names its shelf ("a novel about war"), unless the
            # stance judge has just ruled it out ("war books upset me too much").
            for _, _, _, shelves in theme_hits(_without_times(_split_compounds(positive))):
                for shelf in shelves[:1]:
                    _add(intent.genres_include, shelf)
        # Neither what is ruled out nor what is merely allowed again is asked for.
        skip = {*intent.genres_exclude, *allowed_shelves}
        intent.genres_include = [g for g in intent.genres_include if g not in skip]
        intent.genres_all = [g for g in intent.genres_all if g not in skip]
        self._juxtaposed_kinds(positive, intent)
        young = _young_reader_age(fixed)
        for youngest, oldest, shelves in cues.audience_ages() if young is not None else []:
            if youngest <= young <= oldest:
                # A book for a ten-year-old: that age's shelves, or, with a kind named ("a mystery for my
                # 12 year old"), the kind for that age.
                if intent.genres_include or intent.genres_all:
                    _add(intent.genres_all, shelves[0])
                else:
                    intent.genres_include = list(shelves)
                intent.genres_exclude = [g for g in intent.genres_exclude if g not in shelves]
        if "non_fiction" in intent.genres_include and len(intent.genres_include) > 1:
            # "nonfiction about science": the form holds for every book, the topic is among them (the
            # science shelf also holds science fiction).
            intent.genres_include.remove("non_fiction")
            _add(intent.genres_all, "non_fiction")
        _place_titles(intent, fixed, titles, refusals, pointed)
        intent.spoken_authors = list(
            dict.fromkeys(
                m.names[0]
                for m in mentioned
                if m.exact
                and _written_as_name(fixed[m.start : m.end])
                and not any(t.start < m.end and m.start < t.end for t in titles)
            )
        )
        # Only with no author named here at all: "keep Austen out, she has read all her books" is Austen's.
        intent.asked_him_or_her = asked_someone and not mentioned
        intent.refused_him_or_her = refused_person and not mentioned and not intent.exclude_authors
        settled = {*intent.exclude_authors, *intent.allow_authors, *intent.echo_authors}
        for mention in asked:
            if mention not in judged_authors and mention.names[0] not in settled:
                _add(intent.authors, mention.names[0])
        self._meant_authors(intent, fixed, asked, mentioned, settled, [*refusals, *lifts], titles)
        for mention in mentioned:
            # Named outside every refusal and lift: what a correction of the authors asked for names.
            if (
                mention not in judged_authors
                and mention.names[0] not in settled
                and mention.exact
                and len(fixed[mention.start : mention.end].split())
                > 1  # "sorry John" is no correction to John
                and _outside(mention, [*refusals, *lifts], titles)
            ):
                _add(intent.named_authors, mention.names[0])
        self._liked_authors_as_titles(
            intent,
            fixed,
            [m for m in mentioned if m not in judged_authors and m not in asked],
            titles,
            refusals,
        )
        if self.vocab.titles:
            # The older reading's guesses in lower case ("like w grown ups in it") that the catalog does not
            # know as titles are ordinary words.
            for refs in (intent.like_titles, intent.read_titles, intent.avoid_titles):
                refs[:] = [
                    r
                    for r in refs
                    if any(c.isupper() for c in r.title) or title_key(r.title) in self.vocab.titles
                ]
        if intent.year_min is None and intent.year_max is None and not intent.clear_years:
            intent.year_min, intent.year_max = year_min, year_max
        restarts = [(m.start(), m.end()) for m in restart_cues]
        intent.new_request = bool(restarts)
        intent.correction = any(
            not any(a <= m.start() < b for a, b in restarts) and not _WAITING.match(fixed, m.start())
            for m in cues.correction().finditer(fixed)
        )
        intent.new_request = intent.new_request and not intent.correction
        if (
            intent.new_request
            and _ANAPHORA.search(_masked(fixed, restarts))
            and not (intent.genres_include or intent.genres_all or intent.like_titles)
        ):
            # "actually no, i want POPULAR ones": "ones" points back at the standing request, so this
            # corrects its bounds rather than starting another.
            intent.new_request, intent.correction = False, True
        talk = self._small_talk(fixed, intent)
        if talk is not None:
            return Intent(text=text, small_talk=talk)
        # Having read through the bestsellers asks for lesser-known books, as refusing them does.
        # (only what follows the cue: "popular thrillers, I've read all of Grisham" still asks for popular ones)
        leads = [scope for scope in read_through if scope.text_start > scope.start]
        self._popularity_refused(fixed, [*refusals, *leads], intent)
        if that := _LIKE_THAT.search(fixed):
            # "hooked on Killing Eve. Something like that", "u no the witcher? want books like dat": "that" is the
            # thing just named, not the last picks; a series named there seeds from its first book (its own
            # books may still be ruled out: "but NOT the witcher books").
            named = [m for m in series_named if m.end <= that.start()]
            for m in named:
                first = self.vocab.series_first.get(m.series)
                if first and all(t.title != first for t in intent.like_titles):
                    intent.like_titles.append(TitleRef(title=first))
            if named or _NAMED_MID_SENTENCE.search(fixed, 0, that.start()):
                intent.like_shown = False
        if _READ_WHOLE_SERIES.search(fixed):
            # "Something like the Hunger Games. I've read the trilogy": every book of the liked one's series.
            for liked in intent.like_titles:
                if (series := self._series_of_first.get(liked.title)) and series not in intent.exclude_series:
                    intent.exclude_series.append(series)
        ruled_out = {ref.title for ref in [*intent.read_titles, *intent.avoid_titles]}
        for t in titles:
            # "he didn't take to the Camel Club series, so leave those off": every book of the series.
            if t.title in ruled_out and _SERIES_AFTER.match(fixed, t.end):
                series = self._series_of_first.get(t.title) or self.vocab.series.get(
                    title_key(fixed[t.start : t.end])
                )
                if series:
                    _add(intent.exclude_series, series)
        intent.guessed_exclude = [g for g in dict.fromkeys(out_guessed) if g in intent.genres_exclude]
        intent.other_authors = bool(_OTHER_AUTHOR.search(fixed))
        intent.next_read = bool(cues.next_read().search(fixed))
        return intent

    def _judged_refusals(
        self,
        text: str,
        intent: Intent,
        mentioned: list[AuthorMention],
        titles: list[TitleMention],
        decided: list[Scope],
    ) -> tuple[list[str], list[AuthorMention]]:
        """Authors and kinds named outside every refusal and lift the cues found, ruled out when the stance
        judge is confident the reader is against them; returns the shelves so ruled out (guesses, which
        yield to a kind the standing request holds: ``RequestTracker``) and the author mentions."""
        assert self._stance is not None

        def undecided(start: int, end: int) -> bool:
            return not any(
                s.text_start <= start < s.text_end or s.start <= start < s.end for s in decided
            ) and (not any(t.start < end and start < t.end for t in titles))

        authors = [
            m
            for m in mentioned
            if undecided(m.start, m.end)
            and not _led_by_ask(text, m, titles)  # "wanna binge agatha christie": asked, not judged
            and not cues.praise_tail().match(text, m.end)  # "nora roberts never lets me down": praised
            and _written_as_name(text[m.start : m.end])
            and not any(n in intent.exclude_authors or n in intent.allow_authors for n in m.names)
        ]
        split = _split_compounds(text)
        kinds = [
            (start, end, list(shelves), [])
            for start, end, shelves, _ in genre_hits(split)
            if undecided(start, end)
            and not any(g in intent.genres_exclude or g in intent.allow_genres for g in shelves)
        ]
        kinds += [
            (start, end, list(shelves), list(terms))
            for start, end, terms, shelves in theme_hits(split)
            if undecided(start, end) and not any(t in intent.exclude_terms for t in terms)
        ]
        # A guess never takes away the only kind a message asks for: "sci fi that's not YA" and "romcom
        # that's not cringe" score as high as true refusals, and a request left with no kind is the worse error.
        asked = {*intent.genres_include, *intent.genres_all}
        kinds = [k for k in kinds if not (asked and asked <= set(k[2]))]
        spans = [(m.start, m.end) for m in authors] + [(start, end) for start, end, _, _ in kinds]
        if not spans:
            return [], []
        against = self._stance(text, spans)
        judged: list[str] = []
        refused = [m for m, p in zip(authors, against[: len(authors)], strict=True) if p >= STANCE_CONFIDENCE]
        for mention in refused:
            for name in mention.names:
                _add(intent.exclude_authors, name)
        for (_, _, shelves, terms), p in zip(kinds, against[len(authors) :], strict=True):
            if p >= STANCE_CONFIDENCE:
                for g in shelves:
                    _add(intent.genres_exclude, g)
                    judged.append(g)
                for t in terms:
                    _add(intent.exclude_terms, t)
        return judged, refused

    def _meant_authors(
        self,
        intent: Intent,
        text: str,
        asked: list[AuthorMention],
        mentioned: list[AuthorMention],
        settled: set[str],
        scopes: list[Scope],
        titles: list[TitleMention],
    ) -> None:
        """A message that corrects its own ask ("something by Pratchett? no sorry, I meant Gaiman"): the
        authors named after "I meant" replace those asked before it."""
        for meant in _MEANT.finditer(text):
            stop = _clause_end(text, meant.end(), self._names_item)
            instead = [
                m
                for m in mentioned
                if meant.end() <= m.start < stop
                and m.names[0] not in settled
                and _outside(m, scopes, titles)
                and (m.exact or _written_as_name(text[m.start : m.end]))  # a cue's object is a name
            ]
            replaced = [m.names[0] for m in asked if m.end <= meant.start()]
            if not instead or not set(replaced) & set(intent.authors):
                continue
            intent.authors[:] = [a for a in intent.authors if a not in replaced]
            for m in instead:
                _add(intent.authors, m.names[0])

    def _name_over_title(self, name: AuthorMention, title: TitleMention, text: str) -> bool:
        # An article the title's span took in ("none of the Shakespeare") is no part of what was named.
        start = title.start + len(m.group(0)) if (m := _ARTICLE.match(text, title.start)) else title.start
        if not (name.start <= start and title.end <= name.end):
            return False
        longer = name.end - name.start > title.end - start
        return longer or self.vocab.author_reads.get(name.names[0], 0) > self.vocab.title_reads.get(
            title.title, 0
        )

    def _juxtaposed_kinds(self, text: str, intent: Intent) -> None:
        """ "fantasy romance", "sci-fi thriller": a kind said right before another, with nothing between,
        names books of both kinds (where the catalog holds enough of them), not a choice of either."""
        hits = [(start, end, shelves[0]) for start, end, shelves, wanted in genre_hits(text) if wanted]
        for (_, end, first), (start, _, second) in pairwise(hits):
            if (
                first != second
                and not text[end:start].strip(" -")
                and first in intent.genres_include
                and second in intent.genres_include
                and self.vocab.books_on_both(first, second) >= JUXTAPOSED_MIN_BOOKS
            ):
                intent.genres_include.remove(first)
                _add(intent.genres_all, first)

    def _author_of_book_before(
        self, text: str, start: int, titles: list[TitleMention], series: list[SeriesMention]
    ) -> AuthorMention | None:
        """The writer of the book or series named last before ``start`` in ``text``, as a mention there."""
        named = [(t.end, t.start, t.title) for t in titles if t.end <= start]
        named += [
            (m.end, m.start, first)
            for m in series
            if m.end <= start and (first := self.vocab.series_first.get(m.series))
        ]
        if not named:
            return None
        end, begin, title = max(named)
        names = tuple(self.vocab.title_authors.get(title, ()))
        return AuthorMention(names, begin, end, exact=True) if names else None

    def _liked_authors_as_titles(
        self,
        intent: Intent,
        text: str,
        mentioned: list[AuthorMention],
        titles: list[TitleMention],
        refusals: list[Scope],
    ) -> None:
        """ "Something like Agatha Christie", "big fan of Sanderson": an author liked stands for their
        best-known books, so the likeness is found from books (readers who liked them, their kinds) rather
        than from a title that merely contains the name."""
        liked = [
            m
            for m in mentioned
            if not any(t.start < m.end and m.start < t.end for t in titles)
            and not any(s.text_start <= m.start < s.text_end for s in refusals)
            and _LIKE_LEAD.search(text, max(0, m.start - 30), m.start)
        ]
        if not liked:
            return
        said = [fold(text[m.start : m.end]) for m in liked]
        # The older reading took the name for a title it could not link ("like Agatha Christie").
        refs = [r for r in intent.like_titles if not any(name in fold(r.title) for name in said)]
        for m in liked:
            # A surname several authors share is the most read of them (``names`` is in that order).
            for title in self.vocab.author_titles.get(m.names[0], []):
                if all(r.title != title for r in refs):
                    refs.append(TitleRef(title=title))
        intent.like_titles = refs

    def _refused_kind(self, window: str) -> list[str]:
        """The one shelf a refused phrase names by its meaning, when the guess is confident; nothing for a
        phrase that is a bound (a date, popularity, length), a name or too short to mean a kind."""
        words = [w for w in _CONTENT_WORD.findall(window) if w.lower() not in cues.cue_words()]
        if not [w for w in words if w.lower() not in cues.function_words()] or _PRONOUN.fullmatch(
            window.strip()
        ):
            return []
        bounds = parse_intent(window, self.config)
        if any(
            v is not None
            for v in (
                bounds.year_min,
                bounds.year_max,
                bounds.min_ratings_count,
                bounds.max_ratings_count,
                bounds.min_average_rating,
                bounds.min_pages,
                bounds.max_pages,
            )
        ):
            return []
        # The phrase's own words, without "for", "any", "stuff": "for young people" reads as "young people".
        meant = [w for w in words if w.lower() not in cues.function_words()]
        guesses = self._kinds(" ".join(meant)) if self._kinds else []
        if guesses and guesses[0][1] >= KIND_CONFIDENCE and guesses[0][0] in self.vocab.shelves:
            return [guesses[0][0]]
        return []

    def _popularity_refused(self, text: str, refusals: list[Scope], intent: Intent) -> None:
        """Popularity said inside a refusal means its opposite: "not some obscure thing" asks for a known
        book, "rather than another bestseller" for a lesser-known one."""

        said = {rx: [m.start() for m in rx.finditer(text)] for rx in (*_POPULAR, *_OBSCURE)}
        both = any(said[rx] for rx in _POPULAR) and any(said[rx] for rx in _OBSCURE)

        def refused(rx: re.Pattern[str]) -> bool | None:
            spans = said[rx]
            if not spans:
                return None
            return all(
                any(s.text_start <= at < s.text_end for s in refusals)
                # Said both ways, the negated one is what the book must not be ("a proper bestseller, so
                # she can't call it obscure").
                or (both and _NEGATION.search(text, _clause_start(text, at), at) is not None)
                for at in spans
            )

        popular = [refused(rx) for rx in _POPULAR]
        obscure = [refused(rx) for rx in _OBSCURE]
        popular_refused = any(p is True for p in popular) and not any(p is False for p in popular)
        obscure_refused = any(o is True for o in obscure) and not any(o is False for o in obscure)
        if obscure_refused and not popular_refused:
            intent.max_ratings_count = None
            intent.min_ratings_count = intent.min_ratings_count or self.config.popular_min_ratings
            intent.popular = True
        elif popular_refused and not obscure_refused:
            intent.min_ratings_count = None
            intent.popular = False
            intent.max_ratings_count = intent.max_ratings_count or self.config.obscure_max_ratings

    def _small_talk(self, text: str, intent: Intent) -> str | None:
        """What kind of small talk a message is, or None when it is (or may be) about books."""
        about_books = bool(cues.book_words().search(text) or self._names_item(text))
        if _ARITHMETIC.search(text) and not about_books:
            return "other"  # "what is 2+3": not "rated 2 or higher"; but "sci-fi 1990-2000" asks for books
        if about_books or asks_for_books(intent):
            return None
        for kind, rx in cues.small_talk():
            if rx.search(text) and len(text.split()) <= 6:
                return kind
        if _QUESTION.search(text.strip()):
            return "other"  # "what's the weather today?"
        return None

    def _names_item(self, segment: str) -> bool:
        """Whether a piece of text names a shelf, a theme or an author."""
        return bool(genre_hits(segment) or theme_hits(segment) or self._authors.find(segment))

    def _time_words(
        self, text: str, refusals: list[Scope], masks: list[tuple[int, int]]
    ) -> tuple[int | None, int | None]:
        """Year bounds from named periods and decades (in words or digits), with the comparator before
        them ("newer than the nineties", "before the 1980s"). A refusal flips an open bound ("nothing
        after the sixties" is up to 1969) and drops a closed period it cannot express ("not the fifties").
        The last period said outside a refusal wins ("the seventies, not the fifties")."""
        found: list[tuple[int, int | None, int | None, bool]] = []

        def period(start: int, end: int, first: int | None, last: int | None) -> None:
            part = _PART_OF_DECADE.search(text[:start])
            said_part = _PART_OF_DECADE_IN.match(text, start) or part
            if said_part and first is not None and last == first + 9:
                # "the early 2000s", "late eighties": a part of the decade, as intent reads "early 80s".
                first, last = {"early": (first, first + 3), "mid": (first + 2, first + 7)}.get(
                    said_part.group(1).lower(), (first + 6, first + 9)
                )
                start = part.start() if part else start
            before = text[:start]
            if SETTING_BEFORE.search(before) or SETTING_BEFORE.search(
                re.sub(r"\bthe\s*$", "", before, flags=re.I)
            ):
                return  # "set in the fifties" is when the story happens, not when it was written
            cmp = _PERIOD_CMP.search(before)
            lead = cmp.start() if cmp else start
            refused = any(
                s.text_start <= lead < s.text_end or s.text_start <= start < s.text_end for s in refusals
            ) or bool(READ_ALREADY.match(text, end))  # "the 90s ones are on my read shelf already"
            if cmp:
                word = cmp.group(1).lower()
                if word in _UPPER_CMP:  # before / older than: up to the period's start
                    first, last = None, (first - 1 if first is not None else None)
                elif word in _UPTO_CMP:
                    first = None
                elif word in _SINCE_CMP:
                    last = None
                else:  # after / newer than: from the period's end
                    first, last = (last + 1 if last is not None else None), None
            found.append((start, first, last, refused))
            masks.append((lead, end))

        for rx, first, last in cues.eras():
            for m in rx.finditer(text):
                period(m.start(), m.end(), first, last)
        for m in _DECADE.finditer(text):
            decade = cues.decade_words().get(m.group(2).lower())
            if decade is None:
                continue
            if m.group(1) and m.group(1).lower() == "twenty":
                decade += 100
            period(m.start(), m.end(), decade, decade + 9)
        for m in _DIGIT_DECADE.finditer(text):
            if AGE_BEFORE.search(text[: m.start()]):
                continue  # "in my 30s" is an age
            raw = m.group(1) or m.group(2)
            if len(raw) == 2:
                decade = int(raw) + (2000 if int(raw) <= 10 else 1900)
                period(m.start(), m.end(), decade, decade + 9)
            elif int(raw) % 100 == 0 and int(raw) < 2000:  # "the 1800s" is a century
                period(m.start(), m.end(), int(raw), int(raw) + 99)
            else:
                period(m.start(), m.end(), int(raw), int(raw) + 9)
        if not found:
            return None, None
        said = sorted(f for f in found if not f[3])
        if said:
            at, first, last, _ = said[-1]
            # "80s or 90s", "the fifties and sixties", "70s to 90s": the periods joined make one span.
            joined = False
            for prev in reversed(said[:-1]):
                if not _JOINS_PERIODS.fullmatch(text[prev[0] : at]) or prev[1] is None or last is None:
                    break
                at, first, joined = prev[0], min(prev[1], first if first is not None else prev[1]), True
            if not joined and first is not None and last is not None:
                # "the 1860s ... a Victorian kick": a period inside the later, wider one is the one meant.
                inside = [f for f in said[:-1] if f[1] is not None and f[2] is not None]
                inside = [
                    f for f in inside if first <= f[1] and f[2] <= last and (f[1], f[2]) != (first, last)
                ]
                if inside:
                    _, first, last, _ = inside[-1]
            return first, last
        _, first, last, _ = max(found, key=lambda f: f[0])
        # "not from this century": the other side of an open period; a closed one cannot be said as bounds.
        if first is not None and last is None:
            return None, first - 1
        if last is not None and first is None:
            return last + 1, None
        return None, None


_READ_CUE = re.compile(r"\b(?:read|finished|done|tried|already|have it|own it|seen it)\b", re.IGNORECASE)
_LIKE_CUE = re.compile(
    r"\b(?:like|loved?|enjoyed|adored|similar|manner of|vein of|fans? of|style of|reminds?|more of|next|"
    r"same (?:feel|vibe|vibes|spirit|vein|kind|sort|style|mood)|that same [a-z]+|same [a-z]+ again|favou?rite|"
    r"(?:was|is) (?:so |sooo+ |really )?(?:good|great|amazing|brilliant))\b",
    re.IGNORECASE,
)


def _place_titles(
    intent: Intent,
    text: str,
    titles: list[TitleMention],
    refusals: list[Scope],
    pointed: set[int] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Linked titles become the reader's likes, reads or refusals by where they stand; the older reading's
    title guesses are kept only where they name something with a capital the catalog did not link.

    Titles in one list ("Gone Girl, Rebecca and The Secret History are all read") share the role the
    words after the list's last title give it."""
    if not titles:
        return
    like: list[TitleRef] = []
    read: list[TitleRef] = []
    avoid: list[TitleRef] = []
    liking = bool(_LIKE_CUE.search(_masked(text, [(t.start, t.end) for t in titles])))
    order = sorted(range(len(titles)), key=lambda i: titles[i].start)
    last_of_list = {i: i for i in order}
    for a, b in zip(reversed(order[:-1]), reversed(order[1:]), strict=True):
        if _LIST_JOIN.fullmatch(text[titles[a].end : titles[b].start]):
            last_of_list[a] = last_of_list[b]
    for i, t in enumerate(titles):
        sentence = _sentence_start(text, t.start)
        clause = text[sentence : titles[last_of_list[i]].end + 40]
        refused = i in pointed or any(s.text_start <= t.start < s.text_end for s in refusals)
        if _READ_CUE.search(clause) and (refused or not liking):
            read.append(TitleRef(title=t.title))
        elif refused:
            avoid.append(TitleRef(title=t.title))
        else:
            like.append(TitleRef(title=t.title))
    linked = [title_key(t.title) for t in titles]

    def unlinked(refs: list[TitleRef]) -> list[TitleRef]:
        return [
            r
            for r in refs
            if any(c.isupper() for c in r.title)
            and not any(title_key(r.title) in k or k in title_key(r.title) for k in linked)
        ]

    # A title refused anywhere in the message is not liked where it is named again ("not Eat Pray Love - the Eat
    # Pray Love night nearly ended the club").
    refused_titles = {t.title for t in [*read, *avoid]}
    like = [t for t in like if t.title not in refused_titles]
    intent.like_titles = [*like, *unlinked(intent.like_titles)]
    intent.read_titles = [*read, *unlinked(intent.read_titles)]
    intent.avoid_titles = [*avoid, *unlinked(intent.avoid_titles)]


_COMPOUND_HYPHEN = re.compile(
    r"(?<!\w)(?!(?:non|anti|semi|post|pre|sub|neo|self|un|co|ex|re)-)([^\W\d_]{2,})-(?=[^\W\d_])",
    re.IGNORECASE,
)


def _split_compounds(window: str) -> str:
    """``window`` with coined compounds split, same length ("teen-academy" -> "teen academy")."""
    return _COMPOUND_HYPHEN.sub(lambda m: m.group(1) + " ", window)


# Books picked out by a relative clause with its own subject ("the ones everyone has read", "books my mum
# likes"), unlike "books that are YA" or "ones with vampires", where the kind is the refused books' own.
_OBJECT_RELATIVE = re.compile(
    r"\s*(?:the\s+|those\s+|these\s+|any\s+)?(?:ones|books|titles|stuff)\s+(?:that\s+|which\s+)?"
    r"(?:every|everyone|everybody|all|most|people|my|your|his|her|our|their|i|you|we|they|the|a|an|some)\b",
    re.IGNORECASE,
)


_DROPS_AN_OBJECT = frozenset(
    {"forget", "scrap", "leave", "ditch", "drop", "nix", "bin", "ignore", "disregard"}
)
_TOO_FOR = re.compile(r"\btoo\s+[^\W\d_]{3,}\s+for\b", re.IGNORECASE)
# "wait" and "hold on" as verbs ("vampires can wait", "I can't wait for the sequel") correct nothing;
# the interjection ("no wait, after 1990") does.
_WAITING = re.compile(
    r"(?:wait|hold on|hang on)\b(?=\s+(?:for|to|until|till|on|and see)\b)"
    r"|(?<=\bcan )(?:wait|hold on|hang on)\b|(?<=\bcan't )wait\b|(?<=\bcannot )wait\b|(?<=\bto )wait\b",
    re.IGNORECASE,
)
_RELATIVE_BEFORE = re.compile(
    r"\b(?:that|which|who)\s+(?:is|are|was|were|got|get|have been|has been)\s+$", re.IGNORECASE
)
_RELATIVE_AFTER = re.compile(r"\s*,\s*(?:whose|who|which)\b", re.IGNORECASE)
_PREDICATE_FIRST = re.compile(r"\s*(?:is|are|was|were|has been|have been)\b", re.IGNORECASE)
_PLURAL_PREDICATE = re.compile(r"(?:are|were|['’]re|both|all)\b", re.IGNORECASE)
_AND_BEFORE = re.compile(r"\band$", re.IGNORECASE)
_LIST_ITEM = re.compile(r"\s*(?:(?:[A-Z][\w.'’-]*\s*){1,4}|[\w'’-]+(?:\s+[\w'’-]+)?\s*)")
# "I'd sooner eat my hat than read another Grisham", "rather a thriller than a romance": what one would do
# anything rather than read is ruled out.
_THAN = re.compile(
    r"\bthan(?:\s+(?:read|reading|have|having|get|getting|touch|open|pick up))?\b", re.IGNORECASE
)
_RATHER_BEFORE = re.compile(r"\b(?:rather|sooner)\b[^.?!;]{0,80}$", re.IGNORECASE)
# "not enough romance", "not nearly enough magic": a "not" of amount asks for more of what follows.
# "have not read enough of the classics" too, but "not brave enough for horror" refuses horror.
_TOO_LITTLE = re.compile(
    r"(?:\s+(?:read|had|seen|done|tried|got))?\s+(?:(?:nearly|quite|near)\s+)?(?:enough|sufficient)\b(?!\s+for\b)",
    re.IGNORECASE,
)
_ASKS_BEFORE = re.compile(r"\b(?:what|which|who|how|anything|something)\W*$", re.IGNORECASE)


def _without_times(window: str) -> str:
    """``window`` with the kinds a time preposition governs blanked: in "nothing written before the last war"
    the war dates the books; it is not what is refused."""
    hits = [
        (a, b)
        for a, b, *_ in (*genre_hits(window), *theme_hits(window))
        if _TIME_GOVERNS.search(window, 0, a)
    ]
    for a, b in hits:
        window = window[:a] + " " * (b - a) + window[b:]
    return window


def _kinds_named(window: str) -> list[str]:
    """The shelves a stretch of text names, as kinds or as themes ("vampire stories" -> vampires)."""
    window = _split_compounds(window)
    out = _refused_shelves(window)
    for _, _, _, shelves in theme_hits(window):
        out += [s for s in shelves if s not in out]
    return out


def _written_as_name(said: str) -> bool:
    """A capital or a first name and surname: the linker also finds surnames in everyday lower-case words
    ("a friend from church", "my brain is fried"), which only a cue's scope makes names."""
    return any(c.isupper() for c in said) or len(said.split()) > 1


def _refused_shelves(window: str) -> list[str]:
    """Shelves named in a refusal; in "no YA thrillers" only the modifier is refused, not the kind after it."""
    hits = genre_hits(window)
    if "-" in window:
        # "teen-academy spinoffs", "ghosts-and-werewolves", "gothic-romance scary": the kinds inside a coined
        # compound too ("non-fiction" and other prefixed words stay whole; a kind found whole stays as it is).
        window = _split_compounds(window)
        inside = [h for h in genre_hits(window) if not any(h[0] < b and a < h[1] for a, b, _, _ in hits)]
        hits = sorted([*hits, *inside])
    out: list[str] = []
    qualifiers = [(start, end) for start, end, _, _ in [*hits, *theme_hits(window)]]
    for rx, shelves in cues.refused_kinds():
        for m in rx.finditer(window):
            # "no war novels", "no vampire novels" refuse war and vampires, not every novel: a kind or a
            # theme right before the noun qualifies it.
            if not any(
                start <= m.start() and (end >= m.end() or not window[end : m.start()].strip(" -"))
                for start, end in qualifiers
            ):
                out += shelves
                break
    for start, _, shelves, _ in hits:
        if any(
            q_end <= start
            and not window[q_end:start].strip(" -")
            and not _COORDINATED.search(window, 0, q_start)
            for q_start, q_end in qualifiers
        ):
            # The noun a kind or theme right before it qualifies: "no YA thrillers", "no war memoirs". A kind
            # joined to another by "and"/"or" is an item of a list, not a modifier ("ghosts-and-werewolves
            # paranormal stuff" refuses all three).
            continue
        out += [s for s in shelves if s not in out]
    return out


_ARITHMETIC = re.compile(r"\d\s*[-+*/x×÷^]\s*\d|\b(?:plus|minus|times|divided by)\s+\d", re.IGNORECASE)
_QUESTION = re.compile(
    r"^(?:what|what's|whats|who|who's|when|where|why|how|is|are|do|does|did|can|could|will|would)\b",
    re.IGNORECASE,
)


def asks_for_books(intent: Intent) -> bool:
    """Whether the reading found anything a search can use: a kind, a name, a title, a limit, a reference.
    (A model that answers such a message without looking anything up is nudged to.)"""
    limits = intent.model_dump(
        include={
            "genres_include",
            "genres_all",
            "genres_exclude",
            "exclude_terms",
            "exclude_authors",
            "year_min",
            "year_max",
            "min_pages",
            "max_pages",
            "min_ratings_count",
            "max_ratings_count",
            "min_average_rating",
            "like_titles",
            "read_titles",
            "avoid_titles",
            "like_refs",
            "read_refs",
            "reject_refs",
            "allow_genres",
            "allow_authors",
        }
    )
    flags = (intent.like_shown, intent.more, intent.lucky, intent.popular, intent.different, intent.reset)
    return any(v not in (None, [], False) for v in limits.values()) or any(flags)


# "Clarke too", "Ludlum too while you're at it", not "too rude"
_ECHO = re.compile(
    r"\b(?:too|as well|either|likewise)(?:\s*(?:[.!?,;)]|$)"
    r"|\s+(?=(?:while|whilst|if|since|for good measure|please|pls|thanks|thx)\b))",
    re.IGNORECASE,
)


_POINTS_BACK = re.compile(r"\b(?:that|it|this|those|them)\s*$", re.IGNORECASE)
_FRAME_GOES_ON = re.compile(r"\s*(?:of|from)\b", re.IGNORECASE)
_THE_REQUEST = re.compile(
    r"(?:all\s+(?:of\s+)?)?(?:that|this|it)(?:\s+(?:idea|request|plan|search|lot))?", re.I
)


def _restarts(text: str, titles: list[TitleMention]) -> list[re.Match[str]]:
    """The restart cues of a message, less those whose "that" points at a book just named ("I have read
    Persepolis, so kindly leave that": the book is left, not the request)."""
    out = []
    # A refusal frame around the request itself ("set that aside for now", "give all that a miss") drops it as
    # a restart cue does.
    framed = [
        m
        for rx in cues.refusal_frames()
        for m in rx.finditer(text)
        if "slot" in rx.groupindex
        and _THE_REQUEST.fullmatch(m.group("slot").strip())
        and not _FRAME_GOES_ON.match(text, m.end())  # "keep it out of erotica": "it" is what is asked for
    ]
    for m in [*cues.restart().finditer(text), *framed]:
        sentence = _sentence_start(text, m.start())
        points_back = "slot" in m.re.groupindex or _POINTS_BACK.search(m.group(0))
        if points_back and any(sentence <= t.start and t.end <= m.start() for t in titles):
            continue
        out.append(m)
    return out


@lru_cache(maxsize=1)
def _age_regex() -> re.Pattern[str]:
    words = "|".join(sorted(cues.small_numbers(), key=len, reverse=True))
    number = rf"(\d{{1,2}}|{words})"
    return re.compile(
        rf"\b{number}[\s-]*(?:years?|yrs?|yr)?[\s-]*old\b|\b{number}[\s-]*(?:yo|y/o|yrs?)\b|"
        rf"\b(?:turning|turned|turns|aged?|is|who['’]s|she['’]s|he['’]s|just turned)\s+{number}\b"
        rf"(?!\s*(?:%|stars?|pages|books))",
        re.IGNORECASE,
    )


_AGED_PERSON = re.compile(
    r"\b(?:a|an|the|my|our|his|her|their|this)\s+\w+[\s-]+years?[\s-]+old\b", re.IGNORECASE
)


def _young_reader_age(text: str) -> int | None:
    """The age of a young reader the message shops for ("my daughter who is turning ten", "a 12 year old
    boy"), when a sentence names such a person and an age."""
    age = _age_regex()
    for a, b in _sentences(text):
        sentence = text[a:b]
        # "... with my granddaughter at bedtime. She's just turned six": a pronoun opening the sentence is
        # the young reader named before it.
        named_before = _PERSON_PRONOUN_FIRST.match(sentence) and cues.young_readers().search(text, 0, a)
        # "A fourteen-year-old in my book club": the age said as a noun is the young reader.
        aged_person = _AGED_PERSON.search(sentence)
        if not (cues.young_readers().search(sentence) or named_before or aged_person):
            continue
        for m in age.finditer(sentence):
            raw = next(g for g in m.groups() if g)
            value = int(raw) if raw.isdigit() else cues.small_numbers().get(raw.lower())
            if value is not None and value < 18:
                return value
    return None


def _says_nothing(segment: str) -> bool:
    """Whether a stretch of text holds no word that could name anything ("", "respectfully", "but honestly")."""
    words = [w.lower() for w in _CONTENT_WORD.findall(segment)]
    if genre_hits(segment):
        return False  # "YA is fine": a kind in two letters still names something
    return all(w in cues.function_words() or w in cues.cue_words() or w.endswith("ly") for w in words)


def _only_pronoun(window: str) -> bool:
    """Whether a refusal's window is a pronoun and nothing that says what ("those also", "them two")."""
    words = [w for w in _CONTENT_WORD.findall(window) if not _PRONOUN.fullmatch(w)]
    return all(w.lower() in cues.function_words() or w.lower() in cues.cue_words() for w in words)


def _sentence_start(text: str, at: int) -> int:
    """Where the sentence holding ``text[at]`` starts (just after the last sentence end before ``at``)."""
    return max((m.end() for m in _SENTENCE_END.finditer(text, 0, at)), default=0)


def _sentences(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


_LIST_JOIN = re.compile(r"\s*(?:,|&|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*", re.IGNORECASE)
_PERSON_PRONOUN_FIRST = re.compile(r"\W*(?:she|he|they)\b", re.IGNORECASE)
_FREE_OF = re.compile(r"[-‐–]free\b", re.IGNORECASE)  # "vampire-free": without vampires
_POSSESSIVE = re.compile(r"['’]s?(?![\w'’])")
_LISTED_NAME = re.compile(r"\s*(?:,|/|&|\+)?\s*(?:(?:and|or|and/or|n|nor)\s+)?(?:also\s+)?", re.IGNORECASE)


def _asked_authors(
    text: str,
    mentions: list[AuthorMention],
    titles: list[TitleMention],
    scopes: list[Scope],
    is_common: Callable[[str], bool],
) -> tuple[list[AuthorMention], bool]:
    """Authors whose own books are asked for: the name as the books' source ("anything by Christie", "more
    Pratchett", "a Roberts for my mum", "Stephen King books", "Christie's early ones", "anything Gaiman
    wrote", "gaiman pls"), a name listed right after one ("by King or Koontz"), and the one a pronoun
    stands for ("any of hers"). Not a likeness or a liking ("like Grisham", "Grisham's style", "a King
    fan"), a name inside a refusal or a lift, a book's attribution ("Rebecca by du Maurier", "King's Different
    Seasons"), or an everyday word the linker took for a surname ("a friend from church")."""

    def written_as_name(m: AuthorMention) -> bool:
        said = text[m.start : m.end]
        if len(said.split()) > 1:
            return True
        if said[:1].isupper() and any(
            e.end <= m.start and e.names == m.names and len(text[e.start : e.end].split()) > 1
            for e in mentions
        ):
            return True  # "a Stephen King month. King's own books": the surname of a name said in full
        word = fold(said)
        # "page-turners", "lesser-known": part of a compound word; "Brockden Brown", "the Johnny Maxwell
        # ones": one half of another person's name.
        compound = text[m.start - 1 : m.start] == "-" or text[m.end : m.end + 1] == "-"
        return not (is_common(word) or is_common(word.rstrip("s")) or compound or _beside_a_capital(text, m))

    asked: list[AuthorMention] = []
    for i, m in enumerate(mentions):
        if not _outside(m, scopes, titles) or not written_as_name(m):
            continue
        after = text[m.end :]
        trailing = _POSSESSIVE.match(after)
        rest_start = m.end + (trailing.end() if trailing else 0)
        rest = text[rest_start:]
        # The linker may take the possessive into the name's span ("Stephen King's").
        possessive = trailing or re.search(r"['’]s?$", text[m.start : m.end])
        kind_after = next((h for h in genre_hits(rest[:40]) if not rest[: h[0]].strip()), None)
        # "King's Different Seasons", "Christie's The ABC Murders": a book of theirs, named.
        names_a_book = possessive is not None and (
            any(0 <= t.start - rest_start <= 1 for t in titles) or bool(re.match(r"\s*[A-Z]", rest))
        )
        if names_a_book and kind_after is None and not _owned_books(rest):
            continue
        before = text[_clause_start(text, m.start) : m.start]
        if (
            cues.likeness_noun().match(rest)
            or cues.likeness_suffix().match(after)
            or _LIKE_LEAD.search(before)
        ):
            continue
        previous = mentions[i - 1] if i else None
        listed = (
            previous is not None
            and previous in asked
            and _LISTED_NAME.fullmatch(text, previous.end, m.start) is not None
        )
        lead = _led_by_ask(text, m, titles)
        # A possessive needs the books after it ("Christie's early ones", "any of Roberts'?"): "Follett's
        # cathedrals" names something else, and "graham's a walking quote machine" is "Graham is".
        owned = possessive is not None and _owned_books(rest)
        strong = (
            bool(lead)
            or bool(cues.authoring_verb().match(rest) and cues.author_source_word().search(before))
            or _FRONTED_ASK.match(rest) is not None
        )
        weak = bool(
            owned
            or cues.authored_word().match(rest)
            or kind_after is not None
            or _bare_name_request(text, m, mentions)
        )
        if listed or strong:
            asked.append(m)
        elif weak and not _NEGATION.search(_sentence_of(text, m)):
            # Weaker evidence ("more Pratchett", "Gaiman novels", "gaiman pls") holds only in a sentence
            # without a "no": "any more Patterson and I'll scream" is no ask.
            asked.append(m)
    named = [m for m in mentions if _outside(m, scopes, titles) and written_as_name(m)]
    unresolved = False  # an anaphor asking for someone this message does not name ("his stuff")
    for anaphor in _anaphors_asking(text):
        start = anaphor.start()
        if any(s.text_start <= start < s.text_end for s in scopes):
            continue
        sentence_end = _SENTENCE_END.search(text, start)
        stop = sentence_end.start() if sentence_end else len(text)
        # "any of hers" after the name; "more by that author - Rick Riordan, I think?" before it.
        meant = next((m for m in reversed(named) if m.end <= start), None) or next(
            (m for m in named if start <= m.start < stop), None
        )
        if meant is not None and meant not in asked:
            asked.append(meant)
        elif meant is None and _SINGULAR_PERSON.search(anaphor.group(0)):
            unresolved = True  # "his stuff", "of her?"; not "most of them", which stands for books
    return sorted(asked, key=lambda m: m.start), unresolved


def _led_by_ask(text: str, m: AuthorMention, titles: list[TitleMention]) -> bool:
    """Whether the words right before a name ask for the author's books ("anything by", "he wants", "to
    read"); "by" and "from" only after a quantity or a kind ("a mystery by", not "Rebecca by")."""
    start = _clause_start(text, m.start)
    lead = cues.author_lead().search(text[start : m.start])
    if lead and re.fullmatch(r"(?:(?:written\s+)?by|from)\s*", lead.group(0), re.IGNORECASE):
        return _by_asks(text, start + lead.start(), titles)
    return lead is not None


def _outside(m: AuthorMention, scopes: list[Scope], titles: list[TitleMention]) -> bool:
    """Whether a name stands outside every refusal or lift and every title named."""
    return not any(s.text_start <= m.start < s.text_end for s in scopes) and not any(
        t.start < m.end and m.start < t.end for t in titles
    )


def _owned_books(rest: str) -> bool:
    """Whether the words after a possessive are the books (within three words: "'s early ones", "'s
    lesser-known thrillers") or nothing at all ("any of Roberts'?")."""
    clause = re.split(r"[,.;:!?()\n]", rest, maxsplit=1)[0]
    words = clause.split()[:3]
    if not words:
        return True
    return any(
        cues.authored_word().fullmatch(w) or any(h[0] == 0 for h in genre_hits(" ".join(words[k:])))
        for k, w in enumerate(words)
    )


def _beside_a_capital(text: str, m: AuthorMention) -> bool:
    """Whether a one-word name has a capitalised word right before it (not a sentence's first word, "I" or
    an honorific) or right after it: then it is part of a name the catalog does not have."""
    before = re.search(r"([\w'’]+)\s+$", text[: m.start])
    after = re.match(r"\s+([\w'’]+)", text[m.end :])
    if after and after.group(1)[:1].isupper() and after.group(1) != "I":
        return True
    if not before or not before.group(1)[:1].isupper() or before.group(1) == "I":
        return False
    opens_sentence = not text[: before.start(1)].strip() or text[: before.start(1)].rstrip()[-1] in ".!?\n"
    return not opens_sentence and fold(before.group(1)) not in HONORIFICS


_ASK_CLAUSE_BREAK = re.compile(
    r"[,.;:!?\n()\u2014\u2013]|\s-\s|\b(?:but|though|although|except|however|whereas|yet)\b", re.IGNORECASE
)


def _sentence_of(text: str, m: AuthorMention) -> str:
    return text_around(text, _SENTENCE_END, m.start, m.end)


def _ask_clause(text: str, m: AuthorMention) -> str:
    """The clause a name stands in, to its commas and turns ("Stephen King books but not horror": the first)."""
    return text_around(text, _ASK_CLAUSE_BREAK, m.start, m.end)


def _by_asks(text: str, by: int, titles: list[TitleMention]) -> bool:
    """Whether "by" or "from" at ``by`` asks for an author's books ("anything by", "a mystery by", "something
    good from") rather than attributing one ("Rebecca by", "the Einstein one by") or moving away ("recovering
    from"): the word before it must be a quantity, books in the plural or a kind of book."""
    head = text[:by].rstrip()
    if any(t.end >= len(head) - 1 and t.end <= by for t in titles):
        return False
    if not head or head[-1] in ".!?\n":
        # "by stephen king?" opening a message goes on with the request before it: a collection by him.
        return text[by : by + 2].lower() == "by"
    word = re.search(r"[\w'’-]+$", head)
    if word is None:
        return False
    said = word.group(0)
    return bool(
        cues.author_source_word().fullmatch(said)
        or cues.authored_word().fullmatch(said)
        or cues.author_lead().fullmatch(said)
        or any(h[1] == len(head[-40:]) for h in genre_hits(head[-40:]))
    )


def _anaphors_asking(text: str) -> list[re.Match[str]]:
    """Where a word standing for a nearby author asks for their books: "any of hers", "by that author", "her
    backlist", "what else has he written"."""
    return sorted((m for rx in _anaphor_patterns() for m in rx.finditer(text)), key=lambda m: m.start())


@lru_cache(maxsize=1)
def _anaphor_patterns() -> list[re.Pattern[str]]:
    anaphor = cues.author_anaphor()
    owner = r"his|her|their"
    source = cues.author_source_word().pattern
    patterns = [
        rf"(?<![\w'’])(?:by|from)\s+(?:{anaphor})(?![\w'’])",
        rf"{source}\s+of\s+(?:{anaphor})(?![\w'’])",
        r"(?<![\w'’])of\s+(?:his|hers|theirs)(?![\w'’])",  # "what have you got of his?"
        r"(?<![\w'’])of\s+(?:her|him|them)(?=\s*(?:[?!.]|$))",  # "what do you suggest of her?"
        rf"(?<![\w'’])(?:{owner})(?:\s+[\w-]+){{0,2}}?{cues.authored_word().pattern}",
        r"(?<![\w'’])(?:he|she|they)\s+(?:has\s+|have\s+|ever\s+|has\s+ever\s+)?"
        r"(?:written|wrote|writes|write|penned|published)(?![\w'’])",
    ]
    return [re.compile(p, re.IGNORECASE) for p in patterns]


_RECIPIENT = re.compile(r"\b(?:for|4)\s+(?:my|his|her|our|their|a|the)\s+[\w'’]+", re.IGNORECASE)
_CLAUSE_SPAN = re.compile(r"[,.;:!?\n()\u2014\u2013]|\s-\s")


def _bare_name_request(text: str, mention: AuthorMention, mentions: list[AuthorMention]) -> bool:
    """Whether the name alone, but for fillers, opens a sentence of a message that names no other author and
    no kind of book ("gaiman pls", "Stephen King, 80s only"): that asks for the author's books. A name in a
    list, after a colon or beside a kind is an example or an item of something else ("poetry... keats")."""
    if len(mentions) > 1 or genre_hits(text) or _NEGATION.search(_EXCLUSIVE.sub(" ", text)):
        # A name said bare beside a "no" ("Patterson. Absolutely not.") may be what it refuses; "she reads
        # nothing else" says the name is all she reads.
        return False
    left = max((m.end() for m in _CLAUSE_SPAN.finditer(text, 0, mention.start)), default=0)
    if text[left - 1 : left] not in ("", ".", "!", "?", "\n") and left:
        return False
    right = _CLAUSE_SPAN.search(text, mention.end)
    clause = text[left : mention.start] + " " + text[mention.end : right.start() if right else len(text)]
    # A time ("connelly before 1995") and who the books are for ("grishm 4 my bro") leave it bare.
    clause = _RECIPIENT.sub(" ", clause)
    return all(
        w.lower() in cues.request_fillers() or any(c.isdigit() for c in w)
        for w in re.findall(r"[\w'’]+", clause)
    )


# The name fronted as what someone wants ("it's Vonnegut they want", "Gaiman is who I'm after", "Christie she
# asked for"): an ask for the author's books, said about its subject.
_FRONTED_ASK = re.compile(
    r"\s+(?:(?:that|who|whom)\s+|(?:is|was|['’]s)\s+(?:who|what)\s+)?(?:i|we|they|he|she|you|my\s+\w+|our\s+\w+|the\s+\w+)(?:\s+|(?=['’]))"
    r"(?:really\s+|actually\s+|all\s+)?(?:want(?:s|ed)?|need(?:s|ed)?|asked\s+for|requested|prefer(?:s|red)?|"
    r"(?:am|are|is|were|was)\s+after|['’](?:m|re|s)\s+after|would\s+like|['’]d\s+like)\b",
    re.IGNORECASE,
)
_LIKE_LEAD = re.compile(
    r"\b(?:like|loved?|enjoy(?:ed)?|adored?|similar to|fans? of|vein of|style of|reminds? me of|more of)\W*$",
    re.IGNORECASE,
)


def _add(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(max(0, a), min(len(chars), b)):
            chars[i] = " "
    return "".join(chars)


def _clause_end(text: str, start: int, names_item: Callable[[str], bool]) -> int:
    m = _CLAUSE_END.search(text, start)
    end = m.start() if m else len(text)
    comma = text.find(",", start, end)
    while comma != -1:
        nxt = text.find(",", comma + 1, end)
        segment = text[comma + 1 : nxt if nxt != -1 else end]
        if not _continues_list(segment, names_item):
            return comma
        if nxt == -1:
            return end
        comma = nxt
    return end


def _continues_list(segment: str, names_item: Callable[[str], bool]) -> bool:
    """Whether a comma-separated segment only names more things of the list ("..., zombies or gore")."""
    if _LIST_GOES_ON.match(segment):
        return True
    # A bare item after a comma continues the list only when "or"/"nor" closes it ("no vampires, zombies
    # or gore"); otherwise it is what the reader wants instead ("not sci-fi, fantasy").
    words = segment.split()
    return 0 < len(words) <= 4 and bool(_CLOSES_LIST.search(segment)) and names_item(segment)


def _clause_start(text: str, end: int) -> int:
    start = 0
    for m in _CLAUSE_START.finditer(text, 0, end):
        start = m.end()
    return start


def _names_listed_before(text: str, start: int) -> int:
    """Where a list of names ends at ``start`` begins ("Dostoyevsky and Tolstoy not again"): the items before
    it joined by "and", "or" or a comma, each a capitalised name of a word or four."""
    while joined := _LIST_JOIN_BEFORE.search(text, 0, start):
        b = _clause_start(text, joined.start())
        item = text[b : joined.start()]
        if not (item.strip()[:1].isupper() and _LIST_ITEM.fullmatch(item)) or b == joined.start():
            break
        start = b
    return start


def _tail_scopes(
    text: str, matches: Iterable[re.Match[str]], names_item: Callable[[str], bool] | None = None
) -> list[Scope]:
    scopes = []
    for m in matches:
        said = m.group(0).lower()
        if (said in cues.interjections() or said.endswith("pass")) and _DECLINED_OBJECT.match(text, m.end()):
            continue  # "I'll pass on Picoult": a lead to what follows, no verdict on the clause before
        a = _clause_start(text, m.start())
        if _says_nothing(text[a : m.start()]) and a > 0:
            a = _clause_start(text, a - 1)  # "agatha christie? nope": the clause before
            if names_item is not None and m.group(0).lower() in cues.interjections():
                # "Nicholas Sparks? Lovely, someone gets ill by a lake. Hard pass.": a verdict said on its
                # own is on the last thing named before it, a clause or three back.
                named = _last_named_clause(text, a, names_item)
                if named is not None:
                    scopes.append(Scope(start=named[0], end=m.end(), text_start=named[0], text_end=named[1]))
                    continue
            if not _SINGULAR_PREDICATE.match(m.group(0)):
                a = _names_listed_before(text, a)  # "Dostoevsky and Tolstoy, please don't"
        elif _PREDICATE_FIRST.match(text, a) and a > 0 and (aside := _clause_start(text, a - 1)) > 0:
            # "David Sedaris, delightful as he is at parties, is someone I have heard enough from": the
            # subject stands before an aside.
            a = _clause_start(text, aside - 1)
        elif _PLURAL_PREDICATE.match(m.group(0)) and (joined := _AND_BEFORE.search(text, 0, a)):
            # "Lee Child and Baldacci are both struck": a plural predicate takes the list's first item too,
            # when that is no clause of its own (a name or a word or two, not "I love fantasy").
            b = _clause_start(text, joined.start())
            if _LIST_ITEM.fullmatch(text[b : joined.start()]):
                a = b
        elif not _SINGULAR_PREDICATE.match(m.group(0)):
            a = _names_listed_before(text, a)  # "Hawking and Dawkins: skip", not "fantasy, and horror is out"
        scopes.append(Scope(start=a, end=m.end(), text_start=a, text_end=m.start()))
    return scopes


def _last_named_clause(text: str, start: int, names_item: Callable[[str], bool]) -> tuple[int, int] | None:
    """The span of the nearest clause at or before ``start`` that names a kind or an author, at most
    ``_VERDICT_REACH`` clauses back."""
    end = _clause_stop(text, start)
    for _ in range(_VERDICT_REACH):
        if names_item(text[start:end]):
            return start, end
        if start == 0:
            return None
        end = start
        start = _clause_start(text, start - 1)
    return None


def _clause_stop(text: str, start: int) -> int:
    """Where the clause starting at ``start`` ends: the next clause start after it."""
    stop = _CLAUSE_START.search(text, start + 1)
    return stop.start() if stop else len(text)


def _refusal_scopes(
    text: str,
    names_item: Callable[[str], bool],
    ahead: re.Pattern[str] | None = None,
    behind: re.Pattern[str] | None = None,
    titled: Sequence[tuple[int, int]] = (),
) -> list[Scope]:
    scopes = []
    # A cue's words inside a title written as one ("not Skipping Christmas") are the title's, no cue.
    cue_matches = [
        m
        for m in (ahead or cues.refusal()).finditer(text)
        if not any(a <= m.start() and m.end() <= b for a, b in titled)
    ]
    if ahead is None:
        # "i'm too jumpy for horror", "too old for YA": what one is too something for is ruled out.
        cue_matches += list(_TOO_FOR.finditer(text))
        cue_matches += [m for m in _THAN.finditer(text) if _RATHER_BEFORE.search(text, 0, m.start())]
    too_little = [
        (m.start(), little.end())
        for m in cue_matches
        if m.group(0).lower() in ("no", "not") and (little := _TOO_LITTLE.match(text, m.end()))
    ]
    # A refusal that is itself negated cancels out ("I'm not averse to romance", "wouldn't say no to a
    # thriller", "not that I dislike King"): neither it nor the negation before it rules anything out.
    cancelled: list[tuple[int, int]] = []
    for m in cue_matches:
        negation = _NEGATION_BEFORE.search(text, max(0, m.start() - 40), m.start())
        if negation and _CONCORD.fullmatch(m.group(0)) and not text[negation.start() : m.start()].split()[1:]:
            continue  # "true history, not no made-up story": negative concord, one "no" said twice
        if negation and not any(a <= m.start() < b for a, b in cancelled):
            cancelled.append((negation.start(), m.end()))
    # A cue inside a refusal said after its object is that refusal's word ("westerns hold NO appeal for me"):
    # it rules out what stands before the predicate, not the rest of the predicate.
    tails = list((behind or cues.refusal_tail()).finditer(text))
    predicates = [(m.start(), m.end()) for m in tails]
    for m in cue_matches:
        if any(a <= m.start() < b for a, b in too_little):
            continue  # "not enough romance", "not read enough of the classics" ("enough of" included)
        if any(a < m.start() and m.end() < b for a, b in predicates):
            continue
        if _EITHER_WAY.match(text, m.start()) and _OR_BEFORE.search(text, 0, m.start()):
            continue  # "Discworld or not", "whether or not it's a series": either way, nothing ruled out
        if any(a <= m.start() and m.end() <= b for a, b in cancelled):
            continue
        if _PERFECT_BEFORE.search(text, max(0, m.start() - 12), m.start()) and _UNREAD.match(text, m.end()):
            continue  # "she's not read any of his yet", "I've not tried her": unread, not refused
        person = _AGENT_NOUN.match(text, m.end())
        if (
            person
            and _SELF_BEFORE.search(text, max(0, m.start() - 12), m.start())
            and not genre_hits(person[0])
        ):
            continue  # "I'm no scientist": the reader says who they are, not what to leave out
        end = _clause_end(text, m.end(), names_item)
        after = text[m.end() : end]
        if after.strip(" ,") and not after.lstrip().startswith(","):
            scopes.append(Scope(m.start(), end, m.end(), end))
        elif _RELATIVE_BEFORE.search(text, 0, m.start()):
            continue  # "classic novels that were banned" says what the books are
        else:  # "it's Gaiman I don't want": nothing after the cue, so it refuses what came before
            a = _clause_start(text, m.start())
            if _says_nothing(text[a : m.start()]) and a > 0:
                a = _clause_start(text, a - 1)  # "colleen hoover? respectfully no": the clause before
            a = _names_listed_before(text, a)
            scopes.append(Scope(a, m.end(), a, m.start()))
    if ahead is None:
        for rx in cues.refusal_frames():
            scopes += [Scope(m.start(), m.end(), m.start("slot"), m.end("slot")) for m in rx.finditer(text)]
        scopes += _tail_scopes(text, cues.judgement().finditer(text))
    return scopes + _tail_scopes(text, tails, names_item)


def _overlap(a: TitleMention, b: TitleMention) -> bool:
    return a.start < b.end and b.start < a.end


@lru_cache(maxsize=4)
def _catalog_reader(
    catalog: str | None,
    mtime: float,
    config_json: str,
    kinds: KindGuesser | None,
    stance: StanceGuesser | None,
) -> MessageReader:
    vocab = catalog_vocabulary(Path(catalog)) if catalog else empty_vocabulary()
    return MessageReader(vocab, ParseConfig.model_validate_json(config_json), kinds, stance)


def catalog_reader(
    catalog: Path | None,
    config: ParseConfig | None = None,
    kinds: KindGuesser | None = None,
    stance: StanceGuesser | None = None,
) -> MessageReader:
    """The reader for a catalog file (one per file version, config, kind guesser and stance judge; shared,
    it caches its readings). Pass the same ``kinds`` and ``stance`` objects every time: they are part of
    the cache key."""
    try:
        mtime = catalog.stat().st_mtime if catalog is not None else 0.0
    except OSError:
        catalog, mtime = None, 0.0
    return _catalog_reader(
        str(catalog) if catalog else None, mtime, (config or ParseConfig()).model_dump_json(), kinds, stance
    )
