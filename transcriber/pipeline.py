"""The pipeline: decode → speech detection → recognition → transcript. No web, no database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from transcriber.asr import AsrOptions, RecognizedSegment, Recognizer
from transcriber.audio import SAMPLE_RATE, decode
from transcriber.device import choose_device
from transcriber.japanese_text import collapse_repeated_words, is_caption, words_to_text
from transcriber.model_store import resolve_model
from transcriber.progress import StagedProgress, StageProgressFn
from transcriber.transcript import Segment, Speaker, Transcript, Word
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


def _to_segment(raw: RecognizedSegment) -> Segment | None:
    words = collapse_repeated_words([w for w in raw.words if w.text.strip()])
    text = words_to_text(words) if words else words_to_text([Word(start=raw.start, end=raw.end, text=raw.text)])
    if not text or is_caption(text):
        if text:
            log.info("dropped a caption-like hallucination at %.1f s", raw.start)
        return None
    words = [w.model_copy(update={"text": w.text.strip()}) for w in words]
    start = words[0].start if words else raw.start
    end = words[-1].end if words else raw.end
    return Segment(start=start, end=max(start, end), speaker="S1", text=text, words=words)


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
            segments.extend(s for s in map(_to_segment, result.segments) if s is not None)
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
