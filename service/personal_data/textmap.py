"""Utterances read as one text, and spans of that text mapped back to the utterances.

A name cut by a backchannel (山本|な|子) or an address spread over two turns is found only when the
utterances are read together; the candidates are then cut at the utterance boundaries again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Joined:
    text: str
    starts: tuple[int, ...]  # where each utterance begins in ``text``

    @classmethod
    def of(cls, texts: Sequence[str]) -> Joined:
        starts = []
        at = 0
        for text in texts:
            starts.append(at)
            at += len(text)
        return cls("".join(texts), tuple(starts))

    def pieces(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(utterance, start, end) of each part of the span [start, end) of the joined text."""
        found = []
        index = max(0, bisect_right(self.starts, start) - 1)
        while index < len(self.starts) and self.starts[index] < end:
            begin = self.starts[index]
            stop = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
            lo, hi = max(start, begin), min(end, stop)
            if lo < hi:
                found.append((index, lo - begin, hi - begin))
            index += 1
        return found
