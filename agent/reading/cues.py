"""The reading's word lists, loaded from ``data/`` (one phrase a line; ``#`` starts a comment)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources


def _lines(name: str) -> list[str]:
    text = (
        resources.files("vibeshelf.agent.reading").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def phrase_regex(phrases: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex for the phrases, longest first, on word boundaries."""
    ordered = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]?") for p in ordered)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.IGNORECASE)


@cache
def qualifying_shelves() -> frozenset[str]:
    """Shelves that narrow the kind said right after them ("classic detective fiction")."""
    return frozenset(_lines("qualifying_shelves.txt"))


@cache
def aspect_after() -> re.Pattern[str]:
    """An aspect noun right after a kind ("the military side"): the kind narrows the standing request."""
    return re.compile(rf"\s+(?:of\s+)?(?:{_alternation('aspect_nouns.txt')})", re.IGNORECASE)


@cache
def name_particles() -> frozenset[str]:
    """Lower-case words inside a surname ("du Maurier", "de Assis")."""
    return frozenset(_lines("name_particles.txt"))


@cache
def likeness_suffix() -> re.Pattern[str]:
    """A suffix that makes the name before it a likeness ("Christie-ish", "Tolkien-esque")."""
    body = "|".join(re.escape(s) for s in _lines("likeness_suffixes.txt"))
    return re.compile(rf"-(?:{body})\b", re.IGNORECASE)


@cache
def refusal() -> re.Pattern[str]:
    """Cues that rule out what follows them ("steer clear of ...", "count out ...")."""
    phrases = _lines("refusal_cues.txt") + _refusal_verbs_before() + _not_tolerated() + _declined_to()
    rules = [
        phrase_regex(phrases).pattern,
        _not_liked(),
        _except_after_quantifier(),
        _kept_away(),
        _not_offered(),
        _is_not(),
        _had_enough(),
    ]
    return re.compile("|".join(rules), re.IGNORECASE)


def _had_enough() -> str:
    """Having had enough, with the amount before the thing ("I've read enough crime to last a lifetime"); not
    after a negation ("haven't read enough poetry" wants more) nor of time or reason ("had enough time to")."""
    negated = r"(?<!n't )(?<!nt )(?<!not )(?<!never )"
    other = r"(?!\s+(?:of|time|to|for|money|space|sleep)\b)"  # "enough of" is a cue of its own
    return (
        rf"{negated}(?<![\w'’])(?:read|had|seen|heard)\s+(?:quite\s+|more\s+than\s+)?enough{other}(?![\w'])"
    )


def _is_not() -> str:
    """A negation contracted onto "is" in a clause describing what is wanted ("something that isn't fantasy",
    "a series where the author isn't Jordan"): like "not", it rules out what follows."""
    head = r"(?:that|which|who|where\s+(?:the\s+)?\w+|something|anything|one|ones)"
    return rf"(?<![\w'’]){head}\s+(?:is|are|was|were)n['’]?t(?![\w'])"


def _not_tolerated() -> list[str]:
    """A negated modal before a verb of putting up with something ("can't abide", "won't tolerate")."""
    modals = ["can't", "cant", "cannot", "can not", "couldn't", "could not", "won't", "will not", "wouldn't"]
    return [f"{m} {v}" for m in modals for v in _lines("tolerance_verbs.txt")]


def _not_after(words: list[str] | tuple[str, ...], gap: str = " ") -> str:
    """Lookbehinds: not right after any of ``words`` (each a whole word, then ``gap``)."""
    return "".join(rf"(?<!\b{w}{gap})" for w in words)


_NEGATED_AUX = (
    r"(?:do|does|did|could|would|can|ca|wo)(?:n['’]?t|\s+not)|cannot|never(?:\s+(?:could|can|did|do))?|"
    r"no\s+longer|not\s+really|not\s+ever"
)
_ADVERBS = r"(?:\s+(?:really|quite|ever|truly|particularly|actually|honestly|much|exactly|totally|fully|even|"
_ADVERBS += r"always|just|properly))*"


@cache
def not_liked() -> re.Pattern[str]:
    """A negated verb of liking alone: it reports the reader's experience ("I never got on with poetry")."""
    return re.compile(_not_liked(), re.IGNORECASE)


def _not_liked() -> str:
    """A verb of liking or getting on with something after a negation, in its base form or its past ("I
    never got into Tolkien", "didn't really enjoy Brown", "can't get on with horror")."""
    return _negated([f for line in _lines("liking_verbs.txt") for f in line.split("\t")])


