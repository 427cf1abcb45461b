"""Speech detection decides what the recogniser hears: silence skipped, no speech lost at cuts."""

from __future__ import annotations

import itertools

import numpy as np

from transcriber.audio import SAMPLE_RATE
from transcriber.vad import FRAME_MS, Span, VadOptions, find_clips, plan_clips, speech_spans, voiced_frames


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def _covered(clips: list[Span], t: float) -> bool:
    return any(c.start <= t <= c.end for c in clips)


def test_long_silence_between_speech_is_skipped(speech: np.ndarray) -> None:
    audio = np.concatenate([speech, _silence(20.0), speech])
    clips = find_clips(audio)
    first_end = len(speech) / SAMPLE_RATE
    assert clips, "speech must be found"
    assert not any(_covered(clips, t) for t in np.arange(first_end + 2.0, first_end + 18.0, 0.5))
    assert sum(c.length for c in clips) < 2 * first_end + 2.0


def test_silence_and_faint_hiss_have_no_speech() -> None:
    rng = np.random.default_rng(0)
    hiss = (rng.standard_normal(10 * SAMPLE_RATE) * 0.0005).astype(np.float32)
    assert find_clips(_silence(10.0)) == []
    assert find_clips(hiss) == []


def test_every_voiced_frame_of_a_long_talk_is_inside_a_clip(speech: np.ndarray) -> None:
    talk = np.tile(speech, 8)  # about 75 s with only short pauses: must be cut into several clips
    options = VadOptions()
    clips = find_clips(talk, options)
    assert len(clips) >= 3
    assert all(c.length <= options.max_clip + 1e-6 for c in clips)
    flags = voiced_frames(talk, options.aggressiveness)
    voiced_times = (np.flatnonzero(flags) + 0.5) * FRAME_MS / 1000
    missed = [t for t in voiced_times if not _covered(clips, t)]
    assert len(missed) <= 0.01 * len(voiced_times)


def test_clips_are_cut_at_the_quietest_point_of_continuous_speech() -> None:
    # 70 s of tone with one quiet dip at 20 s: the cut must land in the dip, not mid-"word".
    t = np.arange(70 * SAMPLE_RATE) / SAMPLE_RATE
    audio = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    dip = (t > 19.9) & (t < 20.1)
    audio[dip] *= 0.01
    clips = plan_clips(audio, [Span(0.0, 70.0)], VadOptions(pad=0.0))
    assert abs(clips[0].end - 20.0) < 0.15
    assert all(c.length <= 29.0 for c in clips)
    # The pieces tile the span exactly: nothing dropped, nothing twice.
    assert clips[0].start == 0.0 and clips[-1].end == 70.0
    assert all(a.end == b.start for a, b in itertools.pairwise(clips))


def test_short_pauses_join_long_pauses_split() -> None:
    audio = _silence(60.0)
    spans = [Span(1.0, 5.0), Span(6.0, 9.0), Span(20.0, 25.0)]
    clips = plan_clips(audio, spans, VadOptions(pad=0.2, join_gap=2.0))
    assert [(round(c.start, 2), round(c.end, 2)) for c in clips] == [(0.8, 9.2), (19.8, 25.2)]


def test_hysteresis_ignores_isolated_clicks() -> None:
    flags = np.zeros(200, dtype=bool)
    flags[50] = True  # one 30 ms click
    flags[100:140] = True  # 1.2 s of speech
    spans = speech_spans(flags, VadOptions())
    assert len(spans) == 1
    assert abs(spans[0].start - 100 * FRAME_MS / 1000) < 0.3


def test_runs_for_sequential_decoding_keep_a_talk_whole(speech: np.ndarray) -> None:
    # The CPU path decodes a run window after window, as Whisper does: no 30 s cuts inside a talk.
    talk = np.concatenate([np.tile(speech, 6), _silence(10.0), speech])
    runs = find_clips(talk, VadOptions(), max_length=600.0)
    assert len(runs) == 2
    assert runs[0].length > 50.0
    long_runs = find_clips(np.tile(speech, 12), VadOptions(), max_length=40.0)
    assert all(r.length <= 40.0 for r in long_runs) and len(long_runs) >= 3
