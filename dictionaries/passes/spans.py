"""What the correction passes hand on: edits, spans found, and the one rule for overlapping spans.

A pass may not cut into a span an earlier pass took: one it corrected, or one that already reads as
a term (kept whole, so no later pass rewrites a correct term into a shorter or another one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dictionaries.reading import Token
from dictionaries.terms import Term


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets of ``before`` in the text given to :meth:`Corrector.correct`
    end: int
    before: str
    after: str
    term: str
    rule: str  # "alias" or "reading"


@dataclass(frozen=True)
class Span:
    """Where a pass found a term: character offsets in the text, and the token the span ends in
    (perhaps inside it)."""

    start: int
    last_token: int
    end: int
    term: Term


def overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Two spans of text share a character."""
    return start < other_end and other_start < end


class Taken:
    """The spans earlier passes took."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.spans = list(spans)

    def overlaps(self, start: int, end: int) -> bool:
        return any(overlaps(start, end, a, b) for a, b in self.spans)

    def add(self, start: int, end: int) -> None:
        self.spans.append((start, end))

    def without(self, spans: set[tuple[int, int]]) -> Taken:
        return Taken(span for span in self.spans if span not in spans)

    def claim(self, text: str, found: Span) -> Edit | None:
        """Take ``found``: the edit that writes its term there, or None where the text already reads so."""
        self.add(found.start, found.end)
        before = text[found.start : found.end]
        if before == found.term.term:
            return None
        return Edit(found.start, found.end, before, found.term.term, found.term.term, "reading")


Match = Callable[[str, list[Token], int, Taken], Span | None]


def scan(text: str, tokens: list[Token], taken: Taken, match: Match) -> list[Edit]:
    """Edits where ``match`` finds a term starting at a token, left to right.

    A span that already reads as the term is kept whole like a corrected one, so no later span may
    cut into it; a span overlapping one taken before is passed over token by token.
    """
    edits: list[Edit] = []
    i = 0
    while i < len(tokens):
        found = match(text, tokens, i, taken)
        if found is None or taken.overlaps(found.start, found.end):
            i += 1
            continue
        edit = taken.claim(text, found)
        if edit is not None:
            edits.append(edit)
        i = found.last_token + (1 if found.end == tokens[found.last_token].end else 0)
    return edits