def _negated(verb_forms: list[str]) -> str:
    """The verb phrases after a negation and any adverbs ("didn't really enjoy", "never grabbed me")."""
    return rf"(?<![\w'’])(?:{_NEGATED_AUX}){_ADVERBS}\s+{phrase_regex(verb_forms).pattern}"


def _except_after_quantifier() -> str:
    """An exception after "any"/"every" ("anyone but Patterson", "every author bar King", "anything except
    romance"): what is excepted is ruled out."""
    quantified = r"(?:any|every)(?:one|body|thing)?(?:\s+(?:author|writer|book|novel|title|genre|kind)s?)?"
    exception = (
        r"but|bar|barring|besides|except(?:\s+for)?|save(?:\s+for)?|apart\s+from|aside\s+from|other\s+than"
    )
    return rf"(?<![\w'’]){quantified}(?:\s*,)?\s+(?:{exception})(?![\w'])"


def _not_offered() -> str:
    """The recommender told not to offer something ("don't give me vampires", "please don't point me at The
    Road"): an imperative, so not after a subject ("I don't recommend it", "they never show")."""
    verbs = phrase_regex([f for v in _lines("offer_verbs.txt") for f in (v, f"{v}s")]).pattern
    subject = _not_after(("i", "we", "they", "he", "she", "you", "it", "people", "who", "that"))
    return (
        rf"{subject}(?<![\w'’])(?:don['’]?t|do\s+not|never)\s+(?:ever\s+|even\s+)?(?:{verbs})"
        r"(?:\s+(?:me|us))?(?:\s+(?:at|to|towards?|in the direction of|with))?(?![\w'’])"
    )


def _kept_away() -> str:
    """Being kept away from something ("steer clear of", "steer me well away from", "keep us away from", "keep
    it off the erotica shelf", "keep it out of erotica territory")."""
    verb = r"(?:steer|keep|stay|move|get|shy|run|walk|head)(?:s|ing|ed)?|kept|ran|got"
    held = r"(?:\s+(?:me|us|him|her|them|it|my\s+\w+|our\s+\w+))?(?:\s+(?:well|far|right|clear))?"
    kept_off = r"(?:keep|keeps|keeping|kept|stay|stays|staying|steer|steers|steering)"
    return (
        rf"(?<![\w'’])(?:{verb}){held}\s+(?:away\s+from|clear\s+of)(?![\w'])"
        rf"|(?<![\w'’]){kept_off}{held}\s+off(?:\s+of)?(?![\w'])"  # "keep it off the erotica shelf"
        # "keep it out of erotica territory"; not "ran out of", "got out of" (what one has no more of, or left)
        rf"|(?<![\w'’]){kept_off}{held}\s+out\s+of(?![\w'])"
    )


def _declined_to() -> list[str]:
    """An interjection that declines, before what it declines ("nope to vampires", "hard pass on Hoover")."""
    out = []
    for word in _lines("refusal_interjections.txt"):
        out += [f"{word} on", f"a {word} on"] + ([] if word.endswith("pass") else [f"{word} to"])
    return out


def _said_after_copula(phrases: list[str], *, not_after: tuple[str, ...] = ()) -> re.Pattern[str]:
    """The phrases; those starting with "is"/"are" also after a copula contracted onto the word before ("she's
    out", "Christie's fine") and with degree words before the predicate ("erotica is right out", "Christie is
    absolutely fine"). ``not_after``: words before the copula that make it say nothing of the thing."""
    predicates = [p.split(" ", 1)[1] for p in phrases if p.startswith(("is ", "are "))]
    others = [p for p in phrases if not p.startswith(("is ", "are "))]
    if not predicates:
        return phrase_regex(others)
    said = phrase_regex(predicates).pattern
    degree = _alternation("predicate_adverbs.txt")
    copula = rf"(?:{_not_after(not_after)}(?<![\w'’])(?:is|are)|(?<=\w){_not_after(not_after, gap='')}['’](?:s|re))"
    return re.compile(rf"{copula}(?:\s+(?:{degree}))*\s+{said}|{phrase_regex(others).pattern}", re.IGNORECASE)


