"""The dictionary's terms by reading, as the correction passes look them up."""

from __future__ import annotations

from dictionaries.passes.rules import MIN_READING
from dictionaries.reading import reading_of
from dictionaries.terms import Term


class ReadingIndex:
    """Every term's reading (given, or the analyser's for its written form) of MIN_READING kana or
    more, and the term each reading names; None for a reading two terms share (同音異義): sound
    cannot tell them apart, so neither is applied."""

    def __init__(self, terms: list[Term]) -> None:
        self.readings: list[tuple[str, Term]] = []  # in the terms' order, shared readings included
        self.exact: dict[str, Term | None] = {}
        for term in terms:
            reading = term.reading or reading_of(term.term)
            if len(reading) < MIN_READING:
                continue
            self.readings.append((reading, term))
            known = self.exact.get(reading, term)
            if known is None or known.term != term.term:
                self.exact[reading] = None
            else:
                self.exact[reading] = term
        self.max_reading = max((len(r) for r in self.exact), default=0)

    def unique(self, min_length: int) -> list[tuple[str, Term]]:
        """(reading, term) for readings of ``min_length`` kana or more that name one term."""
        return [
            (reading, term) for reading, term in self.exact.items() if term is not None and len(reading) >= min_length
        ]
