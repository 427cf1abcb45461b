"""Second opinions from the recogniser where a dictionary term was probably said but not written.

After the first pass and the reading-based correction, each utterance is searched for stretches
that sound like a term (:class:`dictionaries.suspects.SuspectFinder`). The words around such a
stretch are decoded again with the terms in Whisper's prompt; the new words replace the old only
if the recogniser now writes a suspected term (after correction) and the new words still sound
like the old ones, so a prompt can neither invent a term nor rewrite a sentence.

Re-decoding costs recognition time, so it has a budget: a share of the first pass's recognition
time, spent on the most term-like utterances first. Every change is recorded as a correction
(rule ``"redecode"``) that the editor can undo like any other.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rapidfuzz.distance import Levenshtein

from dictionaries.correction import Corrector
from dictionaries.reading import reading_of
from dictionaries.suspects import Suspect, SuspectFinder
from dictionaries.terms import fold_voicing
from transcriber.asr import RecognizedSegment
from transcriber.japanese_text import collapse_repeated_words, tidy_words, words_to_text
from transcriber.terminology import rewrite_words
from transcriber.transcript import Correction, Segment, Word
from transcriber.vad import Span

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d+")

REDECODE_SHARE = 0.10  # of the first pass's recognition time
MIN_SOUND_KEPT = 0.5  # similarity of the new words' reading to the old words' reading (0..1)
EDGE = 0.15  # seconds of audio kept either side of the words decoded again


@dataclass(frozen=True)
class _Window:
    first: int  # word indices in the segment, inclusive
    last: int
    suspects: list[Suspect]


def _window(segment: Segment, suspects: list[Suspect]) -> _Window | None:
    """The whole utterance: Whisper needs the sentence around a word to write it well (decoding a
    few words alone, it writes the prompt back or drops the words around the term)."""
    if words_to_text(segment.words) != segment.text:
        return None  # words and text disagree: nothing safe to splice
    return _Window(0, len(segment.words) - 1, suspects)


def _sounds_kept(old: str, new: str) -> float:
    return 1.0 - Levenshtein.normalized_distance(fold_voicing(reading_of(old)), fold_voicing(reading_of(new)))


def _numbers(text: str) -> list[str]:
    return _DIGITS.findall(unicodedata.normalize("NFKC", text).replace(",", ""))


def _char_start(words: list[Word], index: int) -> int:
    joined = "".join(w.text for w in words)
    return len("".join(w.text for w in words[:index])) - (len(joined) - len(joined.lstrip()))


class WindowDecoder(Protocol):
    def decode_window(self, audio: np.ndarray, window: Span, prompt: str) -> list[RecognizedSegment]: ...


class TermRedecoder:
    """Built per recording's dictionary; :meth:`run` works on the corrected segments."""

    def __init__(self, corrector: Corrector, recognizer: WindowDecoder) -> None:
        self.corrector = corrector
        self.finder = SuspectFinder(corrector.terms)
        self.recognizer = recognizer

    def run(
        self, audio: np.ndarray, segments: list[Segment], corrections: list[Correction], budget: float
    ) -> tuple[list[Segment], list[Correction]]:
        """Segments with re-decoded words where the recogniser confirmed a term; corrections kept in step."""
        queue = []
        for number, segment in enumerate(segments):
            suspects = self.finder.find(segment.text) if segment.words else []
            if suspects:
                queue.append((max(s.similarity for s in suspects), number, suspects))
        queue.sort(key=lambda q: (-q[0], q[1]))
        out, records = list(segments), list(corrections)
        spent = 0.0
        tried = kept = 0
        for _, number, suspects in queue:
            if spent >= budget:
                break
            window = _window(out[number], suspects)
            if window is None:
                continue
            started = time.perf_counter()
            replaced = self._second_opinion(audio, out[number], window)
            spent += time.perf_counter() - started
            tried += 1
            if replaced is None:
                continue
            out[number], records = self._splice(out[number], number, window, replaced, records)
            kept += 1
        if queue:
            log.info(
                "term re-decoding: %d of %d suspect utterances tried, %d kept, %.1f s", tried, len(queue), kept, spent
            )
        return out, records

    def _second_opinion(self, audio: np.ndarray, segment: Segment, window: _Window) -> list[Word] | None:
        old = segment.words[window.first : window.last + 1]
        span = Span(max(0.0, old[0].start - EDGE), old[-1].end + EDGE)
        prompt = "、".join(dict.fromkeys(s.term.term for s in window.suspects)) + "。"
        decoded = self.recognizer.decode_window(audio, span, prompt)
        heard = tidy_words(collapse_repeated_words([w for raw in decoded for w in raw.words if w.text.strip()]))
        if not heard:
            return None
        before = "".join(w.text for w in old)
        text, edits = self.corrector.correct("".join(w.text for w in heard))
        if not any(s.term.term in text for s in window.suspects):
            return None
        if _numbers(text) != _numbers(before):
            return None  # amounts and dates are never traded for a term (8,250億円 → 8,255円)
        if _sounds_kept(before, text) < MIN_SOUND_KEPT:
            return None
        return rewrite_words(heard, edits)

    @staticmethod
    def _splice(
        segment: Segment, number: int, window: _Window, new: list[Word], records: list[Correction]
    ) -> tuple[Segment, list[Correction]]:
        old_words = segment.words
        start = _char_start(old_words, window.first)
        before = "".join(w.text for w in old_words[window.first : window.last + 1])
        words = old_words[: window.first] + new + old_words[window.last + 1 :]
        text = words_to_text(words)
        at = _char_start(words, window.first)
        after = "".join(w.text for w in new)
        shift = len(after) - len(before)
        kept: list[Correction] = []
        for record in records:
            if record.segment != number or record.end <= start:
                kept.append(record)
            elif record.start >= start + len(before):  # after the window: moves with the new length
                kept.append(record.model_copy(update={"start": record.start + shift, "end": record.end + shift}))
            # a correction inside the window is superseded by the re-decoded words
        term = next(s.term.term for s in window.suspects if s.term.term in after)
        kept.append(
            Correction(
                segment=number,
                start=max(0, at),
                end=max(0, at) + len(after.strip()),
                before=before.strip(),
                after=after.strip(),
                term=term,
                rule="redecode",
            )
        )
        kept.sort(key=lambda r: (r.segment, r.start))
        start_time = min(segment.start, words[0].start)
        end_time = max(segment.end, words[-1].end)
        return segment.model_copy(update={"words": words, "text": text, "start": start_time, "end": end_time}), kept
