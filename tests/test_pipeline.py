"""The pipeline end to end on real speech: utterances, timings, silence and progress."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DIALOGUE, ENCODINGS, encode
from transcriber.audio import SAMPLE_RATE
from transcriber.pipeline import Pipeline, PipelineOptions

pytestmark = pytest.mark.slow


def test_dialogue_becomes_timed_utterances(pipeline: Pipeline) -> None:
    transcript = pipeline.run(DIALOGUE)
    assert len(transcript.segments) >= 3
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(0 <= s.start <= s.end <= transcript.duration + 0.05 for s in transcript.segments)
    text = transcript.text
    assert "大阪市" in text and "ごみ" in text
    # The second turn (about 粗大ごみ) starts after the first one's 6 s.
    gomi = next(s for s in transcript.segments if "ごみ" in s.text)
    assert 5.0 < gomi.start < 9.0


def test_nothing_is_invented_over_a_long_silence(pipeline: Pipeline, speech: np.ndarray, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(30 * SAMPLE_RATE) * 0.0003).astype(np.float32)
    audio = np.concatenate([speech, hiss, speech])
    source = encode(audio, tmp_path / "pause.flac", ENCODINGS[4])
    transcript, report = pipeline.run_with_report(source)
    first_end = len(speech) / SAMPLE_RATE
    inside = [s for s in transcript.segments if first_end + 1.0 < s.start < first_end + 29.0]
    assert inside == []
    assert transcript.text.count("開会") == 2
    # One 30 s window for each stretch of speech: the first pass's work, which second opinions share.
    assert report.windows == 2 and report.language == transcript.language == "ja"
    assert report.budget is None and set(report.timings) == {"recognition", "diarization"}  # no terms given


def test_progress_runs_through_every_stage_to_the_end(pipeline: Pipeline) -> None:
    seen: list[tuple[str, float]] = []
    pipeline.run(DIALOGUE, progress=lambda stage, fraction: seen.append((stage, fraction)))
    stages = [stage for stage, _ in seen]
    assert stages.index("decode") < stages.index("vad") < stages.index("asr")
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)


def test_batched_decoding_path_gives_the_same_words() -> None:
    # The GPU path (clips decoded in batches) exercised on the CPU: same model, same clips.
    batched = Pipeline(PipelineOptions(batch_size=4))
    assert batched.plan.batch_size == 4
    transcript = batched.run(DIALOGUE)
    assert "大阪市" in transcript.text and "ごみ" in transcript.text
    assert all(s.words for s in transcript.segments)
