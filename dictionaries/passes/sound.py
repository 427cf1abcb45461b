"""Runs of morphemes whose reading equals a term's reading, or nearly for long readings (デンガチャや
→ 天下茶屋): near matches differ only by substituted sounds, never by a sound added or missing, and
never in a particle's sound or a number."""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz.distance import Hamming

from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.rules import (
    HIRAGANA_CHAR,
    KANA_CHAR,
    MAX_SPAN_TOKENS,
    MIN_NEAR_READING,
    MIN_READING,
    NEVER_AT_EDGE,
    NEVER_INSIDE,
    after_number,
    allowed_distance,
)
from dictionaries.passes.spans import Span, Taken
from dictionaries.reading import Token, other_readings
from dictionaries.terms import Term
from dictionaries.text import to_hiragana


def _particle_before_kanji(tokens: list[Token], i: int) -> bool:
    """A particle followed by a kanji word (の|即) starts no term; one followed by more kana
    (が|もう) may be a name spelled out in hiragana."""
    following = tokens[i + 1].surface[:1] if i + 1 < len(tokens) else ""
    return (
        tokens[i].pos == "助詞" and not HIRAGANA_CHAR.match(following or " ") and not KANA_CHAR.match(following or " ")
    )


def _shares_half(written: str, term: str) -> bool:
    """Half of the term's characters (kana as hiragana) also appear in the written span."""
    pool = list(to_hiragana(written))
    shared = 0
    for ch in to_hiragana(term):
        if ch in pool:
            pool.remove(ch)
            shared += 1
    return 2 * shared >= len(term)


class SoundPass:
    def __init__(self, index: ReadingIndex) -> None:
        self._index = index
        self._near: dict[tuple[str, int], list[tuple[str, Term]]] = defaultdict(list)
        for reading, term in index.readings:
            if len(reading) >= MIN_NEAR_READING - 1:
                # One substituted sound leaves the first or the last kana intact: index both.
                self._near[(reading[0], len(reading))].append((reading, term))
                self._near[(reading[-1], -len(reading))].append((reading, term))

    def best_term(self, reading: str, written: str | None = None) -> tuple[Term, str] | None:
        """The term that sounds like ``reading``, with its reading; exact matches first.

        ``written``: the span's text when it is more than one token; a 5-kana term one sound off
        is taken only if the span is no word the dictionary knows and shares half the term's
        characters (古代ゴミ → 粗大ごみ: 大, ご, み), as a word one sound from a term is usually a
        word of its own (重要 and 十三, 市役所 and 区役所).
        """
        exact = self._index.exact.get(reading)
        if exact is not None:
            return exact, reading
        allowed = allowed_distance(len(reading))
        short = len(reading) == MIN_NEAR_READING - 1 and written is not None and not other_readings(written)
        if not allowed and not short:
            return None
        allowed = allowed or 1
        best: tuple[Term, str, int] | None = None
        candidates = self._near.get((reading[0], len(reading)), []) + self._near.get((reading[-1], -len(reading)), [])
        for candidate, term in candidates:
            if short and written is not None and not _shares_half(written, term.term):
                continue
            distance = Hamming.distance(reading, candidate, score_cutoff=allowed)
            if distance <= allowed and (best is None or distance < best[2]):
                best = (term, candidate, distance)
        return (best[0], best[1]) if best else None

    def match(self, text: str, tokens: list[Token], i: int, taken: Taken) -> Span | None:
        """The longest span starting at token ``i`` that sounds like a term, unless it overlaps a span taken."""
        if tokens[i].pos in NEVER_AT_EDGE or _particle_before_kanji(tokens, i):
            return None
        reading = ""
        has_number = False
        particles: list[range] = []  # where particles sit in ``reading``
        best: tuple[int, Term, int] | None = None
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS)):
            token = tokens[j]
            if token.pos in NEVER_INSIDE:
                break
            has_number = has_number or token.is_number
            if token.pos == "助詞":
                particles.append(range(len(reading), len(reading) + len(token.reading)))
            reading += token.reading
            if len(reading) > self._index.max_reading + 2:
                break
            if token.pos in NEVER_AT_EDGE or len(reading) < MIN_READING:
                continue
            match = self.best_term(reading, text[tokens[i].start : token.end] if j > i else None)
            if match is None:
                continue
            term, heard_as = match
            differs = [k for k, (a, b) in enumerate(zip(reading, heard_as, strict=True)) if a != b]
            # A near match may not change a number, nor a particle's sound (対象に is not 大正区,
            # but デンガチャや is 天下茶屋: the や matches exactly).
            if differs and (has_number or after_number(tokens, i) or any(k in r for k in differs for r in particles)):
                continue
            if best is None or len(differs) <= best[2]:
                best = (j + 1, term, len(differs))
        if best is None:
            return None
        end_index, term, _ = best
        start, end = tokens[i].start, tokens[end_index - 1].end
        if taken.overlaps(start, end):
            return None
        return Span(start, end_index - 1, end, term)
