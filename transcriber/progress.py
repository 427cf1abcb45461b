"""Progress reporting shared by the pipeline stages, the CLI's bar and the worker's job rows."""

from __future__ import annotations

from collections.abc import Callable

# A stage reports the fraction (0–1) of its own work done.
ProgressFn = Callable[[float], None]
# The pipeline reports (stage name, overall fraction 0–1).
StageProgressFn = Callable[[str, float], None]

STAGE_LABELS = {
    "decode": "音声の読み込み",
    "vad": "発話区間の検出",
    "asr": "文字起こし",
    "format": "書き出し",
}


class StagedProgress:
    """Maps each stage's own 0–1 progress onto one overall 0–1 scale by fixed weights."""

    def __init__(self, report: StageProgressFn | None, weights: dict[str, float]) -> None:
        self._report = report
        total = sum(weights.values())
        self._spans: dict[str, tuple[float, float]] = {}
        start = 0.0
        for stage, weight in weights.items():
            self._spans[stage] = (start, weight / total)
            start += weight / total

    def stage(self, name: str) -> ProgressFn:
        offset, width = self._spans[name]
        reached = [0.0]

        def report(fraction: float) -> None:
            # Never backwards: a stage's estimate may wobble, the bar must not.
            reached[0] = max(reached[0], min(1.0, fraction))
            if self._report is not None:
                self._report(name, min(1.0, offset + width * reached[0]))

        report(0.0)
        return report
