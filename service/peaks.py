"""Peaks of a recording's audio for the editor's overview strip: ``BUCKETS`` loudest samples across
the recording, computed once by the worker after a transcription and kept beside the audio as
``<audio>.peaks.json`` (removed with the audio: ``service.storage.remove_audio``). The browser never
decodes the recording to draw it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from transcriber.audio import decode

log = logging.getLogger(__name__)

BUCKETS = 1200  # about one per pixel of a wide strip; 5 KB of JSON whatever the length
SUFFIX = ".peaks.json"


def peaks_of(samples: np.ndarray, buckets: int = BUCKETS) -> list[float]:
    """The loudest |sample| of each of ``buckets`` equal stretches, rounded to 3 places (0 … 1)."""
    if samples.size == 0:
        return []
    count = min(buckets, samples.size)
    edges = np.linspace(0, samples.size, count + 1).astype(int)
    loudest = np.maximum.reduceat(np.abs(samples), edges[:-1])
    return [round(float(v), 3) for v in np.clip(loudest, 0.0, 1.0)]


def peaks_path(storage: Path, audio_relative: str) -> Path:
    return storage / f"{audio_relative}{SUFFIX}"


def store_peaks(storage: Path, audio_relative: str | None) -> bool:
    """Decode the stored audio and write its peaks; False (logged) when it cannot. Never raises: the
    overview is a help, and a transcription already stored must not fail for it."""
    if not audio_relative:
        return False
    try:
        samples = decode(storage / audio_relative)
        peaks_path(storage, audio_relative).write_text(json.dumps({"peaks": peaks_of(samples)}))
        return True
    except Exception:
        log.warning("peaks for %s could not be computed", audio_relative, exc_info=True)
        return False


def read_peaks(storage: Path, audio_relative: str | None) -> list[float] | None:
    """The stored peaks, or None (no audio, or computed before peaks were kept)."""
    if not audio_relative:
        return None
    try:
        data = json.loads(peaks_path(storage, audio_relative).read_text())
    except (OSError, ValueError):
        return None
    peaks = data.get("peaks") if isinstance(data, dict) else None
    return [float(p) for p in peaks] if isinstance(peaks, list) else None
