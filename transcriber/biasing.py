"""Second opinions from the recogniser where a dictionary term was probably said but not written.

After the first pass and the reading-based correction, each utterance is searched for stretches
that sound like a term (:class:`dictionaries.suspects.SuspectFinder`). The recogniser then hears
that stretch of audio again (1 s before, 2.5 s after) with the suspected term as its prompt (Whisper
leans towards words it has just "seen") and is asked to go on from the first pass's own words just
before the suspected place. Where it now writes the term first, only that stretch is replaced by
the term (つい契約 → 随意契約); the rest of the utterance keeps its first-pass words, so a second
opinion can neither rewrite a sentence nor change a number.

Asking costs recognition time, so it has a budget: a share of the first pass's recognition time,
spent first on the places that sound most like a term where the first pass was least sure. Each
place costs one encoder pass over 15 s and a few greedy tokens per suspect; packing several
stretches into one window was measured and rejected: the longer prefixes cost what the shared
encoder saved, and Whisper found fewer terms. Every change is recorded as a correction (rule
``"redecode"``) that the editor can undo like any other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dictionaries.correction import Corrector, Edit
from dictionaries.suspects import Suspect, SuspectFinder, sounded_at_start
from dictionaries.terms import Term
from transcriber.audio import SAMPLE_RATE
from transcriber.japanese_text import tidy_spacing, words_to_text
from transcriber.terminology import apply_edits
from transcriber.transcript import Correction, Segment
from transcriber.vad import Span

log = logging.getLogger(__name__)

REDECODE_SHARE = 0.08  # of the first pass's recognition time: keeps a 5,000-term dictionary within 1.1x
MAX_PIECE = 28.0  # seconds: an utterance stretch heard again fits one Whisper window (30 s)
CONTEXT = 2.5  # seconds of the utterance heard again after the suspected words
# ... and before them: each word before is a forced decoder step (~10 ms on CPU, as much as a word
# written). On the dev set's 47 places, 1 s before confirmed the same 12 terms as 2.5 s, in 19 % less time.
LEAD_IN = 1.0
EDGE = 0.15  # seconds of audio kept either side of the words heard again
MAX_TOKENS = 10  # asked of the recogniser after each prefix at most
LEAD_TOKENS = 2  # asked beyond a term's own tokens: a particle before it (は要介護認定), and a spare
MAX_LEAD = 1  # characters Whisper may write before the term (は in まず|は要介護認定)
PROMPT = "{}。"
SURE = 0.9  # a place whose words all had this confidence is not asked about
LIKENESS_FLOOR = 0.5  # a suspect's priority grows with the square of its similarity above this
ALONGSIDE = 0.3  # a suspect is asked about with a likelier one only if its priority is this share of it
MIN_LEARNED = 3  # characters of first-pass words confirmed as a term that other places may reuse


class Continuer(Protocol):
    def continuations(self, audio: np.ndarray, asks: list[tuple[str, str]], max_tokens: int) -> list[str]: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass
class _Piece:
    number: int  # the utterance's index
    suspects: list[Suspect]
    source: Span  # in the recording
    text: str  # the first pass's words heard again
    at: int  # where ``text`` starts in the utterance's text
    priority: float  # asked in order of this, highest first


def _word_starts(segment: Segment) -> list[int]:
    starts, cursor = [], 0
    for word in segment.words:
        starts.append(cursor)
        cursor += len(word.text)
    return starts


def _words_of(segment: Segment, starts: list[int], suspects: list[Suspect]) -> list[int]:
    """The indexes of the words holding any of the suspects' characters."""
    return [
        k
        for k, word in enumerate(segment.words)
        if any(starts[k] < s.end and s.start < starts[k] + len(word.text) for s in suspects)
    ]


def _sureness(segment: Segment, starts: list[int], suspect: Suspect) -> float:
    """How sure the first pass was of the suspected words: the least sure word's confidence."""
    return min((segment.words[k].confidence or 0.5) for k in _words_of(segment, starts, [suspect]) or [0])


def _priority(segment: Segment, starts: list[int], suspect: Suspect) -> float:
    """How worth asking about a suspect is: how much it sounds like the term, times how unsure the
    first pass was of those words. Sound counts far more than doubt: on the dev set Whisper
    confirmed 10 of 17 suspects from 0.7 similarity and none of 31 below (十三 for 住まい, 週, 収入),
    whose words were as unsure; a sure word that merely sounds alike (少し 0.99 for 東海林) is no
    misheard name."""
    return (suspect.similarity - LIKENESS_FLOOR) ** 2 * (1.0 - _sureness(segment, starts, suspect))


def _unsure_suspects(finder: SuspectFinder, segment: Segment) -> list[Suspect]:
    """Suspects whose words the first pass was not sure of: asked about a sure word (関係局 0.91),
    Whisper with 環境局 in its prompt writes the term it was shown."""
    starts = _word_starts(segment)
    return [s for s in finder.find(segment.text) if _sureness(segment, starts, s) < SURE]


def _piece(number: int, segment: Segment, suspects: list[Suspect]) -> _Piece:
    """The suspects worth asking about with up to LEAD_IN seconds of the utterance before and CONTEXT
    after: enough sentence for Whisper to write a word well, and no more than that to pay for."""
    starts = _word_starts(segment)
    priorities = [_priority(segment, starts, s) for s in suspects]
    # Each suspect is one more decode: one far less likely than the place's best is not worth it
    # (申請 heard as a little like 市府民税, beside はよう、会合認定 much like 要介護認定: 0.28 of it).
    suspects = [s for s, p in zip(suspects, priorities, strict=True) if p >= ALONGSIDE * max(priorities)]
    inside = _words_of(segment, starts, suspects) or [0, len(segment.words) - 1]
    begin = segment.words[inside[0]].start - LEAD_IN
    end = segment.words[inside[-1]].end + CONTEXT
    first = next(k for k, w in enumerate(segment.words) if w.end > begin)
    last = max(k for k, w in enumerate(segment.words) if w.start < end)
    source = Span(max(0.0, segment.words[first].start - EDGE), segment.words[last].end + EDGE)
    text = "".join(w.text for w in segment.words[first : last + 1])
    return _Piece(number, suspects, source, text, starts[first], max(priorities))


