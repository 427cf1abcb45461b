"""Second opinions from the recogniser where a dictionary term was probably said but not written.

After the first pass and the reading-based correction, each utterance is searched for stretches
that sound like a term (:class:`dictionaries.suspects.SuspectFinder`). The recogniser then hears
that stretch of audio again (1 s before, 2.5 s after) with the suspected term as its prompt (Whisper
leans towards words it has just "seen") and is asked to go on from the first pass's own words just
before the suspected place. Where it now writes the term first, only that stretch is replaced by
the term (つい契約 → 随意契約); the rest of the utterance keeps its first-pass words, so a second
opinion can neither rewrite a sentence nor change a number.

Asking costs recognition time, so it has a budget: a number of places in proportion to the first
pass's windows, spent first on the places that sound most like a term where the first pass was
least sure. A count rather than seconds, so a recording gets the same second opinions however busy
the machine is (a time budget made the same file gain or lose a term between runs); seconds only
guard against a machine where places cost far more than measured here. Each
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
from transcriber.settings import DEFAULT_REDECODE_SHARE
from transcriber.terminology import apply_edits
from transcriber.transcript import Correction, Segment
from transcriber.vad import Span

log = logging.getLogger(__name__)

REDECODE_SHARE = DEFAULT_REDECODE_SHARE  # of the first pass's work; defined with the settings
# What a place costs as a share of one first-pass window (30 s encoded, beam search, word timings).
# Measured on CPU int8 with Whisper base and a 5,000-term dictionary (bench/dictionary_scale.py):
# 0.45 s a place against 4.3 s a window. With the dev set's 101 terms places cost 0.09 of a window:
# a large dictionary puts two suspects at more places, and a place pays a decode for each.
PLACE_COST = 0.105
TIME_GUARD = 2.0  # times the share: past this, asking stops even with places left
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


@dataclass(frozen=True)
class Budget:
    places: int  # heard again at most
    seconds: float  # a guard: asking stops before the time spent would pass this


def budget_for(share: float, windows: int, recognition_time: float) -> Budget:
    """What a recording whose first pass decoded ``windows`` windows in ``recognition_time``
    seconds may spend: ``share`` of that work at PLACE_COST a place, rounded (a one-window phone
    call gets one), with TIME_GUARD times the share in seconds as the guard."""
    places = round(share * windows / PLACE_COST) if share > 0 else 0
    return Budget(places, TIME_GUARD * share * recognition_time)


class Continuer(Protocol):
    def continuations(
        self, audio: np.ndarray, asks: list[tuple[str, str]], max_tokens: int, language: str
    ) -> list[str]: ...

    def count_tokens(self, text: str, language: str) -> int: ...


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
    # (申請 heard as a little like 市府民税, beside はよう、会合認定 much like 要介護認定: 0.28 of it),
    # unless it sounds exactly like its term (いたかの for 井高野 beside けま for 毛馬), if the
    # stretch still fits one hearing.
    likely = [s for s, p in zip(suspects, priorities, strict=True) if p >= ALONGSIDE * max(priorities)]
    exact = [s for s in suspects if s.similarity >= 1.0 or s in likely]
    piece = _stretch(number, segment, starts, exact, max(priorities))
    return piece if piece.source.length <= MAX_PIECE else _stretch(number, segment, starts, likely, max(priorities))


def _stretch(number: int, segment: Segment, starts: list[int], suspects: list[Suspect], priority: float) -> _Piece:
    inside = _words_of(segment, starts, suspects) or [0, len(segment.words) - 1]
    begin = segment.words[inside[0]].start - LEAD_IN
    end = segment.words[inside[-1]].end + CONTEXT
    first = next(k for k, w in enumerate(segment.words) if w.end > begin)
    last = max(k for k, w in enumerate(segment.words) if w.start < end)
    source = Span(max(0.0, segment.words[first].start - EDGE), segment.words[last].end + EDGE)
    text = "".join(w.text for w in segment.words[first : last + 1])
    return _Piece(number, suspects, source, text, starts[first], priority)


def _reused_edits(text: str, learned: dict[tuple[str, str], str], taken: list[tuple[int, int]]) -> list[Edit]:
    """Every place in ``text`` holding words that Whisper confirmed as a term elsewhere in the
    recording, outside the ``taken`` spans (corrections already made)."""
    edits: list[Edit] = []
    for (before, term), after in learned.items():
        at = text.find(before)
        while at >= 0:
            end = at + len(before)
            if not any(at < e and s < end for s, e in [*taken, *((x.start, x.end) for x in edits)]):
                edits.append(Edit(at, end, before, after, term, "redecode"))
            at = text.find(before, end)
    return sorted(edits, key=lambda e: e.start)


def _asking_order(piece: _Piece) -> tuple[float, int]:
    return -piece.priority, piece.number


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
    """Built per recording's dictionary and language; :meth:`run` works on the corrected segments."""

    def __init__(
        self,
        corrector: Corrector,
        recognizer: Continuer,
        language: str,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.corrector = corrector
        self.finder = SuspectFinder(corrector.terms)
        self.recognizer = recognizer
        self.language = language  # the recording's, as its first pass found it
        self.clock = clock

    def run(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        corrections: list[Correction],
        budget: Budget,
    ) -> tuple[list[Segment], list[Correction]]:
        """Segments with the terms the recogniser confirmed; corrections kept in step.

        At most ``budget.places`` places are heard again, the most worth asking first (words
        reused from a confirmed place cost nothing and do not count). Asking stops sooner if the
        time spent plus the longest place so far would pass ``budget.seconds`` (each costs about
        the same whatever its length: the encoder reads at least 15 s).
        """
        queue = [piece for number, segment in enumerate(segments) for piece in self._places(number, segment)]
        queue.sort(key=_asking_order)
        pending = [piece for piece in queue if piece.source.length <= MAX_PIECE]
        out, records = list(segments), list(corrections)
        spent, longest, tried, kept, asked = 0.0, 0.0, 0, 0, 0
        while pending and asked < budget.places and spent + longest <= budget.seconds:
            piece = pending.pop(0)
            asked += 1
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
            # (first-pass words, term) → what Whisper confirmed; words learned earlier are gone already
            learned = {(e.before, e.term): e.after for e in edits if len(e.before) >= MIN_LEARNED}
            # The same words elsewhere in the recording are the same term: a name misheard the same
            # way twice (何はすじ先 for なにわ筋線) is taken without asking again, also where those
            # words were not the place's likeliest suspect (予讼側下岩先 beside 何はすじ先).
            for number, segment in enumerate(out):
                if not any(before in segment.text for before, _ in learned):
                    continue
                taken = [(r.start, r.end) for r in records if r.segment == number]
                if not (reused := _reused_edits(segment.text, learned, taken)):
                    continue
                out[number], records = self._apply(segment, number, reused, records)
                kept += len(reused)
                if any(other.number == number for other in pending):  # found again in its new words
                    pending = [other for other in pending if other.number != number]
                    pending += [p for p in self._places(number, out[number]) if p.source.length <= MAX_PIECE]
                    pending.sort(key=_asking_order)
        if queue:
            total = sum(len(piece.suspects) for piece in queue)
            log.info(
                "term re-decoding: %d of %d places (%d allowed), %d of %d suspects tried, %d terms taken, %.1f s",
                asked,
                len(queue),
                budget.places,
                tried,
                total,
                kept,
                spent,
            )
        return out, records

    def _places(self, number: int, segment: Segment) -> list[_Piece]:
        """The utterance's place worth asking about, if any (none where its words and text differ)."""
        if not segment.words or words_to_text(segment.words) != segment.text:
            return []
        suspects = _unsure_suspects(self.finder, segment)
        return [_piece(number, segment, suspects)] if suspects else []

    def _second_opinion(self, audio: np.ndarray, piece: _Piece) -> list[Edit]:
        """Hear the utterance's stretch again; for each suspect, ask what comes after the first
        pass's words before it, with that one term in the prompt (measured on the dev set: a list
        of terms drew Whisper to none of them as often as to the right one)."""
        heard_again = audio[int(piece.source.start * SAMPLE_RATE) : int(piece.source.end * SAMPLE_RATE)]
        asks = [(PROMPT.format(s.term.term), piece.text[: s.start - piece.at]) for s in piece.suspects]
        # Tokens enough for the longest term and a character before it: each token costs a decoder step.
        wanted = max(self.recognizer.count_tokens(s.term.term, self.language) for s in piece.suspects) + LEAD_TOKENS
        answers = self.recognizer.continuations(heard_again, asks, min(MAX_TOKENS, wanted), self.language)
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
