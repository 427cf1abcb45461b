"""Long terms heard with a sound dropped or added, or with an unreadable kanji (see :mod:`dictionaries.fuzzy`).

The last and loosest pass: only where no other pass matched, never across a number or punctuation,
never starting on a particle, a verb at an edge only as a hiragana piece standing on its own and then
at most one sound off, a particle inside the span must sound exactly as in the term, and the span
must hold a kanji or katakana word.
"""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz.distance import Levenshtein

from dictionaries.fuzzy import WILDCARD, align
from dictionaries.kanji_readings import on_readings
from dictionaries.passes.index import ReadingIndex
from dictionaries.passes.rules import (
    HIRAGANA_CHAR,
    KANJI_CHAR,
    MAX_SPAN_TOKENS,
    MIN_NEAR_READING,
    NEVER_AT_EDGE,
    NEVER_INSIDE,
    after_number,
    allowed_distance,
)
from dictionaries.passes.spans import Edit, Span, Taken, scan
from dictionaries.reading import MAX_COMPOSED_KANJI, Token, composed_readings, other_readings
from dictionaries.terms import Term
from dictionaries.text import fold_voicing

MIN_FUZZY_READING = 7  # a sound dropped, added or unreadable only in long terms
MAX_LOOSE_READINGS = 3  # per token
MAX_LOOSE_VARIANTS = 16  # per span
MIN_FUZZY_SHARE = 0.65  # of a term's kana that must be heard as they sound


def loose_readings(token: Token) -> tuple[str, ...]:
    """A token's reading for the loose pass (``WILDCARD`` where the analyser has none), and for a
    short kanji word that is no ordinary word (a name, an unknown word, a lone kanji) also its
    kanji read one by one by their on-readings, and its other readings."""
    own = WILDCARD if KANJI_CHAR.search(token.reading) else token.reading
    if token.common or not KANJI_CHAR.search(token.surface) or len(token.surface) > MAX_COMPOSED_KANJI:
        return (own,)
    composed = composed_readings(token.surface, on_readings, WILDCARD, MAX_LOOSE_VARIANTS)
    known = other_readings(token.surface) if len(token.surface) <= 2 else ()
    return tuple(dict.fromkeys((own, *composed, *known)))[:MAX_LOOSE_READINGS]


def _spelled_out_edge(tokens: list[Token], i: int, at_start: bool) -> bool:
    """A verb-looking piece at the edge of a hiragana run that stands on its own (、きたく混乱者,
    つなみひなびるの): Whisper spelling an unfamiliar word by sound, which the analyser then cuts
    into verbs. A conjugation attached to a kanji stem (来たく, 避難する) is never one."""
    token = tokens[i]
    if not token.surface or not all(HIRAGANA_CHAR.match(ch) for ch in token.surface):
        return False
    neighbour = i - 1 if at_start else i + 1
    if not 0 <= neighbour < len(tokens):
        return True
    other = tokens[neighbour]
    if other.pos in {"助詞", "補助記号", "空白"}:
        return True
    return at_start and not HIRAGANA_CHAR.match(other.surface[-1:] or " ")


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


class LoosePass:
    def __init__(self, index: ReadingIndex) -> None:
        self._max_reading = index.max_reading
        # Long terms by first and by last kana: a loose match keeps at least one end.
        self._by_edge: dict[str, list[tuple[str, Term]]] = defaultdict(list)
        for reading, term in index.unique(MIN_FUZZY_READING):
            self._by_edge[reading[0]].append((reading, term))
            self._by_edge[reading[-1]].append((reading, term))

    def edits(self, text: str, tokens: list[Token], taken: Taken) -> list[Edit]:
        if not self._by_edge:
            return []
        return scan(text, tokens, taken, self.match)

    def match(self, text: str, tokens: list[Token], i: int, taken: Taken) -> Span | None:
        if tokens[i].pos == "助詞" or after_number(tokens, i):
            return None
        spelled_start = tokens[i].pos in NEVER_AT_EDGE
        if spelled_start and not _spelled_out_edge(tokens, i, at_start=True):
            return None
        # What was heard, as the analyser reads it and with short kanji words re-read by their
        # on-readings (両東: りょうひがし, りょうとう); with where particles' sounds sit in each.
        variants: list[tuple[str, tuple[int, ...]]] = [("", ())]
        written = False
        best: tuple[int, int, int, Term] | None = None  # (cost, -length, end index, term)
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS + 1)):
            token = tokens[j]
            if token.pos in NEVER_INSIDE or token.is_number:
                break
            particle = token.pos == "助詞"
            grown = {
                heard + option: must + (tuple(range(len(heard), len(heard) + len(option))) if particle else ())
                for heard, must in variants
                for option in loose_readings(token)
            }
            variants = list(grown.items())[:MAX_LOOSE_VARIANTS]
            written = written or bool(KANJI_CHAR.search(token.surface)) or token.surface != token.reading
            if min(len(h.replace(WILDCARD, "")) for h, _ in variants) > self._max_reading + 2:
                break
            if particle or not written:
                continue
            spelled_end = token.pos in NEVER_AT_EDGE
            if spelled_end and not _spelled_out_edge(tokens, j, at_start=False):
                continue
            for heard, must_match in variants:
                for cost, term in self._candidates(heard, list(must_match)):
                    if (spelled_start or spelled_end) and cost > 1:
                        continue  # a kana "verb" at the edge is taken for a spelled-out term only when close
                    key = (cost, -(j - i), j, term)
                    if best is None or key[:2] < best[:2]:
                        best = key
        return Span(tokens[i].start, best[2], tokens[best[2]].end, best[3]) if best else None

    def _candidates(self, heard: str, must_match: list[int]) -> list[tuple[int, Term]]:
        wildcards = heard.count(WILDCARD)
        known = heard.replace(WILDCARD, "")
        if len(known) < MIN_NEAR_READING:
            return []
        pool = self._by_edge.get(heard[0], []) + self._by_edge.get(heard[-1], [])
        out: list[tuple[int, Term]] = []
        seen: set[str] = set()
        for reading, term in pool:
            if reading in seen:
                continue
            seen.add(reading)
            budget = allowed_distance(len(reading))
            slack = budget + 3 * wildcards
            if not len(known) - budget <= len(reading) <= len(known) + slack:
                continue
            folded = fold_voicing(known), fold_voicing(reading)
            if (not wildcards and known in reading) or Levenshtein.distance(*folded, score_cutoff=slack) > slack:
                continue  # a word heard whole is not stretched into a longer term (保険年金 → 保険年金課)
            aligned = align(heard, reading, budget)
            if aligned is None or aligned.matched < MIN_FUZZY_SHARE * len(reading):
                continue
            if not wildcards and aligned.cost > 1 and _is_subsequence(*folded):
                continue  # only sounds added, more than one: words heard whole (維持向上 is not 舞洲工場)
            if all(aligned.exact[k] for k in must_match):
                out.append((aligned.cost, term))
        return out
