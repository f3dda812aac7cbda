"""What the agent remembers about a conversation beyond its messages: books shown, reader feedback and
the reader's standing limits.

The web layer loads it from the session store, passes it to ``Agent.run`` and saves it afterwards;
the agent appends the books it showed and records the limits it folded. Plain data, no I/O, so any
store can persist it as JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from vibeshelf.agent.intent import Constraints
from vibeshelf.retrieval.cf.config import LIKED_RATING

if TYPE_CHECKING:
    from vibeshelf.retrieval.library_import import ImportedLibrary


class ShownBook(BaseModel):
    """A book the reader has already been shown, enough to refer back to it ("the second one")."""

    id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    turn: int = Field(default=0, ge=0, description="The user turn (0-based) in which it was shown.")


class StandingRequest(BaseModel):
    """What the reader is asking for now, kept across turns: a refinement keeps it, starting over replaces it."""

    topic: str = Field(default="", description="The words of the message that started the request.")
    kinds: list[str] = Field(default_factory=list, description="Shelves the request asks for.")
    liked_titles: list[str] = Field(default_factory=list, description="Books the request is 'more like'.")


class ReaderConstraints(BaseModel):
    """The reader's hard limits ("nothing young adult", "before 2000", "I've read Dune"), as data.

    ``agent.constraints.HardConstraints`` adds the enforcing; the session keeps this plain form so a
    limit said many turns ago still holds after those turns have left the replayed history.
    """

    rules: Constraints = Field(default_factory=Constraints)
    exclude_titles: list[str] = Field(
        default_factory=list, description="Titles the reader has read or ruled out ('I've read Dune')."
    )
    request: StandingRequest = Field(default_factory=StandingRequest)

    def phrases(self) -> list[str]:
        """The limits in plain words, one phrase each (books excluded by id are not listed)."""
        out = self.rules.describe()
        if self.exclude_titles:
            out.append(f"the reader has read or ruled out: {'; '.join(self.exclude_titles)}")
        return out


class ReaderLibrary(BaseModel):
    """A reader's imported Goodreads/StoryGraph library (``POST /v1/sessions/{id}/library``), as ids.

    ``read_ids`` join the session's standing exclusions (``SessionState.excluded_ids``); ``liked_ids`` are
    the history the model is shown (``SessionState.liked_history``); ``ratings`` the history that is
    scored (``SessionState.rated_history``). A new import replaces the previous one.
    """

    format: str = Field(description="goodreads or storygraph")
    read_ids: list[str] = Field(default_factory=list, description="Read, reading, abandoned or rated.")
    liked_ids: list[str] = Field(
        default_factory=list,
        description="Rated 4+ (else read), best rated first: the history to recommend from.",
    )
    ratings: dict[str, float] = Field(
        default_factory=dict,
        description="Stars (1-5) of every rated book, best first: whole-history picks weigh each book by them.",
    )
    matched: int = Field(default=0, ge=0, description="Rows matched to a catalog book.")
    unmatched: int = Field(default=0, ge=0, description="Rows that matched no catalog book.")

    @classmethod
    def of(cls, library: ImportedLibrary) -> ReaderLibrary:
        """What a session keeps of a matched export (``retrieval.library_import``)."""
        return cls(
            format=library.format,
            read_ids=library.read_ids(),
            liked_ids=library.history_ids(),
            ratings=library.ratings(),
            matched=len(library.matched),
            unmatched=len(library.unmatched),
        )


class SessionState(BaseModel):
    shown: list[ShownBook] = Field(default_factory=list, description="Every book shown, in order.")
    liked_ids: list[str] = Field(default_factory=list)
    disliked_ids: list[str] = Field(default_factory=list)
    read_ids: list[str] = Field(default_factory=list, description="Books the reader said they have read.")
    turns: int = Field(default=0, ge=0, description="User messages answered so far.")
    constraints: ReaderConstraints = Field(
        default_factory=ReaderConstraints,
        description="The reader's limits folded over every user message so far, including those no "
        "longer in the replayed history (books excluded by id live in read_ids/disliked_ids instead).",
    )
    library: ReaderLibrary | None = Field(default=None, description="The reader's imported library, if any.")

    @property
    def excluded_ids(self) -> list[str]:
        """Books never to recommend again: read (in the conversation or the imported library) or thumbed
        down. The library comes first: consumers that keep only the newest ids of a long list
        (``HardConstraints.merge_filters``) keep the conversation's own, and the results check holds all."""
        library = self.library.read_ids if self.library else []
        return list(dict.fromkeys([*library, *self.read_ids, *self.disliked_ids]))

    def liked_history(self) -> list[str]:
        """The reader's liked history for whole-history picks (``ReadersAlsoLiked.recommend_history``):
        the imported library's liked books (best rated first), then books thumbed up in the conversation,
        without any the reader thumbed down since. Empty when there is neither."""
        library = self.library.liked_ids if self.library else []
        disliked = set(self.disliked_ids)
        return [b for b in dict.fromkeys([*library, *self.liked_ids]) if b not in disliked]

    def rated_history(self) -> dict[str, float | None]:
        """The history whole-history picks are scored from (``ToolContext.reader_history``): every book
        rated in the imported library with its stars (a library without ratings: its liked books, no
        stars), then books thumbed up in the conversation as liked (``LIKED_RATING`` stars, or the
        library's if higher); best rated first, without any the reader thumbed down since.

        The stars weigh each book when the history is scored, as ``vibeshelf eval`` scores a reader's
        rated history; low-rated books are kept because their weights were chosen with them."""
        stars: dict[str, float | None] = {}
        if self.library is not None:
            stars.update(self.library.ratings or dict.fromkeys(self.library.liked_ids))
        for book_id in self.liked_ids:
            stars[book_id] = max(stars.get(book_id) or 0.0, float(LIKED_RATING))
        disliked = set(self.disliked_ids)
        kept = [(b, s) for b, s in stars.items() if b not in disliked]
        kept.sort(key=lambda item: -(LIKED_RATING if item[1] is None else item[1]))  # stable
        return dict(kept)

    def last_shown(self) -> list[ShownBook]:
        """The books shown in the most recent turn that showed any, in order."""
        if not self.shown:
            return []
        last = self.shown[-1].turn
        return [b for b in self.shown if b.turn == last]

    def record_shown(self, books: list[ShownBook]) -> None:
        """Append books shown in the current turn (a book already shown this turn is not repeated)."""
        known = {b.id for b in self.shown if b.turn == self.turns}
        for book in books:
            if book.id not in known:
                known.add(book.id)
                self.shown.append(book)