@cache
def refusal_signs() -> re.Pattern[str]:
    """Signs that say no ("❌", "👎"), one or more in a row."""
    signs = "|".join(re.escape(sign) for sign in sorted(_lines("refusal_signs.txt"), key=len, reverse=True))
    return re.compile(rf"(?:{signs})(?:[\ufe0f\s]*(?:{signs}))*\ufe0f?")


@cache
def interjections() -> frozenset[str]:
    """The interjections that decline ("nope", "hard pass"), lower case."""
    return frozenset(_lines("refusal_interjections.txt"))


@cache
def refusal_tail() -> re.Pattern[str]:
    """Cues that rule out what precedes them ("... is off the table", "she's out", "are struck from the
    roster", "you can skip")."""
    tail = _said_after_copula(_lines("refusal_tail_cues.txt") + _lines("refusal_interjections.txt")).pattern
    aversions = phrase_regex(
        [f for line in _lines("aversion_predicates.txt") for f in _predicate_forms(line)]
    ).pattern
    aversions = rf"{_HOPED}(?:{aversions})"
    unfit = _negated([f for line in _lines("fit_verbs.txt") for f in _predicate_forms(line)])
    return re.compile(
        rf"{tail}|{aversions}|{unfit}|{_unacceptable()}|{_refusal_verbs_after()}|{_ELLIPTIC_NO}",
        re.IGNORECASE,
    )


def _unacceptable() -> str:
    """A lift's predicate negated ("King is not ok", "vampires aren't welcome", "she's not alright")."""
    said = phrase_regex(
        [p.split(" ", 1)[1] for p in _lines("lift_cues.txt") if p.startswith(("is ", "are "))]
    )
    negated = r"(?<![\w'’])(?:is|are)\s+not|(?<![\w'’])(?:isn|aren)['’]?t|(?<=\w)['’](?:s|re)\s+not"
    return rf"(?:{negated})(?:\s+(?:{_alternation('predicate_adverbs.txt')}))*\s+{said.pattern}"


# A negated auxiliary with its verb left out, ending its sentence ("Dostoevsky and Tolstoy, please don't."): it
# says no to what stands before it.
_ELLIPTIC_NO = (
    r"(?<![\w'’])(?:please\s+)?(?:don['’]?t|do\s+not)(?:\s+(?:please|thanks|thank\s+you))?"
    r"(?=\s*(?:[.!?\n]|$))"
)


# A wish, a condition or a negation right before what is done to the reader says what they hope for, not what
# they met ("a fantasy that won't bore me", "something that doesn't annoy me").
_HOPED_BY = (
    "will would won't wont doesn't doesnt don't dont didn't not never to that which who can could might"
)
_HOPED = _not_after((*_HOPED_BY.split(), "may", "should", "shall", "must"))


def _predicate_forms(line: str) -> list[str]:
    """A predicate's every form from its base form and past ("drive me mad": drives, driving, drove)."""
    base, _, past = line.partition("\t")
    return _verb_forms(base) + ([past] if past else [])


def _refusal_verbs() -> list[tuple[str, str, str]]:
    """(verb, particle, past participle) from ``data/refusal_verbs.txt``."""
    out = []
    for line in _lines("refusal_verbs.txt"):
        phrase, _, participle = line.partition("\t")
        verb, _, particle = phrase.strip().partition(" ")
        if not participle:
            participle = f"{verb}d" if verb.endswith("e") else f"{verb}ed"
            participle = f"{participle} {particle}".strip()
        out.append((verb, particle, participle.strip()))
    return out


def _refusal_verbs_before() -> list[str]:
    """The verbs' active forms, before what they rule out ("count out", "hates", "skipping")."""
    out = []
    for verb, particle, participle in _refusal_verbs():
        # A participle that doubles the last consonant ("omitted") doubles it before "-ing" too.
        doubled = participle.startswith(f"{verb}{verb[-1]}ed")
        out += _verb_forms(f"{verb} {particle}".strip(), doubled=doubled)
    return out


