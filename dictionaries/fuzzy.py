"""Loose sound matching for long terms: a sound dropped or added, and kanji the analyser cannot read.

Whisper base drops or adds a sound in long unfamiliar words (北困難者 for 帰宅困難者, 育大ゴミ for
粗大ごみ) and writes some with kanji that have no reading of their own in the analyser's dictionary
(保健療 for 保険料: 療 alone is not a word there). The exact and same-length matching of
:mod:`dictionaries.correction` cannot see these. Here a heard reading is aligned with a term's
reading by a small weighted edit distance where

- a substituted, added or dropped kana costs 1;
- a kanji without a reading (written ``WILDCARD`` in the heard reading) stands for 1 to 3 kana at
  a cost of 1;
- kana that sound alike in speech cost nothing (は/わ, へ/え, を/お as particles; ぢ/じ, づ/ず).

The caller decides what budget a term's length allows and which heard positions must match.
"""

from __future__ import annotations

from dataclasses import dataclass

from dictionaries.text import fold_voicing

WILDCARD = "＊"
MAX_WILDCARD_KANA = 3
_ALIKE = {frozenset(pair) for pair in ("はわ", "へえ", "をお", "ぢじ", "づず")}


def sounds_alike(a: str, b: str) -> bool:
    return a == b or frozenset((a, b)) in _ALIKE or fold_voicing(a) == fold_voicing(b)


@dataclass(frozen=True)
class Alignment:
    cost: int
    exact: tuple[bool, ...]  # per heard character: matched a term kana that sounds the same
    matched: int  # term kana matched by sound (not by a wildcard or a substitution)


def align(heard: str, term: str, budget: int) -> Alignment | None:
    """The cheapest alignment of all of ``heard`` with all of ``term`` within ``budget``, if any."""
    if abs(len(heard) - len(term)) > budget + MAX_WILDCARD_KANA * heard.count(WILDCARD):
        return None
    rows, cols = len(heard) + 1, len(term) + 1
    big = budget + 1
    cost = [[big] * cols for _ in range(rows)]
    back: list[list[tuple[int, int, bool] | None]] = [[None] * cols for _ in range(rows)]
    cost[0][0] = 0
    for i in range(rows):
        for j in range(cols):
            here = cost[i][j]
            if here > budget:
                continue
            steps: list[tuple[int, int, int, bool]] = []  # (next i, next j, added cost, exact)
            if i < len(heard) and heard[i] == WILDCARD:
                steps += [(i + 1, j + k, 1, False) for k in range(1, MAX_WILDCARD_KANA + 1) if j + k < cols]
            elif i < len(heard) and j < len(term):
                alike = sounds_alike(heard[i], term[j])
                steps.append((i + 1, j + 1, 0 if alike else 1, alike))
            if i < len(heard) and heard[i] != WILDCARD:
                steps.append((i + 1, j, 1, False))  # a heard kana the term does not have
            if j < len(term):
                steps.append((i, j + 1, 1, False))  # a term kana that was not heard
            for ni, nj, add, alike_step in steps:
                if here + add < cost[ni][nj]:
                    cost[ni][nj] = here + add
                    back[ni][nj] = (i, j, alike_step)
    if cost[-1][-1] > budget:
        return None
    exact = [False] * len(heard)
    matched = 0
    i, j = rows - 1, cols - 1
    while (i, j) != (0, 0):
        step = back[i][j]
        assert step is not None
        pi, pj, was_exact = step
        if was_exact:
            exact[pi] = True
            matched += 1
        i, j = pi, pj
    return Alignment(cost[-1][-1], tuple(exact), matched)
