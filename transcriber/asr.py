"""faster-whisper recognition of the planned clips, with word timings and confidences."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from transcriber.audio import SAMPLE_RATE
from transcriber.device import DevicePlan
from transcriber.errors import ModelMissing
from transcriber.model_store import HOW_TO_PROVIDE
from transcriber.transcript import Word
from transcriber.vad import Span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsrOptions:
    language: str | None = "ja"  # None: detected on the first clip
    beam_size: int = 5
    # Previous text carried into the next clip as Whisper does between windows; 0 disables it.
    prompt_chars: int = 0
    # One decoding pass per clip without timestamp tokens; utterances are then cut from word timings.
    without_timestamps: bool = True


@dataclass(frozen=True)
class RecognizedSegment:
    start: float
    end: float
    text: str
    words: list[Word]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class ClipResult:
    clip: Span
    language: str
    segments: list[RecognizedSegment]


HotwordsFn = Callable[[Span], "str | None"]


def load_whisper(model: str, plan: DevicePlan):  # type: ignore[no-untyped-def]
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(model, device=plan.device, compute_type=plan.compute_type, cpu_threads=plan.cpu_threads)
    except (RuntimeError, OSError, ValueError) as exc:
        log.error("loading ASR model %s failed: %s", model, exc)
        raise ModelMissing(f"{model}: {exc}. " + HOW_TO_PROVIDE) from exc
    except Exception as exc:  # hub errors when a name cannot be fetched offline
        log.error("loading ASR model %s failed: %r", model, exc)
        raise ModelMissing(f"{model}. " + HOW_TO_PROVIDE) from exc


def _convert(segment, offset: float) -> RecognizedSegment:  # type: ignore[no-untyped-def]
    words = [
        Word(
            start=round(offset + w.start, 3),
            end=round(offset + max(w.end, w.start), 3),
            text=w.word,
            confidence=round(float(min(1.0, max(0.0, w.probability))), 3),
        )
        for w in (segment.words or [])
    ]
    return RecognizedSegment(
        start=round(offset + segment.start, 3),
        end=round(offset + segment.end, 3),
        text=segment.text,
        words=words,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        compression_ratio=float(segment.compression_ratio),
    )


class Recognizer:
    """Wraps one loaded Whisper model; reusable across recordings (the worker keeps one)."""

    def __init__(self, model_path: str, plan: DevicePlan, options: AsrOptions | None = None) -> None:
        self.model_path = model_path
        self.plan = plan
        self.options = options or AsrOptions()
        self._model = load_whisper(model_path, plan)

    def transcribe(
        self,
        audio: np.ndarray,
        clips: list[Span],
        hotwords: HotwordsFn | None = None,
    ) -> Iterator[ClipResult]:
        if self.plan.batch_size > 1:
            yield from self._batched(audio, clips)
        else:
            yield from self._sequential(audio, clips, hotwords)

    def _sequential(self, audio: np.ndarray, clips: list[Span], hotwords: HotwordsFn | None) -> Iterator[ClipResult]:
        language = self.options.language
        previous = ""
        for clip in clips:
            piece = audio[int(clip.start * SAMPLE_RATE) : int(clip.end * SAMPLE_RATE)]
            segments, info = self._model.transcribe(
                piece,
                language=language,
                beam_size=self.options.beam_size,
                word_timestamps=True,
                vad_filter=False,
                condition_on_previous_text=False,
                without_timestamps=self.options.without_timestamps,
                initial_prompt=(previous[-self.options.prompt_chars :] or None) if self.options.prompt_chars else None,
                hotwords=hotwords(clip) if hotwords else None,
            )
            converted = [_convert(s, clip.start) for s in segments]
            language = language or info.language
            # A clip that fell back to sampling or looped is a poor prompt for the next one.
            reliable = [s for s in converted if s.compression_ratio < 2.4 and s.avg_logprob > -1.0]
            previous = (previous + "".join(s.text.strip() for s in reliable)) if reliable else ""
            yield ClipResult(clip, info.language, converted)

    def _batched(self, audio: np.ndarray, clips: list[Span]) -> Iterator[ClipResult]:
        """GPU path: clips decoded in batches (no text conditioning between them)."""
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(self._model)
        segments, info = pipeline.transcribe(
            audio,
            language=self.options.language,
            beam_size=self.options.beam_size,
            word_timestamps=True,
            without_timestamps=False,
            batch_size=self.plan.batch_size,
            clip_timestamps=[{"start": c.start, "end": c.end} for c in clips],
        )
        converted = [_convert(s, 0.0) for s in segments]
        for clip in clips:
            inside = [s for s in converted if clip.start <= (s.start + s.end) / 2 < clip.end]
            yield ClipResult(clip, info.language, inside)