def _refusal_verbs_after() -> str:
    """The verbs' passive and fronted forms, after what they rule out ("are both struck from the roster",
    "has been ruled out", "you can skip")."""
    participles = phrase_regex([p for _, _, p in _refusal_verbs()]).pattern
    actives = phrase_regex([f"{v} {p}".strip() for v, p, _ in _refusal_verbs()]).pattern
    be = r"(?:is|are|was|were|be|been|being|gets?|got|['’]s|['’]re)"
    adverbs = r"(?:\s+(?:both|all|also|too|hereby|officially|now|firmly|definitely|completely|entirely))*"
    # "novels that were banned" says what the books are, not what the reader refuses.
    relative = r"(?<!\bthat )(?<!\bwhich )(?<!\bwho )(?<!\bwhere )"
    where = r"(?:\s+(?:from|off|out of))?(?:\s+(?:the|my|our|your|this)\s+[\w-]+)?"  # "from the roster"
    passive = rf"(?<![\w'’]){relative}{be}{adverbs}\s+(?:{participles}){where}"
    # "thrillers, King excluded": a participle standing alone after the thing, ending its clause (an
    # adverb of addition may close it: "Patterson excluded too").
    not_be = _not_after(("is", "are", "was", "were", "be", "been", "being", "get", "got"), gap="")
    closes = r"(?=\s*(?:[.;:!?,)\n]|$|(?:please|pls|too|as well|also|either)\b))"
    absolute = rf"(?<=[\w'’)]){not_be}\s+(?:{participles}){closes}"
    fronted = (
        rf"\b(?:you|we|u)\s+(?:can|could|may|should)\s+(?:just\s+|safely\s+|definitely\s+)?(?:{actives})"
    )
    return rf"{passive}|{fronted}|{absolute}"


@cache
def refusal_frames() -> list[re.Pattern[str]]:
    """Cues that rule out what stands inside them ("leave Grisham out", "give the war novels a miss"):
    ``*`` in ``data/refusal_frames.txt`` is the slot, a few words within one clause."""
    out = []
    for frame in _lines("refusal_frames.txt"):
        head_words, tail_words = (part.strip() for part in frame.split("*", 1))
        head = phrase_regex(_verb_forms(head_words)).pattern
        tail = phrase_regex([tail_words]).pattern if tail_words else ""
        slot = r"(?P<slot>[^.;:!?,()\n]{1,60}?)"
        out.append(
            re.compile(
                rf"{head}\s+{slot}\s+{tail}" if tail else rf"{head}\s+{slot}(?=[.;:!?,()\n]|$)", re.IGNORECASE
            )
        )
    # "I find Stephen King's books a little much", "we found the sequels dull": what one finds so is judged.
    words = _alternation("judgement_words.txt")
    degree = _alternation("judgement_adverbs.txt")
    finder = r"(?<![\w'’])(?:i|we)\s+(?:(?:do|still|just|always|now)\s+)?(?:find|found|['’]m\s+finding|am\s+finding)"
    judged = rf"(?:(?:{degree})\s+)*(?:{words}|too\s+[a-z]{{3,}})(?![\w'’])"
    out.append(re.compile(rf"{finder}\s+(?P<slot>[^.;:!?,()\n]{{1,60}}?)\s+{judged}", re.IGNORECASE))
    return out


def _verb_forms(phrase: str, *, doubled: bool | None = None) -> list[str]:
    """``phrase`` with its leading verb also as "-s" and "-ing" ("give * a rest": gives, giving): a frame is
    said in every tense a reader uses. A phrase that starts with "the" or "on" has no verb to inflect."""
    first, _, rest = phrase.partition(" ")
    if not first.isalpha() or first in ("the", "on", "a", "an") or first.endswith("ing"):
        return [phrase]
    stem = first[:-1] if first.endswith("e") and not first.endswith("ee") else first
    if doubled is None:  # one syllable ending consonant-vowel-consonant: "skip" -> "skipping"
        doubled = re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", first) is not None
    if doubled:
        stem = first + first[-1]
    third = f"{first}es" if re.search(r"(?:s|x|z|ch|sh|[^aeiou]o)$", first) else f"{first}s"
    return [f"{form} {rest}".strip() for form in (first, third, f"{stem}ing")]


