"""Offline CPU diarization: pyannote segmentation + resemblyzer embeddings + NME-SC clustering.

Why this shape: pyannote's full pipeline needs its embedding model and a PLDA file that cannot be
shipped here, while its small segmentation model (local speakers per 5 s window, overlap
included) can. Each window's local speakers are embedded with resemblyzer on the frames where
they speak alone, the embeddings are clustered into global speakers, and pyannote's own
count-and-reconstruct step turns the clustered windows back into turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pyannote.audio import Inference, Model
from pyannote.audio.pipelines.utils import SpeakerDiarizationMixin
from pyannote.audio.utils.signal import binarize
from pyannote.core import SlidingWindowFeature

from transcriber.diarization import nmesc
from transcriber.diarization.base import SAMPLE_RATE, Turn, as_mono16k, check_speaker_bounds, relabel
from transcriber.diarization.encoder import HOP, PARTIAL_FRAMES, SpeakerEncoder, level_gain
from transcriber.settings import keep_pyannote_offline

MEL_RATE = SAMPLE_RATE // HOP  # mel frames per second
_ENCODE_BATCH = 128  # partials per encoder call
INACTIVE = -2  # pyannote's marker for a local speaker that takes no part in reconstruction


@dataclass(frozen=True)
class EmbeddedSettings:
    step: float = 1.0  # seconds between 5 s segmentation windows; smaller = finer, slower
    onset: float = 0.5  # segmentation probability above which a local speaker is active
    min_cluster_speech: float = 1.2  # s of solo speech for an embedding to take part in clustering
    min_embed_speech: float = 0.3  # s below which a local speaker is not embedded at all
    merge_threshold: float = 0.89  # raw cosine: splits of one voice measured 0.90+, two people 0.87-
    min_cluster_span: float = 3.0  # a speaker must fill at least this many seconds of window steps
    min_duration_off: float = 0.8  # minutes count a turn through its sentence pauses: close shorter gaps
    max_clustered: int = 800  # embeddings clustered directly; more are pre-clustered first
    batch_size: int = 32


@dataclass
class _Embeddings:
    vectors: np.ndarray  # (M, 256) raw, unit norm, all components >= 0
    pairs: np.ndarray  # (M, 2) chunk index, local speaker index
    reliable: np.ndarray  # (M,) enough solo speech to take part in clustering


class EmbeddedDiarizer:
    """Diarizer that needs only two local weight files and one CPU thread."""

    def __init__(
        self,
        segmentation: str | Path,
        encoder: str | Path,
        *,
        settings: EmbeddedSettings | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        for path in (segmentation, encoder):
            # Model.from_pretrained would take a missing path for a hub name; fail here instead.
            if not Path(path).is_file():
                raise FileNotFoundError(f"diarization weights not found: {path}")
        self.settings = settings or EmbeddedSettings()
        # The loader has done this already; again for callers that build this directly (tests, benchmarks).
        keep_pyannote_offline()
        model = Model.from_pretrained(str(segmentation), map_location=torch.device(device))
        if model is None:
            raise ValueError(f"not a pyannote segmentation checkpoint: {segmentation}")
        model.eval()
        self._frames = model.receptive_field
        specifications = model.specifications
        # A segmentation model has one task; multi-task models (a tuple) are not segmentation.
        if isinstance(specifications, tuple):
            raise ValueError(f"not a single-task segmentation checkpoint: {segmentation}")
        self._duration = float(specifications.duration)
        self._segmentation = Inference(
            model,
            duration=self._duration,
            step=self.settings.step,
            skip_aggregation=True,
            batch_size=self.settings.batch_size,
            device=torch.device(device),
        )
        self._encoder = SpeakerEncoder(encoder, device=device)

    def diarize(
        self,
        audio: np.ndarray,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Turn]:
        num_speakers, low, high = check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        audio = as_mono16k(audio)
        if len(audio) < SAMPLE_RATE // 10:
            return []
        waveform = torch.from_numpy(audio)[None]
        # slide() directly: the audio is already 16 kHz mono, and Inference.__call__'s own
        # preprocessing would copy an hour-long recording more than once.
        segmentations: SlidingWindowFeature = self._segmentation.slide(waveform, SAMPLE_RATE, hook=None)
        binarized: SlidingWindowFeature = binarize(segmentations, onset=self.settings.onset, initial_state=False)
        count = SpeakerDiarizationMixin.speaker_count(binarized, self._frames, warm_up=(0.0, 0.0))
        if np.nanmax(count.data) == 0:
            return []

        found = self._embed(audio, binarized)
        if len(found.vectors) == 0:
            return []
        labels = self._cluster(found, num_speakers, low, high)
        hard = np.full(binarized.data.shape[0::2], INACTIVE, dtype=int)
        hard[found.pairs[:, 0], found.pairs[:, 1]] = labels
        num_clusters = int(labels.max()) + 1

        # Never more simultaneous speakers than speakers found: an over-counted overlap would
        # otherwise invent an extra, empty speaker.
        count.data = np.minimum(count.data, num_clusters).astype(np.int8)
        discrete = self._reconstruct(segmentations, hard, num_clusters, count)
        annotation = SpeakerDiarizationMixin.to_annotation(
            discrete, min_duration_on=0.0, min_duration_off=self.settings.min_duration_off
        )
        return relabel((seg.start, seg.end, label) for seg, _, label in annotation.itertracks(yield_label=True))

    def _embed(self, audio: np.ndarray, binarized: SlidingWindowFeature) -> _Embeddings:
        """One embedding per (window, local speaker), from the frames where that speaker speaks alone."""
        active = binarized.data.astype(bool)  # (chunks, frames, local speakers)
        solo = active & (active.sum(axis=2, keepdims=True) == 1)
        frame_step = self._frames.step
        chunk_mel = round(self._duration * MEL_RATE)
        # Which segmentation frame covers each mel frame of a window (same for every window).
        offsets = (np.arange(chunk_mel) / MEL_RATE - self._frames[0].middle) / frame_step
        mel_to_seg = np.clip(np.round(offsets).astype(int), 0, active.shape[1] - 1)

        mel = self._encoder.mel_frames(audio)
        gain = self._level_gain(audio, binarized)
        mel *= gain * gain  # power spectrogram: level scales as gain squared

        pairs: list[tuple[int, int]] = []
        reliable: list[bool] = []
        # Partials are encoded as soon as a batch is full: holding every window's frames for an
        # hour-long meeting would cost hundreds of MB.
        sums = np.zeros((active.shape[0] * active.shape[2], 256), dtype=np.float64)
        partials: list[torch.Tensor] = []
        owners: list[int] = []
        for c in range(active.shape[0]):
            first = round(binarized.sliding_window[c].start * MEL_RATE)
            window = mel[first : first + chunk_mel]
            for k in range(active.shape[2]):
                solo_s = solo[c, :, k].sum() * frame_step
                use = solo[c, :, k] if solo_s >= self.settings.min_embed_speech else active[c, :, k]
                if use.sum() * frame_step < self.settings.min_embed_speech:
                    continue
                selected = window[torch.from_numpy(use[mel_to_seg[: len(window)]])]
                if len(selected) < self.settings.min_embed_speech * MEL_RATE:
                    continue
                owners.extend([len(pairs)] * self._add_partials(selected, partials))
                pairs.append((c, k))
                reliable.append(bool(solo_s >= self.settings.min_cluster_speech))
            if len(partials) >= _ENCODE_BATCH:
                self._encode(partials, owners, sums)
        self._encode(partials, owners, sums)

        vectors = nmesc.l2_normalise(sums[: len(pairs)]).astype(np.float32)
        return _Embeddings(vectors, np.asarray(pairs, dtype=int).reshape(-1, 2), np.asarray(reliable, dtype=bool))

    @staticmethod
    def _add_partials(frames: torch.Tensor, out: list[torch.Tensor]) -> int:
        """Split into the 1.6 s partials the encoder was trained on, half-overlapping; last one flush right."""
        n = len(frames)
        if n <= PARTIAL_FRAMES:
            out.append(frames)
            return 1
        starts = list(range(0, n - PARTIAL_FRAMES + 1, PARTIAL_FRAMES // 2))
        if starts[-1] != n - PARTIAL_FRAMES:
            starts.append(n - PARTIAL_FRAMES)
        out.extend(frames[s : s + PARTIAL_FRAMES] for s in starts)
        return len(starts)

    def _encode(self, partials: list[torch.Tensor], owners: list[int], sums: np.ndarray) -> None:
        """Add each partial's embedding to its owner's sum (then empty both lists).

        The sums are normalised afterwards: the mean of partials, as resemblyzer embeds an utterance.
        """
        if partials:
            np.add.at(sums, np.asarray(owners, dtype=int), self._encoder.embed_sequences(partials))
        partials.clear()
        owners.clear()

    def _level_gain(self, audio: np.ndarray, binarized: SlidingWindowFeature) -> float:
        """Gain to resemblyzer's level, measured on samples the segmentation calls speech."""
        speech = np.zeros(len(audio), dtype=bool)
        per_frame = self._frames.step * SAMPLE_RATE
        for c in range(binarized.data.shape[0]):
            frames = np.flatnonzero(binarized.data[c].any(axis=1))
            if len(frames):
                start = binarized.sliding_window[c].start * SAMPLE_RATE
                lo = int(start + frames[0] * per_frame)
                hi = int(start + (frames[-1] + 1) * per_frame)
                speech[lo:hi] = True
        return level_gain(audio[speech][:: max(1, int(speech.sum()) // 1_000_000)])  # a million samples is plenty

    def _cluster(self, found: _Embeddings, num_speakers: int | None, low: int, high: int | None) -> np.ndarray:
        """Global speaker per embedding: NME-SC on the reliable ones, nearest centroid for the rest."""
        raw = found.vectors.astype(np.float64)
        core = found.reliable if found.reliable.sum() >= 3 else np.ones(len(raw), dtype=bool)
        # Resemblyzer vectors are all positive, so every pair looks alike until the mean is removed.
        centred = raw - raw[core].mean(axis=0)
        result = nmesc.cluster(
            centred[core],
            num_clusters=num_speakers,
            min_clusters=low,
            max_clusters=high,
            max_points=self.settings.max_clustered,
        )
        labels = result.labels
        if num_speakers is None:
            min_size = max(1, int(np.ceil(self.settings.min_cluster_span / self.settings.step)))
            labels = nmesc.absorb_small_clusters(centred[core], labels, min_size, low)
            labels = nmesc.merge_close_clusters(raw[core], labels, self.settings.merge_threshold, low)
            if core.sum() <= self.settings.max_clustered:  # long recordings: speakers recur, no chains
                # Windows sharing half their audio or more are not independent evidence of a voice.
                labels = nmesc.merge_echo_clusters(
                    centred[core],
                    labels,
                    found.pairs[core, 0] * self.settings.step,
                    self._duration / 2,
                    min_clusters=low,
                )
        if core.all():
            return labels
        everything = np.empty(len(raw), dtype=int)
        everything[core] = labels
        everything[~core] = nmesc.assign(centred[~core], nmesc.centroids_of(centred[core], labels))
        return everything

    @staticmethod
    def _reconstruct(
        segmentations: SlidingWindowFeature, hard: np.ndarray, num_clusters: int, count: SlidingWindowFeature
    ) -> SlidingWindowFeature:
        """Windows' soft activations regrouped by global speaker, then the top ``count`` per frame."""
        chunks, frames, _ = segmentations.data.shape
        clustered = np.full((chunks, frames, num_clusters), np.nan, dtype=np.float32)
        for c in range(chunks):
            for k in np.unique(hard[c]):
                if k != INACTIVE:
                    clustered[c, :, k] = segmentations.data[c][:, hard[c] == k].max(axis=1)
        result: SlidingWindowFeature = SpeakerDiarizationMixin.to_diarization(
            SlidingWindowFeature(clustered, segmentations.sliding_window), count
        )
        return result
