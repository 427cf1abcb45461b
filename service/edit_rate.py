"""How many characters the clerks changed between the machine transcript and the minutes (the
dashboard's edit rate), in bounded work on every save.

The edit distance of two texts costs their lengths multiplied (bit-parallel: divided by 64): 4 M
characters took 28 s on every save of the minutes, pinning a core. Here:

1. The common beginning and end are cut off (linear): what is left is where the clerks worked.
2. Up to ``EXACT_WORK`` (length × length) the distance of what is left is computed exactly: every
   transcript of ordinary size (a three-hour meeting has about 60,000 characters) gets the exact figure.
3. Beyond it, the texts are compared utterance by utterance: the unchanged utterances are matched
   (difflib on whole utterances), and only each run of changed ones is measured (exactly, up to the
   same work; a longer run pair by pair, each in bounded work, the unpaired counting as added or
   removed). The figure is then an upper bound of the exact distance, equal to it where each change
   stays within the utterances it touched, as a clerk's corrections (splits and merges too) do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import SequenceMatcher

from rapidfuzz.distance import Levenshtein

EXACT_WORK = 3 * 10**8  # length × length (17,000 characters each way): some 5 M machine words, milliseconds
PAIR_CUTOFF = 20_000  # beyond this many changes within one pair of utterances, all of it counts as changed


def _longest(limit: int, holds: Callable[[int], bool]) -> int:
    """The largest n <= limit for which ``holds(n)``, where it holds for every smaller n too."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _common_ends(a: str, b: str) -> tuple[int, int]:
    """Lengths of the common beginning and of the common end (not overlapping), found by halving:
    each comparison runs in C, so 4 M characters take milliseconds."""
    prefix = _longest(min(len(a), len(b)), lambda n: a[:n] == b[:n])
    rest_a, rest_b = a[prefix:], b[prefix:]
    suffix = _longest(min(len(rest_a), len(rest_b)), lambda n: rest_a[len(rest_a) - n :] == rest_b[len(rest_b) - n :])
    return prefix, suffix


def _pair(a: str, b: str) -> int:
    """The distance of two utterances, in bounded work (an upper bound beyond ``PAIR_CUTOFF``)."""
    if len(a) * len(b) <= EXACT_WORK:
        return int(Levenshtein.distance(a, b))
    found = int(Levenshtein.distance(a, b, score_cutoff=PAIR_CUTOFF))
    return found if found <= PAIR_CUTOFF else max(len(a), len(b))


def _by_utterances(before: Sequence[str], after: Sequence[str]) -> int:
    changed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after).get_opcodes():
        if tag == "equal":
            continue
        old, new = before[i1:i2], after[j1:j2]
        joined_old, joined_new = "".join(old), "".join(new)
        if len(joined_old) * len(joined_new) <= EXACT_WORK:  # a few utterances split, merged or edited
            changed += int(Levenshtein.distance(joined_old, joined_new))
            continue
        # A long run of changed utterances: pair them in order; the unpaired count as added or removed.
        paired = min(len(old), len(new))
        changed += sum(_pair(x, y) for x, y in zip(old[:paired], new[:paired], strict=True))
        changed += sum(map(len, old[paired:])) + sum(map(len, new[paired:]))
    return changed


def changed_characters(before: Sequence[str], after: Sequence[str]) -> int:
    """Characters changed (edit distance) from the utterances ``before`` to the utterances ``after``."""
    a, b = "".join(before), "".join(after)
    prefix, suffix = _common_ends(a, b)
    middle_a, middle_b = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    if not middle_a or not middle_b:
        return len(middle_a) + len(middle_b)
    if len(middle_a) * len(middle_b) <= EXACT_WORK:
        return int(Levenshtein.distance(middle_a, middle_b))
    return _by_utterances(before, after)
