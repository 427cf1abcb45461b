"""Later stages never cost the earlier ones: a diarizer or a dictionary stage that fails leaves the
recognised transcript (on one speaker, or uncorrected), with the reason for the clerk (issue 23)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import transcriber.pipeline as pipeline_module
from dictionaries.terms import Term
from tests.conftest import SINGLE
from transcriber.diarization.base import Turn
from transcriber.pipeline import Pipeline, PipelineOptions
from transcriber.transcript import Transcript

pytestmark = pytest.mark.slow


class BrokenDiarizer:
    """Keeps the diarizer contract's signature and fails as a real one can (CUDA, a corrupt model)."""

    calls = 0

    def diarize(
        self,
        audio: np.ndarray,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        BrokenDiarizer.calls += 1
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


@pytest.fixture(scope="module")
def broken() -> Iterator[Pipeline]:
    pipeline = Pipeline(PipelineOptions(diarization="off"))
    pipeline.diarizer = BrokenDiarizer()
    yield pipeline


def test_a_failing_diarizer_keeps_the_transcript_on_one_speaker(broken: Pipeline) -> None:
    calls = BrokenDiarizer.calls
    transcript = broken.run(SINGLE)
    assert BrokenDiarizer.calls == calls + 1  # the diarizer did run, and failed
    assert "開会" in transcript.text and "予算" in transcript.text  # the recognition is all there
    assert {s.speaker for s in transcript.segments} == {"S1"} and [s.id for s in transcript.speakers] == ["S1"]
    assert transcript.turns == []
    [failure] = transcript.failed_stages
    assert failure.stage == "diarization" and failure.error == "RuntimeError"
    assert failure.reason == "話者の判定に失敗したため、1人の話者として保存しました。話者を再判定できます。"
    assert "CUDA" not in failure.model_dump_json()  # the message may quote anything: only its kind is kept
    # Stored and read back as kiroku.transcript/1, the failure travels with the transcript.
    again = Transcript.model_validate(transcript.to_json_dict())
    assert again.failed_stages == transcript.failed_stages


def test_a_failing_dictionary_stage_keeps_the_text_uncorrected(
    broken: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def apply_terms(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a dictionary of 40,000 terms overflowed something")

    monkeypatch.setattr(pipeline_module, "apply_terms", apply_terms)
    transcript = broken.run(SINGLE, terms=[Term("定刻", "ていこく", ("低刻",))])
    assert "開会" in transcript.text and transcript.corrections == []
    assert [(f.stage, f.error) for f in transcript.failed_stages] == [
        ("diarization", "RuntimeError"),
        ("dictionary", "ValueError"),
    ]
    assert transcript.failed_stages[1].reason == "用語辞書による修正に失敗したため、修正せずに保存しました。"


def test_a_healthy_run_reports_no_failed_stage() -> None:
    assert Transcript(duration=1.0).to_json_dict().get("failed_stages") is None  # optional in the schema
