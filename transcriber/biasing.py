"""Second opinions from the recogniser where a dictionary term was probably said but not written.

After the first pass and the reading-based correction, each utterance is searched for stretches
that sound like a term (:class:`dictionaries.suspects.SuspectFinder`). Those utterances are decoded
again with the suspected terms in Whisper's prompt (Whisper leans towards words it has just "seen").
Where Whisper now writes a term at the suspected place, only that stretch is replaced by the term
(古代ゴミ → 粗大ごみ); the rest of the utterance keeps its first-pass words, so a second opinion can
neither rewrite a sentence nor change a number.

Re-decoding costs recognition time, so it has a budget: a share of the first pass's recognition
time, spent on the most term-like utterances first. Whisper's encoder costs the same for 3 s as for
30 s, so suspected utterances are packed side by side, with short silences between them, into
windows of up to 28 s and decoded together. Every change is recorded as a correction (rule
``"redecode"``) that the editor can undo like any other.
"""

from __future__ import annotations

import difflib
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from rapidfuzz.distance import Levenshtein

from dictionaries.correction import Corrector, Edit
from dictionaries.reading import reading_of
from dictionaries.suspects import Suspect, SuspectFinder
from dictionaries.terms import fold_voicing
from transcriber.asr import RecognizedSegment
from transcriber.audio import SAMPLE_RATE
from transcriber.japanese_text import tidy_words, words_to_text
from transcriber.terminology import apply_edits
from transcriber.transcript import Correction, Segment, Word
from transcriber.vad import Span

log = logging.getLogger(__name__)

REDECODE_SHARE = 0.05  # of the first pass's recognition time: keeps a 5,000-term dictionary within 1.1x
MAX_PACK = 28.0  # seconds of audio decoded together (Whisper's window is 30 s)
GAP = 0.0  # seconds of silence between packed stretches: after a silence Whisper often stops
CONTEXT = 2.5  # seconds of the utterance decoded again either side of the suspected words
EDGE = 0.15  # seconds of audio kept either side of the words decoded again
MIN_SOUND_KEPT = 0.5  # similarity of the second opinion's reading to the first's, per utterance
PROMPT = "{}。"


class WindowDecoder(Protocol):
    def decode_window(self, audio: np.ndarray, window: Span, prompt: str) -> list[RecognizedSegment]: ...


@dataclass
class _Piece:
    number: int  # the utterance's index
    suspects: list[Suspect]
    source: Span  # in the recording
    first: int  # the utterance's words decoded again, inclusive
    last: int
    at: int  # where word ``first`` starts in the utterance's text
    retried: bool = False
    offset: float = 0.0  # where it starts in the packed audio
    words: list[Word] = field(default_factory=list)  # the second opinion


def _piece(number: int, segment: Segment, suspects: list[Suspect]) -> _Piece:
    """The suspects' words with up to CONTEXT seconds of the utterance either side: enough sentence
    for Whisper to write a word well, and no more audio than that to pay for."""
    starts, cursor = [], 0
    for word in segment.words:
        starts.append(cursor)
        cursor += len(word.text)
    inside = [
        k
        for k, word in enumerate(segment.words)
        if any(starts[k] < s.end and s.start < starts[k] + len(word.text) for s in suspects)
    ] or [0, len(segment.words) - 1]
    begin = segment.words[inside[0]].start - CONTEXT
    end = segment.words[inside[-1]].end + CONTEXT
    first = next(k for k, w in enumerate(segment.words) if w.end > begin)
    last = max(k for k, w in enumerate(segment.words) if w.start < end)
    source = Span(max(0.0, segment.words[first].start - EDGE), segment.words[last].end + EDGE)
    return _Piece(number, suspects, source, first, last, starts[first])


def _sounds_kept(old: str, new: str) -> float:
    return 1.0 - Levenshtein.normalized_distance(fold_voicing(reading_of(old)), fold_voicing(reading_of(new)))


def _old_place(old: str, new: str, start: int, end: int) -> tuple[int, int]:
    """Where ``new[start:end]`` sits in ``old``, by a character alignment of the two texts."""

    def place(index: int, at_end: bool) -> int:
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if j1 <= index < j2 or (at_end and index == j2):
                if tag == "equal":
                    return i1 + (index - j1)
                return i2 if at_end else i1
        return len(old)

    return place(start, False), place(end, True)


def _confirmed(old: str, new: str, suspect: Suspect, shift: int) -> bool:
    """The second opinion writes the suspected term where the first had the suspected stretch
    (``old`` starts ``shift`` characters into the utterance's text)."""
    term = suspect.term.term
    at = new.find(term)
    while at >= 0:
        begin, end = _old_place(old, new, at, at + len(term))
        if begin + shift < suspect.end and suspect.start < end + shift:
            return True
        at = new.find(term, at + 1)
    return False