def _learned_edits(piece: _Piece, learned: dict[tuple[str, str], str]) -> list[Edit]:
    """The piece's suspects whose very words were confirmed as the same term at another place."""
    edits: list[Edit] = []
    for suspect in piece.suspects:
        before = piece.text[suspect.start - piece.at : suspect.end - piece.at]
        after = learned.get((before, suspect.term.term))
        if after is not None and not any(e.start < suspect.end and suspect.start < e.end for e in edits):
            edits.append(Edit(suspect.start, suspect.end, before, after, suspect.term.term, "redecode"))
    return edits


def _taken(continuation: str, term: Term) -> str | None:
    """The text that replaces the suspected stretch, if the recogniser went on with the term, or
    with words that sound exactly like it (shown the term, it wrote its sound)."""
    said = continuation.lstrip()
    at = said.find(term.term)
    if 0 <= at <= MAX_LEAD:
        return said[: at + len(term.term)]
    sounded = sounded_at_start(said, term, MAX_LEAD)
    return said[: sounded[0]] + term.term if sounded else None


class TermRedecoder:
    """Built per recording's dictionary; :meth:`run` works on the corrected segments."""

    def __init__(
        self, corrector: Corrector, recognizer: Continuer, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.corrector = corrector
        self.finder = SuspectFinder(corrector.terms)
        self.recognizer = recognizer
        self.clock = clock

    def run(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        corrections: list[Correction],
        budget: float,
        place_cost: float,
    ) -> tuple[list[Segment], list[Correction]]:
        """Segments with the terms the recogniser confirmed; corrections kept in step.

        Places are heard again while the time spent plus what the next should take stays within
        ``budget`` seconds: ``place_cost`` before any is timed, then the longest of those heard so
        far (each costs about the same whatever its length: the encoder reads at least 15 s; a
        place with two suspects costs a few more tokens).
        """
        queue = [
            _piece(number, segment, suspects)
            for number, segment in enumerate(segments)
            if segment.words and words_to_text(segment.words) == segment.text
            for suspects in [_unsure_suspects(self.finder, segment)]
            if suspects
        ]
        queue.sort(key=lambda piece: (-piece.priority, piece.number))
        pending = [piece for piece in queue if piece.source.length <= MAX_PIECE]
        out, records = list(segments), list(corrections)
        spent, longest, tried, kept = 0.0, 0.0, 0, 0
        learned: dict[tuple[str, str], str] = {}  # (first-pass words, term) → what Whisper confirmed
        while pending and spent + (longest or place_cost) <= budget:
            piece = pending.pop(0)
            started = self.clock()
            edits = self._second_opinion(audio, piece)
            took = self.clock() - started
            spent, longest = spent + took, max(longest, took)
            tried += len(piece.suspects)
            log.debug("place %.1f s, priority %.3f, %.2f s: %s", piece.source.start, piece.priority, took, edits or "-")
            if not edits:
                continue
            out[piece.number], records = self._apply(out[piece.number], piece.number, edits, records)
            kept += len(edits)
            learned.update({(e.before, e.term): e.after for e in edits if len(e.before) >= MIN_LEARNED})
            # The same words heard as the same term elsewhere in the recording: one speaker's name
            # misheard the same way twice (何はすじ先 for なにわ筋線) is taken without asking again.
            for other in list(pending):
                if reused := _learned_edits(other, learned):
                    pending.remove(other)
                    out[other.number], records = self._apply(out[other.number], other.number, reused, records)
                    kept += len(reused)
        if queue:
            total = sum(len(piece.suspects) for piece in queue)
            log.info("term re-decoding: %d of %d suspects tried, %d terms taken, %.1f s", tried, total, kept, spent)
        return out, records

    def _second_opinion(self, audio: np.ndarray, piece: _Piece) -> list[Edit]:
        """Hear the utterance's stretch again; for each suspect, ask what comes after the first
        pass's words before it, with that one term in the prompt (measured on the dev set: a list
        of terms drew Whisper to none of them as often as to the right one)."""
        heard_again = audio[int(piece.source.start * SAMPLE_RATE) : int(piece.source.end * SAMPLE_RATE)]
        asks = [(PROMPT.format(s.term.term), piece.text[: s.start - piece.at]) for s in piece.suspects]
        # Tokens enough for the longest term and a character before it: each token costs a decoder step.
        wanted = max(self.recognizer.count_tokens(s.term.term) for s in piece.suspects) + LEAD_TOKENS
        answers = self.recognizer.continuations(heard_again, asks, min(MAX_TOKENS, wanted))
        log.debug("asked about %s at %r: %s", [s.term.term for s in piece.suspects], piece.text, answers)
        edits: list[Edit] = []
        for suspect, answer in zip(piece.suspects, answers, strict=True):
            heard, _ = self.corrector.correct(tidy_spacing(answer))
            after = _taken(heard, suspect.term)
            # Two terms suspected at one place: the one that sounds more like it, if both are confirmed.
            if after is not None and not any(e.start < suspect.end and suspect.start < e.end for e in edits):
                before = piece.text[suspect.start - piece.at : suspect.end - piece.at]
                edits.append(Edit(suspect.start, suspect.end, before, after, suspect.term.term, "redecode"))
        return edits

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
