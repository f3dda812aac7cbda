"""The standing request's kinds of book across turns: a refinement keeps them, a new kind switches the request.

Both folds of a conversation (the planner's and the constraint guard's) pass each turn's reading through
one :class:`RequestTracker`, so they agree on when the reader has moved to another request: a message
naming only kinds of book the standing request has none of ("ok, manga then", after classics) starts a
new request, and the old one's bounds go with it while the reader's "no"s stay. A correction ("I meant
fantasy") replaces the kind and keeps the rest; a tone ("funny") or a narrowing ("historical ones")
refines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from vibeshelf.agent.intent import FORM_SHELVES, TONE_SHELVES, Intent

# Shelves that say who a book is for rather than what kind it is.
AUDIENCE_SHELVES = frozenset({"young_adult", "childrens", "middle_grade", "picture_books", "new_adult"})


class RequestTracker:
    def __init__(
        self,
        title_authors: Mapping[str, list[str]] | None = None,
        *,
        title_shelves: Mapping[str, tuple[str, ...]] | None = None,
        kinds: Iterable[str] = (),
        liked: Iterable[str] = (),
        topic: str = "",
    ) -> None:
        """``kinds``, ``liked`` and ``topic`` continue a request kept from earlier turns."""
        self.kinds: set[str] = set(kinds)
        self.refused = False  # whether the previous message ruled something out
        self._title_authors = title_authors or {}
        self._title_shelves = title_shelves or {}
        self.liked: list[str] = list(liked)  # titles the standing request is "like"
        self.topic = topic  # the words of the message that started the request
        self.audience: set[str] = set()  # who the standing request's books are for ("for my 15 year old")
        self.last_named: list[str] = []  # the authors the latest message that named any named
        self.last_refused: set[str] = set()  # those of them it ruled out

    def observe(self, intent: Intent) -> Intent:
        """``intent`` with ``new_request`` set when it switches the kind of book; updates the kinds.

        A message that only adds names with "too"/"either" after a refusal ("arthur c clarke too")
        refuses them as well.
        """
        if intent.new_request or intent.reset:
            # Said while starting over ("start over. something funny" after "not funny"), a kind asked for
            # is no longer refused. A kind switch alone ("a teen romance" after "nothing young adult") lifts
            # nothing: the reader's "no" holds.
            for shelf in [*intent.genres_include, *intent.genres_all]:
                if shelf not in intent.genres_exclude and shelf not in intent.allow_genres:
                    intent.allow_genres.append(shelf)
        if self.refused:
            for name in intent.echo_authors:
                if name not in intent.exclude_authors:
                    intent.exclude_authors.append(name)
            for shelf in intent.echo_genres:
                if shelf not in intent.genres_exclude:
                    intent.genres_exclude.append(shelf)
                if shelf in intent.genres_include:
                    intent.genres_include.remove(shelf)
        # A shelf guessed from a refused phrase's meaning never rules out the kind being asked for ("philosophy,
        # but not the Enlightenment" is no refusal of philosophy), nor the kind of a book the request is like
        # ("more like the name of the wind" then "not YA, i keep getting handed teen fantasy").
        liked = [*self.liked, *(t.title for t in intent.like_titles)]
        kinds_liked = {s for title in liked for s in self._title_shelves.get(title, ())} - AUDIENCE_SHELVES
        dropped = [
            g
            for g in intent.guessed_exclude
            if g in self.kinds or g in intent.genres_include or g in kinds_liked
        ]
        intent.genres_exclude = [g for g in intent.genres_exclude if g not in dropped]
        asked = set(intent.genres_include) - TONE_SHELVES - FORM_SHELVES
        if intent.reset or intent.new_request:
            self.kinds = asked
        elif intent.correction and asked <= AUDIENCE_SHELVES and self.kinds - AUDIENCE_SHELVES:
            # "sorry, it's for my nephew, he's 15": who the book is for corrects the audience, not the kind.
            self.kinds |= asked
        elif asked and self.kinds and not asked & self.kinds and (intent.correction or not intent.nudge):
            if not intent.correction:
                intent.new_request = True
            self.kinds = asked
        else:
            self.kinds |= asked
        if intent.reset or intent.new_request:
            self.liked = []
        self.liked += [t.title for t in intent.like_titles if t.title not in self.liked]
        if intent.other_authors:
            # "something like Rebecca, by a different author": the liked books' authors are ruled out, and so
            # is an author this message names without asking for ("oh great, philippa gregory. someone else").
            unasked = [
                n for n in intent.named_authors if n not in intent.authors and n not in intent.allow_authors
            ]
            for name in [*(n for t in self.liked for n in self._title_authors.get(t, [])), *unasked]:
                if name not in intent.exclude_authors:
                    intent.exclude_authors.append(name)
            intent.named_authors = [n for n in intent.named_authors if n not in unasked]
        if intent.reset or intent.new_request:
            self.audience = set()
        self.audience |= {*intent.genres_include, *intent.genres_all} & AUDIENCE_SHELVES
        if "childrens" in intent.genres_exclude:
            # "no kids' books": the catalog shelves many books for children as middle grade or young adult
            # only, so those go too; young adult stays when the books are for a young reader or allowed.
            young_reader = bool((self.kinds | self.audience) & AUDIENCE_SHELVES)
            younger = ["middle_grade"] + ([] if young_reader else ["young_adult"])
            for shelf in younger:
                if shelf not in intent.genres_exclude and shelf not in intent.allow_genres:
                    intent.genres_exclude.append(shelf)
        if intent.refused_him_or_her and self.last_named:
            # "i loved gone girl, what next" then "not her though": the author named last, or whose book was.
            for name in self.last_named:
                if name not in intent.exclude_authors and name not in intent.allow_authors:
                    intent.exclude_authors.append(name)
            intent.authors = [a for a in intent.authors if a not in self.last_named]
        if intent.asked_him_or_her and self.last_named and not intent.authors:
            # "hmm, maybe koontz?" then "ok yeah, his stuff": the author named last is the one asked for.
            intent.authors = [
                n for n in self.last_named if n not in {*intent.exclude_authors, *self.last_refused}
            ]
        named = [*intent.authors, *intent.named_authors, *intent.exclude_authors, *intent.spoken_authors]
        named += [n for t in intent.like_titles for n in self._title_authors.get(t.title, [])]
        if named:
            self.last_named = list(dict.fromkeys(named))
            self.last_refused = set(intent.exclude_authors)
        self.refused = bool(intent.exclude_authors or intent.genres_exclude or intent.exclude_series)
        if intent.reset or intent.new_request or (not self.topic and intent.topical and intent.query):
            self.topic = intent.query if intent.topical else ""
        return intent
