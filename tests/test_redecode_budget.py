"""Issue 21: the second-opinion budget is sized from the first pass's windows, however much is
decoded after it (the stretches Whisper skipped are decoded again, on their own).

No model: a stand-in recogniser decodes a 10-minute meeting in 30 s windows and, in its first
pass's long run of speech, jumps past 20 s of it, as Whisper sometimes ends a window early.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

import transcriber.pipeline as pipeline_module
from dictionaries.terms import Term
from transcriber.asr import AsrOptions, Recognition, RecognizedSegment
from transcriber.audio import SAMPLE_RATE
from transcriber.biasing import Budget, TermRedecoder, budget_for
from transcriber.device import DevicePlan
from transcriber.pipeline import Pipeline, PipelineOptions
from transcriber.transcript import Correction, Segment, Word
from transcriber.vad import Span

MEETING = 600.0  # seconds
SPEECH = [Span(5.0, 595.0)]  # one long stretch of speech, as the speech detector finds it
SKIPPED = Span(300.0, 320.0)  # what the first pass jumps past
WINDOW = 30.0


class WindowedRecognizer:
    """Stands in for :class:`transcriber.asr.Recognizer`: each stretch is decoded window after
    window (30 s each), one word a second; a run longer than a window (the first pass's) is heard
    without SKIPPED, a stretch decoded on its own is heard whole."""

    batched = False

    def __init__(self, model_path: str, plan: DevicePlan, options: AsrOptions | None = None) -> None:
        self.options = options or AsrOptions()
        self.passes: list[list[Span]] = []  # the stretches of each pass, in order
        self.contexts: list[str | None] = []  # the prompt each pass was given
        self.recognitions: list[Recognition] = []

    def transcribe(self, audio: np.ndarray, stretches: list[Span], context: str | None = None) -> Recognition:
        skips = [SKIPPED] if any(s.length > WINDOW for s in stretches) else []
        self.passes.append(stretches)
        self.contexts.append(context)
        recognition = Recognition(lambda into: self._decode(stretches, skips, into), self.options.language)
        self.recognitions.append(recognition)
        return recognition

    @staticmethod
    def _decode(stretches: list[Span], skips: list[Span], into: Recognition) -> Iterator[RecognizedSegment]:
        for stretch in stretches:
            for k in range(math.ceil(stretch.length / WINDOW)):
                start = stretch.start + k * WINDOW
                end = min(stretch.end, start + WINDOW)
                into.windows += 1
                seconds = np.arange(math.ceil(start), end - 0.5)
                heard = [t for t in seconds if not any(s.start <= t < s.end for s in skips)]
                if not heard:
                    continue
                words = [Word(start=float(t), end=t + 0.5, text=f"第{t}項", confidence=0.6) for t in heard]
                words[-1] = words[-1].model_copy(update={"text": words[-1].text + "。"})
                text = "".join(w.text for w in words)
                yield RecognizedSegment(words[0].start, words[-1].end, text, words, -0.2, 0.01, 1.2)

    def continuations(
        self, audio: np.ndarray, asks: list[tuple[str, str]], max_tokens: int, language: str
    ) -> list[str]:
        return ["" for _ in asks]

    def count_tokens(self, text: str, language: str) -> int:
        return len(text)


class BudgetSpy(TermRedecoder):
    """The real re-decoder, noting the budget it is given."""

    budgets: ClassVar[list[Budget]] = []

    def run(
        self, audio: np.ndarray, segments: list[Segment], corrections: list[Correction], budget: Budget
    ) -> tuple[list[Segment], list[Correction]]:
        BudgetSpy.budgets.append(budget)
        return super().run(audio, segments, corrections, budget)


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    def silence(*args: Any, **kwargs: Any) -> np.ndarray:
        return np.zeros(int(MEETING * SAMPLE_RATE), dtype=np.float32)

    monkeypatch.setattr(pipeline_module, "resolve_model", lambda *args, **kwargs: "stand-in")
    monkeypatch.setattr(pipeline_module, "Recognizer", WindowedRecognizer)
    monkeypatch.setattr(pipeline_module, "decode", silence)
    monkeypatch.setattr(pipeline_module, "detect_speech", lambda *args, **kwargs: list(SPEECH))
    monkeypatch.setattr(pipeline_module, "TermRedecoder", BudgetSpy)
    monkeypatch.setattr(BudgetSpy, "budgets", [])
    return Pipeline(PipelineOptions(device="cpu", diarization="off"))


def test_the_budget_follows_the_first_pass_not_the_skipped_stretches(pipeline: Pipeline) -> None:
    transcript, report = pipeline.run_with_report("meeting.flac", terms=[Term("随意契約", "ずいいけいやく")])
    recognizer = pipeline.recognizer
    assert isinstance(recognizer, WindowedRecognizer)
    # The first pass, then the skipped stretch decoded again on its own.
    assert len(recognizer.passes) == 2
    assert all(SKIPPED.start - 1 <= s.start and s.end <= SKIPPED.end + 1 for s in recognizer.passes[1])
    assert any(SKIPPED.start <= s.start < SKIPPED.end for s in transcript.segments)  # its speech is recovered
    first, again = (r.windows for r in recognizer.recognitions)
    assert (first, again) == (20, 1)
    share = pipeline.options.term_redecode_share
    # The stretch decoded again alone would get fewer places: the test can tell the two apart.
    assert budget_for(share, first, 1.0).places > budget_for(share, again, 1.0).places
    # The re-decoder is given places for the first pass's 20 windows, not for the 1 decoded again.
    assert [b.places for b in BudgetSpy.budgets] == [budget_for(share, first, 1.0).places]
    assert report.windows == first and report.budget == BudgetSpy.budgets[0]
    assert report.language == transcript.language == "ja"
    assert set(report.timings) == {"recognition", "corrections", "second_opinions"}


def test_the_pipeline_keeps_nothing_of_a_run(pipeline: Pipeline) -> None:
    # Two runs of one recording: the second's report is the first's (nothing carried over), and
    # both runs decode the skipped stretch again.
    terms = [Term("随意契約", "ずいいけいやく")]
    _, one = pipeline.run_with_report("meeting.flac", terms=terms)
    _, two = pipeline.run_with_report("meeting.flac", terms=terms)
    recognizer = pipeline.recognizer
    assert isinstance(recognizer, WindowedRecognizer)
    assert [r.windows for r in recognizer.recognitions] == [20, 1, 20, 1]
    assert one.budget is not None and two.budget is not None
    places = budget_for(pipeline.options.term_redecode_share, 20, 1.0).places
    assert (one.windows, one.budget.places) == (two.windows, two.budget.places) == (20, places)