class TermRedecoder:
    """Built per recording's dictionary; :meth:`run` works on the corrected segments."""

    def __init__(self, corrector: Corrector, recognizer: WindowDecoder) -> None:
        self.corrector = corrector
        self.finder = SuspectFinder(corrector.terms)
        self.recognizer = recognizer

    def run(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        corrections: list[Correction],
        budget: float,
        window_cost: float,
    ) -> tuple[list[Segment], list[Correction]]:
        """Segments with the terms the recogniser confirmed; corrections kept in step.

        Windows are decoded while the time spent plus what the next window should take stays
        within ``budget`` seconds: ``window_cost``, or what the last took if that was more (a
        window costs about the same whatever its length: Whisper's encoder reads 30 s).
        """
        queue = []
        for number, segment in enumerate(segments):
            suspects = self.finder.find(segment.text) if segment.words else []
            if suspects and words_to_text(segment.words) == segment.text:
                queue.append((max(s.similarity for s in suspects), _piece(number, segment, suspects)))
        queue.sort(key=lambda q: (-q[0], q[1].number))
        pending = [piece for _, piece in queue if piece.source.length <= MAX_PACK]
        out, records = list(segments), list(corrections)
        spent, last, tried, kept = 0.0, 0.0, 0, 0
        while pending and spent + max(last, window_cost) <= budget:
            pack = self._pack(pending)
            started = time.perf_counter()
            self._second_opinion(audio, pack)
            last = time.perf_counter() - started
            spent += last
            tried += len(pack)
            # Whisper may stop before the last stretches of a window: those get one more try.
            again = [piece for piece in pack[1:] if not piece.words and not piece.retried]
            for piece in again:
                piece.retried = True
            pending += again
            for piece in pack:
                edits = self._edits(out[piece.number], piece)
                if edits:
                    out[piece.number], records = self._apply(out[piece.number], piece.number, edits, records)
                    kept += len(edits)
        if queue:
            log.info(
                "term re-decoding: %d of %d suspects tried, %d terms taken, %.1f s", tried, len(queue), kept, spent
            )
        return out, records

    @staticmethod
    def _pack(pending: list[_Piece]) -> list[_Piece]:
        """The most term-like utterances that fit in one window, in the order they were said."""
        pack: list[_Piece] = []
        filled = 0.0
        for piece in list(pending):
            length = piece.source.length + (GAP if pack else 0.0)
            if filled + length > MAX_PACK:
                continue
            filled += length
            pack.append(piece)
            pending.remove(piece)
        pack.sort(key=lambda p: p.number)
        offset = 0.0
        for piece in pack:
            piece.offset = offset
            offset += piece.source.length + GAP
        return pack

    def _second_opinion(self, audio: np.ndarray, pack: list[_Piece]) -> None:
        """Decode the packed utterances together; each piece gets the words heard in its place."""
        parts: list[np.ndarray] = []
        for piece in pack:
            if parts:
                parts.append(np.zeros(int(GAP * SAMPLE_RATE), dtype=audio.dtype))
            parts.append(audio[int(piece.source.start * SAMPLE_RATE) : int(piece.source.end * SAMPLE_RATE)])
        packed = np.concatenate(parts)
        terms = dict.fromkeys(s.term.term for piece in pack for s in piece.suspects)
        prompt = PROMPT.format("、".join(terms))
        heard = [
            w
            for raw in self.recognizer.decode_window(packed, Span(0.0, len(packed) / SAMPLE_RATE), prompt)
            for w in raw.words
        ]
        for word in tidy_words([w for w in heard if w.text.strip()]):
            middle = (word.start + word.end) / 2
            piece = min(pack, key=lambda p: max(p.offset - middle, middle - p.offset - p.source.length, 0.0))
            shift = piece.source.start - piece.offset
            piece.words.append(
                word.model_copy(update={"start": max(0.0, word.start + shift), "end": max(0.0, word.end + shift)})
            )

    def _edits(self, segment: Segment, piece: _Piece) -> list[Edit]:
        """The suspected stretches the second opinion confirmed, as edits of the first-pass text."""
        if not piece.words:
            return []
        new, _ = self.corrector.correct(words_to_text(piece.words))
        old = "".join(w.text for w in segment.words[piece.first : piece.last + 1])
        if _sounds_kept(old, new) < MIN_SOUND_KEPT:
            return []
        text = segment.text
        return [
            Edit(s.start, s.end, text[s.start : s.end], s.term.term, s.term.term, "redecode")
            for s in piece.suspects
            if _confirmed(old, new, s, piece.at)
        ]

    @staticmethod
    def _apply(
        segment: Segment, number: int, edits: list[Edit], records: list[Correction]
    ) -> tuple[Segment, list[Correction]]:
        """The edits applied to the segment's text and words; earlier corrections moved or superseded."""

        def moved(position: int) -> int:
            return position + sum(len(e.after) - (e.end - e.start) for e in edits if e.end <= position)

        kept: list[Correction] = []
        for record in records:
            if record.segment != number:
                kept.append(record)
            elif not any(record.start < e.end and e.start < record.end for e in edits):
                kept.append(record.model_copy(update={"start": moved(record.start), "end": moved(record.end)}))
            # a correction inside a re-decoded stretch is superseded by it
        fixed, added = apply_edits(segment, number, edits)
        return fixed, sorted(kept + added, key=lambda r: (r.segment, r.start))
