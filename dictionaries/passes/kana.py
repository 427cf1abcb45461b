"""Terms spelled out in kana, found even where the analyser cut the kana elsewhere (ひら|の|くの)."""

from __future__ import annotations

import re

from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.rules import MIN_READING
from dictionaries.passes.spans import Edit, Taken
from dictionaries.reading import Token
from dictionaries.terms import Term
from dictionaries.text import HIRAGANA, KATAKANA, to_hiragana

MIN_KANA_READING = 4  # kana spelled-out names matched inside longer kana runs
_KANA_RUN = re.compile(f"[{HIRAGANA}{KATAKANA}ー]+")
_PARTICLES = set("のにをはがでとへやもか")


class KanaPass:
    """Exact readings only, starting where a morpheme starts and ending where one ends or a particle
    follows, so the match is a word of its own and not the middle of another.

    What it corrects is taken; a term already written right is not (the token passes after it may
    still find a term over it).
    """

    def __init__(self, index: ReadingIndex) -> None:
        self._index = index

    def edits(self, text: str, tokens: list[Token], taken: Taken) -> list[Edit]:
        starts = {t.start for t in tokens}
        ends = {t.end for t in tokens}
        edits: list[Edit] = []
        for run in _KANA_RUN.finditer(text):
            reading = to_hiragana(run.group())
            position = 0
            while position < len(reading):
                found = self._term_at(text, run, reading, position, starts, ends)
                if found is None:
                    position += 1
                    continue
                length, term = found
                start = run.start() + position
                before = text[start : start + length]
                if before != term.term and not taken.overlaps(start, start + length):
                    edits.append(Edit(start, start + length, before, term.term, term.term, "reading"))
                position += length
        for edit in edits:
            taken.add(edit.start, edit.end)
        return edits

    def _term_at(
        self, text: str, run: re.Match[str], reading: str, position: int, starts: set[int], ends: set[int]
    ) -> tuple[int, Term] | None:
        """The longest term read from ``position`` of the kana run, with its length."""
        if run.start() + position not in starts:
            return None
        # A 3-kana name counts only as a whole word: at the start of the kana and
        # followed by a particle or the end of the kana (くまたの, not やくまたび).
        shortest = MIN_READING if position == 0 else MIN_KANA_READING
        for length in range(min(len(reading) - position, self._index.max_reading), shortest - 1, -1):
            term = self._index.exact.get(reading[position : position + length])
            stop = run.start() + position + length
            follows = text[stop : stop + 1]
            whole = follows in _PARTICLES or stop == run.end()
            if term is None or not (whole or (length >= MIN_KANA_READING and stop in ends)):
                continue
            return length, term
        return None
