"""What every diarization backend returns, and the one method the pipeline calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Turn:
    """One stretch of one speaker's speech, in seconds from the start of the recording."""

    start: float
    end: float
    speaker: str


@runtime_checkable
class Diarizer(Protocol):
    def diarize(
        self,
        audio: np.ndarray,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        """Who spoke when in ``audio`` (16 kHz mono float32). Labels are S1, S2, … by first appearance."""
        ...


def check_speaker_bounds(
    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> tuple[int | None, int, int | None]:
    """Validate the hints once, so every backend rejects the same nonsense the same way."""
    for name, value in (("num_speakers", num_speakers), ("min_speakers", min_speakers), ("max_speakers", max_speakers)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if num_speakers is not None:
        return num_speakers, num_speakers, num_speakers
    low = min_speakers or 1
    if max_speakers is not None and max_speakers < low:
        raise ValueError(f"max_speakers ({max_speakers}) is below min_speakers ({low})")
    return None, low, max_speakers


def relabel(turns: Iterable[tuple[float, float, object]]) -> list[Turn]:
    """Sort turns by time and name speakers S1, S2, … in order of first appearance."""
    ordered = sorted(turns, key=lambda t: (t[0], t[1]))
    names: dict[object, str] = {}
    result = []
    for start, end, label in ordered:
        if label not in names:
            names[label] = f"S{len(names) + 1}"
        result.append(Turn(start=round(float(start), 3), end=round(float(end), 3), speaker=names[label]))
    return result


def as_mono16k(audio: np.ndarray) -> np.ndarray:
    """Accept what the decoder gives (float32, 1-D) and refuse anything else early and clearly."""
    array = np.asarray(audio)
    if array.ndim != 1:
        raise ValueError(f"audio must be 1-D mono samples, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float32)
