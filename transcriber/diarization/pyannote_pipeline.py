"""Backend for a full pretrained pyannote pipeline kept in a local directory.

For sites that have obtained e.g. ``speaker-diarization-community-1`` (segmentation, embedding
and PLDA) and copied it to disk: ``Pipeline.from_pretrained(local_dir)`` reads only that
directory. Runs on CUDA when a GPU is present, otherwise on the CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pyannote.audio import Pipeline
from pyannote.core import Annotation

from transcriber.diarization.base import SAMPLE_RATE, Turn, as_mono16k, check_speaker_bounds, relabel
from transcriber.settings import keep_pyannote_offline


class PyannotePipelineDiarizer:
    def __init__(self, pipeline_dir: str | Path, device: str | torch.device | None = None) -> None:
        directory = Path(pipeline_dir)
        # from_pretrained takes a name it cannot find on disk for a hub repository: refuse early.
        if not (directory / "config.yaml").is_file():
            raise FileNotFoundError(f"no pyannote pipeline (config.yaml) in {directory}")
        # The loader has done this already; again for callers that build this directly (tests, benchmarks).
        keep_pyannote_offline()
        pipeline = Pipeline.from_pretrained(directory)
        if pipeline is None:
            raise ValueError(f"could not load a pyannote pipeline from {directory}")
        chosen = torch.device(device) if device is not None else _best_device()
        self._pipeline = pipeline.to(chosen)

    def diarize(
        self,
        audio: np.ndarray,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        num_speakers, low, high = check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        samples = as_mono16k(audio)
        if len(samples) == 0:
            return []
        # An in-memory waveform: pyannote 4 would otherwise decode the file itself with torchcodec.
        file = {"waveform": torch.from_numpy(samples)[None], "sample_rate": SAMPLE_RATE}
        output = self._pipeline(file, num_speakers=num_speakers, min_speakers=low, max_speakers=high)
        # pyannote 4 returns DiarizeOutput; older releases (and legacy=True) an Annotation.
        annotation: Annotation = getattr(output, "speaker_diarization", output)
        return relabel((seg.start, seg.end, label) for seg, _, label in annotation.itertracks(yield_label=True))


def _best_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
