"""Speech detection with webrtcvad, and planning the stretches of audio the recogniser is given.

Stretches start and end in pauses (padded so no word is clipped) and skip long silences. Two
plans: *runs* of speech up to 10 minutes, which the CPU path decodes like plain Whisper, window
after window, each window starting where the last sentence ended; and *clips* of at most one
Whisper window (30 s), which the GPU path decodes in batches. Speech longer than the limit is
cut at its quietest moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from transcriber.audio import SAMPLE_RATE
from transcriber.progress import ProgressFn

FRAME_MS = 30
FRAME = SAMPLE_RATE * FRAME_MS // 1000


@dataclass(frozen=True)
class VadOptions:
    aggressiveness: int = 2  # webrtcvad 0–3: 2 keeps soft speech on conference microphones
    onset_frames: int = 3  # voiced frames (of the last 10) that start speech
    hangover_frames: int = 10  # unvoiced frames (300 ms) that end it
    pad: float = 0.25  # seconds kept either side of speech so word edges survive
    max_clip: float = 29.0  # one Whisper window, with room for the padding
    max_run: float = 600.0  # bounds the features computed at once (10 min: about 100 MB)
    join_gap: float = 2.0  # pauses shorter than this stay inside a clip
    min_speech: float = 0.25  # shorter bursts are clicks, not words
    floor_db: float = -55.0  # frames quieter than this are silence whatever webrtcvad says


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def voiced_frames(
    audio: np.ndarray, aggressiveness: int, progress: ProgressFn | None = None, floor_db: float = -55.0
) -> np.ndarray:
    """One boolean per 30 ms frame; converts to 16-bit PCM a block at a time (no full copy).

    webrtcvad judges spectra, not loudness, so it calls faint hiss speech: an energy floor
    vetoes frames no microphone would record as a voice.
    """
    floor = 10 ** (floor_db / 20)
    vad = webrtcvad.Vad(aggressiveness)
    count = len(audio) // FRAME
    flags = np.zeros(count, dtype=bool)
    block_frames = 2000  # one minute per block
    for first in range(0, count, block_frames):
        last = min(first + block_frames, count)
        block = audio[first * FRAME : last * FRAME]
        loud = np.sqrt(np.square(block.reshape(-1, FRAME)).mean(axis=1)) >= floor
        pcm = (np.clip(block, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        step = FRAME * 2
        for i in np.flatnonzero(loud):
            flags[first + i] = vad.is_speech(pcm[i * step : (i + 1) * step], SAMPLE_RATE)
        if progress:
            progress(last / count)
    return flags


def speech_spans(flags: np.ndarray, options: VadOptions) -> list[Span]:
    """Hysteresis over the frame flags: speech starts on a run of voiced frames, ends after a pause."""
    spans: list[Span] = []
    window = 10
    in_speech = False
    start = 0
    silent_run = 0
    csum = np.concatenate([[0], np.cumsum(flags, dtype=np.int32)])
    for i in range(len(flags)):
        if not in_speech:
            lo = max(0, i - window + 1)
            if csum[i + 1] - csum[lo] >= options.onset_frames:
                in_speech = True
                start = max(0, lo)
                silent_run = 0
        else:
            silent_run = 0 if flags[i] else silent_run + 1
            if silent_run >= options.hangover_frames:
                spans.append(Span(start * FRAME_MS / 1000, (i - silent_run + 1) * FRAME_MS / 1000))
                in_speech = False
    if in_speech:
        spans.append(Span(start * FRAME_MS / 1000, len(flags) * FRAME_MS / 1000))
    return [span for span in spans if span.length >= options.min_speech]


def _quietest_cut(audio: np.ndarray, lo: float, hi: float) -> float:
    """The time of the lowest-energy 100 ms frame within [lo, hi] seconds."""
    hop = SAMPLE_RATE // 10
    a, b = int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE)
    segment = audio[a:b]
    frames = len(segment) // hop
    if frames < 2:
        return (lo + hi) / 2
    energy = np.square(segment[: frames * hop].reshape(frames, hop)).mean(axis=1)
    return lo + (int(np.argmin(energy)) + 0.5) * hop / SAMPLE_RATE


def plan_clips(
    audio: np.ndarray, spans: list[Span], options: VadOptions, max_length: float | None = None
) -> list[Span]:
    """Group padded speech spans into stretches of at most ``max_length`` (default ``max_clip``) seconds."""
    limit = options.max_clip if max_length is None else max_length
    duration = len(audio) / SAMPLE_RATE
    padded = [Span(max(0.0, s.start - options.pad), min(duration, s.end + options.pad)) for s in spans]
    # Break spans longer than a clip at their quietest moment in the last third of the window.
    pieces: list[Span] = []
    for span in padded:
        start = span.start
        while span.end - start > limit:
            cut = _quietest_cut(audio, start + limit * 0.5, start + limit - 0.5)
            pieces.append(Span(start, cut))
            start = cut
        pieces.append(Span(start, span.end))
    clips: list[Span] = []
    for piece in pieces:
        if clips:
            last = clips[-1]
            gap = piece.start - last.end
            if gap <= options.join_gap and piece.end - last.start <= limit:
                clips[-1] = Span(last.start, max(last.end, piece.end))
                continue
            if piece.start < last.end:  # padding overlapped: split the overlap evenly
                middle = (piece.start + last.end) / 2
                clips[-1] = Span(last.start, middle)
                piece = Span(middle, piece.end)
        clips.append(piece)
    return clips


def detect_speech(
    audio: np.ndarray, options: VadOptions | None = None, progress: ProgressFn | None = None
) -> list[Span]:
    """Unpadded speech spans."""
    options = options or VadOptions()
    return speech_spans(voiced_frames(audio, options.aggressiveness, progress, options.floor_db), options)


def uncovered(spans: list[Span], covered: list[Span], min_length: float) -> list[Span]:
    """The parts of ``spans`` outside every ``covered`` interval that last at least ``min_length``."""
    ordered = sorted(covered, key=lambda c: c.start)
    gaps: list[Span] = []
    for span in spans:
        cursor = span.start
        for cover in ordered:
            if cover.end <= cursor or cover.start >= span.end:
                continue
            if cover.start > cursor:
                gaps.append(Span(cursor, cover.start))
            cursor = max(cursor, cover.end)
        if cursor < span.end:
            gaps.append(Span(cursor, span.end))
    return [gap for gap in gaps if gap.length >= min_length]


def find_clips(
    audio: np.ndarray,
    options: VadOptions | None = None,
    progress: ProgressFn | None = None,
    max_length: float | None = None,
) -> list[Span]:
    """Speech stretches of at most ``max_length`` seconds (default: one Whisper window)."""
    options = options or VadOptions()
    flags = voiced_frames(audio, options.aggressiveness, progress, options.floor_db)
    return plan_clips(audio, speech_spans(flags, options), options, max_length)