@cache
def judgement() -> re.Pattern[str]:
    """A judgement said of what precedes it ("vampires are so overdone", "King is too obvious", "these I am
    finding silly"): the clause's subject is ruled out. "too" with any adjective is one ("too gory")."""
    words = _alternation("judgement_words.txt")
    degree = _alternation("judgement_adverbs.txt")
    verb = (
        r"(?:\b(?:is|are|was|were|feels?|felt|seems?|seemed|gets?|got|has become|have become|became|"
        r"has gotten|have gotten|has got|have got|has been|have been)|['’]s(?:\s+been)?|['’]re|['’]ve\s+been)"
    )
    finding = r"\b(?:i|we)\s+(?:am\s+|['’]m\s+|was\s+|were\s+)?(?:find|finding|found|think|thought)(?:\s+(?:it|them))?"
    judged = rf"(?:(?:{degree})\s+)*(?:{words}|(?<![\w'])(?:way |far |much )?too\s+[a-z]{{3,}}(?![\w']))"
    # "isn't my cup of tea": the negation contracted onto the verb before a judgement that starts with "not".
    unfit = phrase_regex([w[len("not ") :] for w in _lines("judgement_words.txt") if w.startswith("not ")])
    never = rf"(?:(?:has|have|['’]s|['’]ve)\s+)?never\s+(?:(?:{degree})\s+)*(?:been|was|were)"
    contracted = (
        rf"(?:\b(?:is|are|was|were|ai)n['’]?t|\b(?:is|are|was|were)\s+not|(?<=\w)['’](?:s|re)\s+not"
        rf"|\b{never}|(?<=\w)['’]s\s+never\s+been)"
    )
    contracted = rf"{contracted}\s+(?:(?:{degree})\s+)*{unfit.pattern}"
    return re.compile(rf"(?:{verb}|{finding})\s+{judged}|{contracted}", re.IGNORECASE)


@cache
def echo_ahead() -> re.Pattern[str]:
    """Cues extending a refusal just said to what follows them ("the same goes for ...", "so is ...")."""
    return phrase_regex(_lines("echo_ahead_cues.txt"))


@cache
def read_through() -> re.Pattern[str]:
    """Cues that mark an author as read through, before the name ("read all of ...")."""
    return phrase_regex(_lines("read_cues.txt"))


@cache
def read_through_tail() -> re.Pattern[str]:
    """Cues that mark an author as read through, after the name ("... he's read")."""
    return phrase_regex(_lines("read_tail_cues.txt"))


@cache
def lift() -> re.Pattern[str]:
    """Cues after which something ruled out is allowed again ("... is fine after all", "Christie is absolutely
    fine"): "is"/"are" with a degree word or two before the predicate, and the other phrases as written."""
    # "I'll skip le Carré if that's alright": said of the request in a condition, it lifts nothing.
    return _said_after_copula(_lines("lift_cues.txt"), not_after=("if that", "if this", "if it"))


@cache
def through_verb() -> re.Pattern[str]:
    """Verbs of having been through books ("worked through", "devoured", "heard")."""
    return phrase_regex(_lines("through_verbs.txt"))


@cache
def through_amount() -> re.Pattern[str]:
    """Amounts that make such a verb cover an author's books ("every", "all", "already")."""
    return phrase_regex(_lines("through_amounts.txt"))


@cache
def grown_up() -> re.Pattern[str]:
    """Phrases asking for books for adults ("but for grown ups", "the adult ones"): children's and teen
    shelves are out. ``data/grown_up_cues.txt`` gives the words and nouns the phrases are built from."""
    parts: dict[str, list[str]] = {"words": [], "nouns": [], "phrases": []}
    section = "phrases"
    for line in _lines("grown_up_cues.txt"):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        else:
            parts[section].append(line)
    phrases = list(parts["phrases"])
    for word in parts["words"]:
        phrases += [f"{lead} {word}" for lead in ("for", "for a", "for an", "for the", "4")]
        phrases += [
            f"{lead} {word} {noun}"
            for lead in ("for", "for a", "for an", "for the")
            for noun in parts["nouns"]
        ]
        phrases += [f"{word} {noun}" for noun in parts["nouns"]] + [f"{word} only"]
    whole = phrase_regex(phrases)
    return re.compile(rf"(?<!young[ -])(?<!new[ -]){whole.pattern}", re.IGNORECASE)


@cache
def function_words() -> frozenset[str]:
    """Words that say nothing about a kind of book ("that one", "stuff")."""
    return frozenset(_lines("function_words.txt"))


@cache
def next_read() -> re.Pattern[str]:
    """Cues asking for the next book from the reader's own history ("what should I read next?")."""
    return phrase_regex(_lines("next_read_cues.txt"))


@cache
def restart() -> re.Pattern[str]:
    """Cues by which the reader drops the current request ("forget that", "instead")."""
    return phrase_regex(_lines("restart_cues.txt"))


def table(name: str) -> list[list[str]]:
    return [line.split("\t") for line in _lines(name)]


