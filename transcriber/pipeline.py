"""The pipeline: decode → speech detection → recognition → transcript. No web, no database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from transcriber.asr import AsrOptions, RecognizedSegment, Recognizer
from transcriber.audio import SAMPLE_RATE, decode
from transcriber.device import choose_device
from transcriber.japanese_text import collapse_repeated_words, is_caption, tidy_spacing, tidy_words, words_to_text
from transcriber.model_store import resolve_model
from transcriber.progress import StagedProgress, StageProgressFn
from transcriber.transcript import Segment, Speaker, Transcript, Word
from transcriber.utterances import split_utterances
from transcriber.vad import VadOptions, find_clips

log = logging.getLogger(__name__)

_STAGE_WEIGHTS = {"decode": 4.0, "vad": 3.0, "asr": 93.0}


@dataclass(frozen=True)
class PipelineOptions:
    model: str | None = None  # directory or name; None: KIROKU_ASR_MODEL or the bundled base
    device: str = "auto"
    compute_type: str = "auto"
    language: str | None = "ja"
    beam_size: int = 5
    vad: VadOptions = field(default_factory=VadOptions)


def _to_segments(raw: RecognizedSegment) -> list[Segment]:
    """Clean one recognised segment and cut it into utterances."""
    words = tidy_words(collapse_repeated_words([w for w in raw.words if w.text.strip()]))
    if not words:  # a model without word timings: keep the segment whole
        words = [Word(start=raw.start, end=max(raw.start, raw.end), text=tidy_spacing(raw.text))]
    segments = []
    for group in split_utterances(words):
        text = words_to_text(group)
        if not text:
            continue
        if is_caption(text):
            log.info("dropped a caption-like hallucination at %.1f s", group[0].start)
            continue
        start, end = group[0].start, max(group[0].start, group[-1].end)
        segments.append(Segment(start=start, end=end, speaker="S1", text=text, words=group))
    return segments


class Pipeline:
    """Holds the loaded model so a worker transcribes many recordings with one load."""

    def __init__(self, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        self.plan = choose_device(self.options.device, self.options.compute_type)
        self.model_path = resolve_model(self.options.model)
        self.recognizer = Recognizer(
            self.model_path,
            self.plan,
            AsrOptions(language=self.options.language, beam_size=self.options.beam_size),
        )

    def run(self, path: str | Path, progress: StageProgressFn | None = None) -> Transcript:
        staged = StagedProgress(progress, _STAGE_WEIGHTS)
        audio = decode(path, staged.stage("decode"))
        duration = len(audio) / SAMPLE_RATE
        clips = find_clips(audio, self.options.vad, staged.stage("vad"))
        log.info("%.1f s of audio, %d clips, %.1f s of speech", duration, len(clips), sum(c.length for c in clips))
        asr_progress = staged.stage("asr")
        total = sum(c.length for c in clips) or 1.0
        done = 0.0
        segments: list[Segment] = []
        language = self.options.language or "ja"
        for result in self.recognizer.transcribe(audio, clips):
            language = result.language
            for raw in result.segments:
                segments.extend(_to_segments(raw))
            done += result.clip.length
            asr_progress(done / total)
        segments.sort(key=lambda s: s.start)
        speakers = [Speaker(id="S1")] if segments else []
        return Transcript(
            duration=round(duration, 3),
            language=language,
            speakers=speakers,
            segments=segments,
            model=Path(self.model_path).name,
        )
