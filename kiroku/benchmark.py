"""Measuring the pipeline on this machine: speed against bare faster-whisper, diarization, memory.

``kiroku bench`` (``kiroku.bench_cli``) prints what ``run_bench`` measures; the scripts in
``bench/`` share the evaluation-set reader and the bare faster-whisper run from here, so every
figure of "bare faster-whisper" means the same call.
"""

from __future__ import annotations

import csv
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transcriber.device import usable_cpus
from transcriber.pipeline import Pipeline, PipelineOptions
from transcriber.transcript import Segment, Transcript

# What `kiroku transcribe` reads (README, "Input"); a folder without manifest.csv is read by these.
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga", ".webm", ".wma", ".mp4", ".mov"}
)


@dataclass(frozen=True)
class BenchItem:
    name: str
    path: Path


def eval_set(folder: Path) -> list[BenchItem]:
    """The recordings of an evaluation set: its ``manifest.csv`` (columns ``stem``, ``file``) in order,
    or, without one, every audio file in the folder by name."""
    manifest = folder / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8", newline="") as handle:
            return [BenchItem(row["stem"], folder / row["file"]) for row in csv.DictReader(handle)]
    return [BenchItem(p.stem, p) for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES]


def bare_transcribe(  # type: ignore[no-untyped-def]
    model, path: Path, *, language: str | None = "ja", beam_size: int = 5, words: bool = False
) -> Transcript:
    """faster-whisper as its README shows it: the file as it is, no VAD, no clean-up (the baseline)."""
    segments, info = model.transcribe(str(path), language=language, beam_size=beam_size, word_timestamps=words)
    # The segments are a generator: decoding happens here, inside the caller's timing.
    out = [Segment(start=s.start, end=s.end, text=s.text.strip()) for s in segments]
    return Transcript(duration=info.duration, segments=out)


class PeakRss:
    """Peak resident memory of this process (the kernel's high-water mark, VmHWM).

    On Linux the mark can be reset (``/proc/self/clear_refs``), so each recording gets its own
    peak instead of the largest so far; elsewhere ``ru_maxrss`` (the process's lifetime peak) is
    all there is, and ``per_recording`` says so.
    """

    def __init__(self) -> None:
        self.per_recording = self.reset()

    @staticmethod
    def reset() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    @staticmethod
    def _status_mb(key: str) -> float | None:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024  # kB
        except OSError:
            pass
        return None

    def peak_mb(self) -> float:
        found = self._status_mb("VmHWM")
        if found is not None:
            return found
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024**2 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, kB elsewhere

    def current_mb(self) -> float:
        found = self._status_mb("VmRSS")
        return found if found is not None else self.peak_mb()


@dataclass(frozen=True)
class FileResult:
    name: str
    audio_s: float
    pipeline_s: float
    bare_s: float
    diarization_s: float
    peak_rss_mb: float

    @property
    def rtf(self) -> float:
        return self.pipeline_s / self.audio_s

    @property
    def bare_rtf(self) -> float:
        return self.bare_s / self.audio_s

    @property
    def ratio(self) -> float:
        return self.pipeline_s / self.bare_s

    @property
    def diarization_share(self) -> float:
        return self.diarization_s / self.pipeline_s


@dataclass
class BenchReport:
    files: list[FileResult]
    setup: dict[str, Any] = field(default_factory=dict)  # model, device, threads, diarizer, memory scope

    @property
    def total(self) -> FileResult:
        """All recordings together: sums of the times, and the largest peak."""
        return FileResult(
            name=f"all ({len(self.files)})",
            audio_s=sum(f.audio_s for f in self.files),
            pipeline_s=sum(f.pipeline_s for f in self.files),
            bare_s=sum(f.bare_s for f in self.files),
            diarization_s=sum(f.diarization_s for f in self.files),
            peak_rss_mb=max(f.peak_rss_mb for f in self.files),
        )

    def to_dict(self) -> dict[str, Any]:
        def row(result: FileResult) -> dict[str, Any]:
            derived = {
                "rtf": result.rtf,
                "bare_rtf": result.bare_rtf,
                "ratio": result.ratio,
                "diarization_share": result.diarization_share,
            }
            return {**asdict(result), **{k: round(v, 4) for k, v in derived.items()}}

        return {
            "schema": "kiroku.bench/1",
            "setup": self.setup,
            "files": [row(f) for f in self.files],
            "total": row(self.total),
        }


# Reports (index from 1, count, item, its result) after each recording.
BenchProgress = Callable[[int, int, BenchItem, FileResult], None]


def run_bench(items: list[BenchItem], options: PipelineOptions, progress: BenchProgress | None = None) -> BenchReport:
    """Each recording through the whole pipeline and through bare faster-whisper on the very same
    loaded model. The two take turns going first, so a machine that gets busier slows both alike."""
    memory = PeakRss()
    pipeline = Pipeline(options)
    model = pipeline.recognizer._model  # the same loaded model: only what surrounds it differs
    loaded_mb = memory.current_mb()
    results: list[FileResult] = []
    for index, item in enumerate(items):
        times: dict[str, float] = {}
        peak = 0.0
        for side in ("pipeline", "bare") if index % 2 == 0 else ("bare", "pipeline"):
            started = time.perf_counter()
            if side == "bare":
                bare_transcribe(model, item.path, language=options.language, beam_size=options.beam_size)
                times[side] = time.perf_counter() - started
                continue
            memory.reset()
            # The diarization stage's wall time is in the run's report: it runs on its own thread
            # beside speech detection and recognition, so it is timed where it runs.
            transcript, report = pipeline.run_with_report(item.path)
            times[side] = time.perf_counter() - started
            peak = memory.peak_mb()
        result = FileResult(
            name=item.name,
            audio_s=transcript.duration,
            pipeline_s=times["pipeline"],
            bare_s=times["bare"],
            diarization_s=report.timings.get("diarization", 0.0),
            peak_rss_mb=peak,
        )
        results.append(result)
        if progress is not None:
            progress(index + 1, len(items), item, result)
    setup = {
        "model": Path(pipeline.model_path).name,
        "device": pipeline.plan.device,
        "compute_type": pipeline.plan.compute_type,
        "cpu_threads": pipeline.plan.cpu_threads,
        "usable_cpus": usable_cpus(),
        "beam_size": options.beam_size,
        "diarizer": type(pipeline.diarizer).__name__ if pipeline.diarizer is not None else "off",
        "rss_scope": "per recording" if memory.per_recording else "process lifetime",
        "rss_after_loading_mb": round(loaded_mb, 1),
    }
    return BenchReport(results, setup)
