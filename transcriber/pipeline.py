"""The pipeline: decode → speech detection → recognition → transcript. No web, no database."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

import numpy as np

from dictionaries.correction import Corrector
from dictionaries.terms import Term
from transcriber.asr import AsrOptions, Recognition, RecognizedSegment, Recognizer
from transcriber.audio import SAMPLE_RATE, decode
from transcriber.biasing import REDECODE_SHARE, Budget, TermRedecoder, budget_for
from transcriber.channels import ChannelAnalyzer, channel_turns, check_mode, silence_outside
from transcriber.device import choose_device
from transcriber.diarization.loader import load_diarizer
from transcriber.hallucination import find_flags
from transcriber.japanese_text import collapse_repeated_words, is_caption, tidy_spacing, tidy_words, words_to_text
from transcriber.model_store import resolve_model
from transcriber.progress import ProgressFn, StagedProgress, StageProgressFn
from transcriber.settings import EngineSettings
from transcriber.speakers import assign_speakers, fit_to_turns, speakers_in_order
from transcriber.terminology import apply_terms
from transcriber.transcript import Correction, Segment, SpeakerTurn, StageFailure, Transcript, Word
from transcriber.utterances import split_utterances
from transcriber.vad import Span, VadOptions, detect_speech, plan_clips, uncovered

log = logging.getLogger(__name__)

_STAGE_WEIGHTS = {"decode": 4.0, "vad": 3.0, "asr": 93.0}


@dataclass(frozen=True)
class SpeakerHints:
    """What the user knows about the number of speakers (all optional)."""

    exact: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    def allow(self, count: int) -> bool:
        """Whether the hints admit ``count`` speakers."""
        if self.exact is not None:
            return self.exact == count
        return (self.minimum or 1) <= count <= (self.maximum or count)


@dataclass(frozen=True)
class PipelineOptions:
    model: str | None = None  # directory or name; None: KIROKU_ASR_MODEL or the bundled base
    device: str = "auto"
    compute_type: str = "auto"
    language: str | None = "ja"
    beam_size: int = 5
    batch_size: int | None = None  # None: 16 on GPU, 1 (sequential) on CPU
    diarization: str = "auto"  # auto | embedded | pyannote | off (transcriber.diarization.loader)
    channels: str = "auto"  # auto | split | mix: stereo speakers by channel (transcriber.channels)
    vad: VadOptions = field(default_factory=VadOptions)
    # Work that re-decoding suspected terms may add, as a share of the first pass's: places in
    # proportion to its windows (transcriber.biasing); 0 turns it off.
    term_redecode_share: float = REDECODE_SHARE


@dataclass(frozen=True)
class RunReport:
    """What one run found out besides the transcript (benchmarks and tests read it)."""

    language: str  # the recording's, as written in the transcript
    # 30 s windows the first pass decoded (each channel's, added up): the work second opinions share.
    windows: int
    budget: Budget | None  # what second opinions were allowed; None where none were asked for
    # Seconds: "recognition" (0 where the channels were recognised one by one), "diarization"
    # (where the mix was diarized, beside recognition), "corrections" and "second_opinions" (with terms).
    timings: Mapping[str, float]


class PipelineRun(NamedTuple):
    transcript: Transcript
    report: RunReport


# What the clerk reads when a later stage failed (the editor shows it above the transcript).
STAGE_FAILURE_REASONS = {
    "diarization": "話者の判定に失敗したため、1人の話者として保存しました。話者を再判定できます。",
    "dictionary": "用語辞書による修正に失敗したため、修正せずに保存しました。",
}


def _failed(stage: Literal["diarization", "dictionary"], error: Exception) -> StageFailure:
    # The kind of error only: a message may quote the recording's words. The trace at DEBUG.
    log.error("%s failed (%s); the transcript is kept without it", stage, type(error).__name__)
    log.debug("%s failed", stage, exc_info=error)
    return StageFailure(stage=stage, reason=STAGE_FAILURE_REASONS[stage], error=type(error).__name__)


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


def _overlaps_heard(segment: Segment, heard: list[Span]) -> bool:
    """A recovered segment that mostly repeats words already recognised is a duplicate."""
    inside = sum(1 for w in segment.words if any(h.start <= (w.start + w.end) / 2 <= h.end for h in heard))
    return inside > len(segment.words) / 2


def _speech_done(stretches: list[Span], until: float) -> float:
    """Seconds of planned speech before ``until``: the recogniser's progress."""
    return sum(max(0.0, min(c.end, until) - c.start) for c in stretches)


_SKIP_MIN = 1.0  # seconds of detected speech without a recognised word that get a second look
_WORD_REACH = 0.3  # a word's timing is approximate: speech this close to a word counts as heard


