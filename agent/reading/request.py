"""The standing request's kinds of book across turns: a refinement keeps them, a new kind switches the request.

Both folds of a conversation (the planner's and the constraint guard's) pass each turn's reading through
one :class:`RequestTracker`, so they agree on when the reader has moved to another request: a message
naming only kinds of book the standing request has none of ("ok, manga then", after classics) starts a
new request, and the old one's bounds go with it while the reader's "no"s stay. A correction ("I meant
fantasy") replaces the kind and keeps the rest; a tone ("funny") or a narrowing ("historical ones")
refines.
"""

from __future__ import annotations

from vibeshelf.agent.intent import TONE_SHELVES, Intent


class RequestTracker:
    def __init__(self) -> None:
        self.kinds: set[str] = set()

    def observe(self, intent: Intent) -> Intent:
        """``intent`` with ``new_request`` set when it switches the kind of book; updates the kinds."""
        asked = set(intent.genres_include) - TONE_SHELVES
        if intent.reset or intent.new_request:
            self.kinds = asked
        elif asked and self.kinds and not asked & self.kinds and (intent.correction or not intent.nudge):
            if not intent.correction:
                intent.new_request = True
            self.kinds = asked
        else:
            self.kinds |= asked
        return intent
