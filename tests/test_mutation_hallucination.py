"""Flags on invented text, case by case: the places mutation testing (docs/mutation.md) showed no
other test would notice breaking. Each case is what the clerk sees in review mode: a flag, its
kind and its reason, or no flag on real speech."""

from __future__ import annotations

from transcriber.asr import RecognizedSegment
from transcriber.hallucination import REASON_CAPTION, REASON_SILENCE, find_flags
from transcriber.transcript import Segment, Word
from transcriber.vad import Span


def _segment(text: str, start: float, end: float, probability: float | None = 0.9, speaker: str = "S1") -> Segment:
    """A segment whose words share its time evenly (one word per 4 characters)."""
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
    step = (end - start) / len(pieces)
    words = [
        Word(start=round(start + k * step, 3), end=round(start + (k + 1) * step, 3), text=p, confidence=probability)
        for k, p in enumerate(pieces)
    ]
    return Segment(start=start, end=end, speaker=speaker, text=text, words=words)


def _decoded(segment: Segment, no_speech: float = 0.05, ratio: float = 1.3) -> RecognizedSegment:
    return RecognizedSegment(segment.start, segment.end, segment.text, segment.words, -0.3, no_speech, ratio)


def test_closing_thanks_is_a_caption_over_silence_and_speech_where_spoken() -> None:
    spoken = _segment("ありがとうございました。", 1.0, 2.5)
    unspoken = _segment("ありがとうございました。", 20.0, 21.5)
    segments = [spoken, unspoken]
    flags = find_flags(segments, [Span(0.0, 10.0)], [_decoded(s) for s in segments])
    assert [(f.segment, f.kind, f.reason) for f in flags] == [(1, "caption", REASON_CAPTION)]
    assert REASON_SILENCE != REASON_CAPTION