@cache
def rewrites(name: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """The two-column table ``name`` (said, meant): one regex for what is said, and what each means."""
    pairs = {said.lower(): meant for said, meant in table(name)}
    return phrase_regex(list(pairs)), pairs


def rewrite(text: str, name: str) -> str:
    """``text`` with each phrase of the two-column table ``name`` (said, meant) replaced by what it means."""
    rx, pairs = rewrites(name)
    return rx.sub(lambda m: pairs.get(m.group(0).lower(), m.group(0)), text)


@cache
def eras() -> list[tuple[re.Pattern[str], int | None, int | None]]:
    """Named periods and their publication-year bounds ("between the wars" -> 1919-1939)."""
    out = []
    for row in table("eras.tsv"):
        phrase, first, last = [*row, "", ""][:3]
        out.append((phrase_regex([phrase]), int(first) if first else None, int(last) if last else None))
    out.sort(key=lambda e: -len(e[0].pattern))
    return out


@cache
def decade_words() -> dict[str, int]:
    """ "fifties" -> 1950 (decade words and their spelled-out forms)."""
    return {word.lower(): int(value) for word, value in table("number_words.tsv")}


@cache
def correction() -> re.Pattern[str]:
    """Cues by which the reader corrects something ("I meant", "the other way round")."""
    return phrase_regex(_lines("correction_cues.txt"))


@cache
def refused_kinds() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """Words naming a kind of book only when refused ("not a novel" -> fiction)."""
    return [(phrase_regex([w]), tuple(shelves.split(","))) for w, shelves in table("refused_kinds.tsv")]


def cue_words() -> set[str]:
    """The single words of every cue list, for spelling ("nothin" -> "nothing")."""
    out: set[str] = set()
    for name in (
        "refusal_cues.txt",
        "refusal_tail_cues.txt",
        "refusal_interjections.txt",
        "aversion_predicates.txt",
        "fit_verbs.txt",
        "restart_cues.txt",
        "correction_cues.txt",
        "rating_judgements.txt",
    ):
        for phrase in _lines(name):
            out.update(w for w in phrase.replace("'", " ").split() if len(w) >= 5)
    return out


@cache
def concessive() -> re.Pattern[str]:
    """Leads of a concessive clause ("I don't care if ...", "even though ..."), whose words are not asked for."""
    return phrase_regex(_lines("concessive_leads.txt"))


@cache
def series_of() -> re.Pattern[str]:
    """A series name made of a series noun and what it is of ("The Chronicles of Narnia"): group "of" is the
    latter."""
    return re.compile(
        rf"(?:the\s+)?(?:{_alternation('series_nouns.txt')})\s+of\s+(?:the\s+)?(?P<of>.+)", re.IGNORECASE
    )


@cache
def book_words() -> re.Pattern[str]:
    """Words that make a message about books ("novel", "recommend", "something")."""
    return phrase_regex(_lines("book_words.txt"))


@cache
def small_talk() -> list[tuple[str, re.Pattern[str]]]:
    """(kind, phrase) of messages answered as small talk: thanks, greetings, goodbyes."""
    return [(kind, phrase_regex([phrase])) for kind, phrase in table("small_talk.tsv")]


@cache
def young_readers() -> re.Pattern[str]:
    """People an age is said of when shopping for someone young ("my niece", "a boy")."""
    return phrase_regex(_lines("young_readers.txt"))


@cache
def audience_ages() -> list[tuple[int, int, tuple[str, ...]]]:
    """(youngest, oldest, shelves) of books for young readers by age."""
    return [(int(a), int(b), tuple(shelves.split(","))) for a, b, shelves in table("audience_ages.tsv")]


@cache
def small_numbers() -> dict[str, int]:
    """ "ten" -> 10, for the numbers below twenty written in words."""
    return {w.lower(): int(v) for w, v in table("cardinal_words.tsv") if int(v) < 20}


@cache
def praise_tail() -> re.Pattern[str]:
    """Praise right after a book's name ("was SO good", "is my comfort reread", "ATE"): the name is a title."""
    words = _alternation("praise_words.txt")
    verbs = _alternation("praise_verbs.txt")
    return re.compile(
        rf"\s+(?:(?:is|was|were|['’]s)\s+(?:\w+\s+){{0,3}}?(?:so+\s+|really\s+|just\s+|absolutely\s+)?{words}"
        rf"|{verbs})",
        re.IGNORECASE,
    )


@cache
def acclaim() -> re.Pattern[str]:
    """How a book was received, said approvingly: a word of reception and a word of approval beside it, in
    either order, at most one word between ("well reviewed", "rated real high", "good critics", "the reviews
    are glowing"), or someone who judges books and a verb of liking ("ones readers loved", "titles that
    reviewers really rated"). Either asks for well-rated books; "I rated it highly" is the reader's own."""
    judged = _alternation("rating_judgements.txt")
    degree = _alternation("rating_degrees.txt")
    audience = _alternation("rating_audiences.txt")
    liked = phrase_regex([f for line in _lines("liking_verbs.txt") for f in line.split("\t")][1::2]).pattern
    between = r"(?:\s+[\w'’]+)?\s+"
    own = r"(?<!\bi\s)(?<!\bwe\s)(?<!\bi've\s)(?<!\bi'd\s)"
    return re.compile(
        rf"{own}(?<!\bas\s){degree}[\s-]+(?:[\w'’]+\s+)?{judged}"
        rf"|{own}{judged}{between}{degree}"
        rf"|{audience}(?:\s+(?:have|has|had|all|really|actually|genuinely|truly|just))*\s+{liked}",
        re.IGNORECASE,
    )


@cache
def praise_verb() -> re.Pattern[str]:
    """Verbs of praise ("slaps", "never lets me down"), on word boundaries."""
    return phrase_regex(_lines("praise_verbs.txt"))


def _alternation(name: str) -> str:
    """The phrases of a data file as one regex alternation, on word boundaries, to nest in another regex."""
    return phrase_regex(_lines(name)).pattern


@cache
def author_lead() -> re.Pattern[str]:
    """The words just before an author's name that ask for the author's own books ("anything by", "he
    wants", "something from", "any of"), matched at the end of the text before the name."""
    source = _alternation("author_source_words.txt")
    # "from" asks unless it moves away ("a break from King"); "of" only after a quantity ("any of King's").
    departure = "".join(rf"(?<!{re.escape(w)}\s)" for w in _lines("departure_words.txt"))
    # A determiner may stand between a lead and the name, which then counts its books ("I want a Grisham",
    # "craving another Atwood"); a determiner alone is no lead (author_leads.txt says why).
    determiner = r"(?:\s+(?:a|an|another|some|more|one))?"
    # "wants to read Terry Pratchett", "wanna binge agatha christie": a reading verb in the infinitive.
    reading = rf"(?:to|wanna|gonna|let['’]?s)\s+{_alternation('reading_verbs.txt')}"
    return re.compile(
        rf"(?<![\w'’])(?:(?:{_alternation('author_leads.txt')}|{reading}){determiner}|(?:{source})\s+of"
        rf"|{departure}from)\s*$",
        re.IGNORECASE,
    )


@cache
def authored_word() -> re.Pattern[str]:
    """A word just after an author's name or possessive that makes the name the books' source ("King
    books", "Christie's early ones"), matched at the start of the text after it."""
    return re.compile(rf"\s*(?:{_alternation('authored_words.txt')})(?![\w'’])", re.IGNORECASE)


@cache
def authoring_verb() -> re.Pattern[str]:
    """A verb of writing after an author's name ("anything Christie wrote"), matched at the start."""
    return re.compile(rf"\s*(?:{_alternation('authoring_verbs.txt')})(?![\w'’])", re.IGNORECASE)


@cache
def author_source_word() -> re.Pattern[str]:
    """A quantity or book word ("anything", "whatever", "all") that a verb of writing needs before the name."""
    return re.compile(
        rf"(?<![\w'’])(?:{_alternation('author_source_words.txt')}|what|whatever)\b", re.IGNORECASE
    )


@cache
def likeness_noun() -> re.Pattern[str]:
    """A word after an author's name or possessive that makes it a likeness or a liking ("Grisham's style",
    "a King fan"), matched at the start of the text after it."""
    return re.compile(rf"\s*(?:{_alternation('likeness_nouns.txt')})(?![\w'’])", re.IGNORECASE)


@cache
def author_anaphor() -> str:
    """A regex alternation of the words that stand for an author named nearby ("hers", "that author")."""
    return _alternation("author_anaphors.txt")


@cache
def request_fillers() -> frozenset[str]:
    """Words that leave a clause with an author's name a bare request for their books ("gaiman pls")."""
    return frozenset(_lines("request_fillers.txt"))