class Pipeline:
    """Holds the loaded model so a worker transcribes many recordings with one load."""

    def __init__(self, options: PipelineOptions | None = None, settings: EngineSettings | None = None) -> None:
        """``settings``: where models live and the diarization pipeline's directory (an entry point
        passes the ones it read; without them, the environment's)."""
        self.options = options or PipelineOptions()
        check_mode(self.options.channels)
        self.plan = choose_device(self.options.device, self.options.compute_type, batch_size=self.options.batch_size)
        self.model_path = resolve_model(self.options.model, settings)
        self.recognizer = Recognizer(
            self.model_path,
            self.plan,
            AsrOptions(language=self.options.language, beam_size=self.options.beam_size),
        )
        self.diarizer = load_diarizer(self.options.diarization, settings)

    def diarize(self, audio: np.ndarray, hints: SpeakerHints) -> list[SpeakerTurn]:
        if self.diarizer is None:
            return []
        turns = self.diarizer.diarize(audio, hints.exact, hints.minimum, hints.maximum)
        return [SpeakerTurn(start=t.start, end=t.end, speaker=t.speaker) for t in turns]

    def _timed_diarize(
        self, audio: np.ndarray, hints: SpeakerHints
    ) -> tuple[list[SpeakerTurn], float | None, StageFailure | None]:
        """The speakers' turns, the seconds the diarizer took (None without one), and its failure:
        a diarizer that fails costs the speakers only, never the recognition beside it."""
        started = time.perf_counter()
        try:
            turns = self.diarize(audio, hints)
        except Exception as error:
            return [], None, _failed("diarization", error)
        return turns, None if self.diarizer is None else time.perf_counter() - started, None

    def _fill_skipped_speech(
        self,
        audio: np.ndarray,
        spans: list[Span],
        segments: list[Segment],
        decoded: list[RecognizedSegment],
        context: str | None = None,
    ) -> tuple[list[Segment], Recognition | None]:
        """Decode again, on its own, any stretch of speech the recogniser skipped.

        Whisper sometimes ends a 30 s window early and jumps past the speech left in it; the
        speech detector still knows it was there.
        """
        heard = [Span(w.start - _WORD_REACH, w.end + _WORD_REACH) for s in segments for w in s.words]
        missed = uncovered(spans, heard, _SKIP_MIN)
        if not missed:
            return [], None
        log.info("re-decoding %d skipped stretches (%.1f s)", len(missed), sum(m.length for m in missed))
        clips = plan_clips(audio, missed, self.options.vad, self.options.vad.max_clip)
        recovered: list[Segment] = []
        again = self.recognizer.transcribe(audio, clips, context)
        for raw in again:
            found = [s for s in _to_segments(raw) if not _overlaps_heard(s, heard)]
            if found:
                decoded.append(raw)
            recovered.extend(found)
        return recovered, again

    def run(
        self,
        path: str | Path,
        progress: StageProgressFn | None = None,
        terms: list[Term] | None = None,
        speakers: SpeakerHints | None = None,
        channels: str | None = None,
        context: str | None = None,
    ) -> Transcript:
        """The recording's transcript. ``channels`` overrides the options' stereo handling for this
        recording (auto | split | mix); ``context`` is what is known of it beforehand (title,
        agenda, attendees: :func:`transcriber.context.context_prompt`), shown to the recogniser."""
        return self.run_with_report(path, progress, terms, speakers, channels, context).transcript

    def run_with_report(
        self,
        path: str | Path,
        progress: StageProgressFn | None = None,
        terms: list[Term] | None = None,
        speakers: SpeakerHints | None = None,
        channels: str | None = None,
        context: str | None = None,
    ) -> PipelineRun:
        """As :meth:`run`, with what the run found out (the pipeline keeps nothing of a run)."""
        mode = check_mode(channels or self.options.channels)
        hints = speakers or SpeakerHints()
        staged = StagedProgress(progress, _STAGE_WEIGHTS)
        # Stereo is looked at only where it could decide the speakers; the channels are not kept.
        look = mode == "split" or (mode == "auto" and self.options.diarization != "off")
        analyzer = ChannelAnalyzer(self.options.vad) if look else None
        audio = decode(path, staged.stage("decode"), analyzer)
        duration = round(len(audio) / SAMPLE_RATE, 3)
        by_channel = channel_turns(analyzer.activity() if analyzer else None, mode, hints.allow(2), self.options.vad)
        decoded: list[RecognizedSegment] = []  # the recogniser's own segments: evidence for the flags
        failed_stages: list[StageFailure] = []  # later stages that failed: the transcript is kept without them
        recognition_time = 0.0
        diarization_time: float | None = None
        if by_channel is not None:
            del audio  # each channel is decoded again on its own: one recording's worth in memory at a time
            staged.stage("vad")(1.0)  # the channels' speech was found while decoding
            segments, passes = self._recognise_channels(path, by_channel, staged.stage("asr"), decoded, context)
            turns = by_channel
            spans = [Span(t.start, t.end) for t in by_channel]
        else:
            # Diarization runs beside recognition: the two stages share the machine's cores.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diarize") as background:
                diarizing = background.submit(self._timed_diarize, audio, hints)
                spans = detect_speech(audio, self.options.vad, staged.stage("vad"))
                started = time.perf_counter()
                segments, recognition = self._recognise(audio, spans, staged.stage("asr"), decoded, context)
                recognition_time = time.perf_counter() - started
                turns, diarization_time, failure = diarizing.result()
            failed_stages += [failure] if failure else []
            passes = [recognition]
            if turns:
                # Edges are pulled in to the turns only after the dictionary stages (below): a second
                # opinion hears a place from where Whisper heard its words, and a turn that starts
                # late would cut the first word off (旭区 was lost that way).
                segments = assign_speakers(segments, turns, pull_in=False)
        windows = sum(p.windows for p in passes)
        language = next((p.language for p in passes if p.language), None) or "ja"
        corrections: list[Correction] = []
        budget: Budget | None = None
        timings = {"recognition": recognition_time}
        if terms:  # last, so the undo records point at the final segments
            # A failing dictionary stage keeps the text as it was before it: uncorrected, never lost.
            recognised = segments
            try:
                started = time.perf_counter()
                corrector = Corrector(terms)
                segments, corrections = apply_terms(segments, corrector)
                timings["corrections"] = time.perf_counter() - started
                share = self.options.term_redecode_share
                if by_channel is None and share > 0:
                    budget = budget_for(share, windows, recognition_time)
                    redecoder = TermRedecoder(corrector, self.recognizer, language)
                    started = time.perf_counter()
                    segments, corrections = redecoder.run(audio, segments, corrections, budget)
                    timings["second_opinions"] = time.perf_counter() - started
            except Exception as error:
                segments, corrections, budget = recognised, [], None
                failed_stages.append(_failed("dictionary", error))
            log.info("dictionary stages: %s", ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
        if diarization_time is not None:
            timings["diarization"] = diarization_time
        # Flagged, never removed: the clerk decides (captions the pipeline dropped are gone already).
        if turns and by_channel is None:
            segments = fit_to_turns(segments, turns)  # same segments in the same order: corrections still point right
        flags = find_flags(segments, spans, decoded)
        transcript = Transcript(
            duration=duration,
            language=language,
            speakers=speakers_in_order(segments),
            segments=segments,
            corrections=corrections,
            turns=turns,
            flags=flags,
            failed_stages=failed_stages,
            model=Path(self.model_path).name,
        )
        return PipelineRun(transcript, RunReport(language, windows, budget, MappingProxyType(timings)))

    def _recognise(
        self,
        audio: np.ndarray,
        spans: list[Span],
        asr_progress: ProgressFn,
        decoded: list[RecognizedSegment],
        context: str | None = None,
    ) -> tuple[list[Segment], Recognition]:
        """Segments of the speech in ``spans``, and the recogniser's pass over it (its language and
        windows); the recogniser's raw segments are appended to ``decoded``."""
        recognizer = self.recognizer
        vad = self.options.vad
        stretches = plan_clips(audio, spans, vad, vad.max_clip if recognizer.batched else vad.max_run)
        speech = sum(c.length for c in stretches)
        log.info("%.1f s of audio, %d stretches, %.1f s of speech", len(audio) / SAMPLE_RATE, len(stretches), speech)
        segments: list[Segment] = []
        first = recognizer.transcribe(audio, stretches, context)
        for raw in first:
            decoded.append(raw)
            segments.extend(_to_segments(raw))
            asr_progress(0.95 * _speech_done(stretches, raw.end) / (speech or 1.0))
        recovered, again = self._fill_skipped_speech(audio, spans, segments, decoded, context)
        segments.extend(recovered)
        asr_progress(1.0)
        if again is not None:
            log.info("%d windows decoded again for skipped speech (not counted as the first pass's)", again.windows)
        # The first pass's language and windows: a pass after it (skipped stretches) adds no first-pass work.
        return sorted(segments, key=lambda s: s.start), first

    def _recognise_channels(
        self,
        path: str | Path,
        turns: list[SpeakerTurn],
        progress: ProgressFn,
        decoded: list[RecognizedSegment],
        context: str | None = None,
    ) -> tuple[list[Segment], list[Recognition]]:
        """Each channel recognised on its own, silenced outside its party's turns; with each
        channel's pass.

        Measured on stereo calls built from the fixtures, this beats recognising the mix wherever
        the parties overlap (the mix garbles both), and one party's leak never becomes the other's words.
        """
        total = sum(t.end - t.start for t in turns) or 1.0
        done = 0.0
        segments: list[Segment] = []
        passes: list[Recognition] = []
        for channel in (0, 1):
            speaker = f"S{channel + 1}"
            own = [t for t in turns if t.speaker == speaker]
            if not own:
                continue
            share = sum(t.end - t.start for t in own) / total

            def report(fraction: float, offset: float = done, width: float = share) -> None:
                progress(offset + width * fraction)

            audio = silence_outside(decode(path, channel=channel), own, self.options.vad.pad)
            found, recognition = self._recognise(audio, [Span(t.start, t.end) for t in own], report, decoded, context)
            passes.append(recognition)
            del audio
            segments.extend(fit_to_turns([s.model_copy(update={"speaker": speaker}) for s in found], own))
            done += share
        progress(1.0)
        return sorted(segments, key=lambda s: s.start), passes
