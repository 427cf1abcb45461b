"""Stereo phone calls: one party per channel, so speakers come from the channels, not from voices.

The decoder hands :class:`ChannelAnalyzer` each block of the two channels while it writes the mix it
keeps anyway; the analyser keeps only a few numbers per 30 ms frame (14 bytes, about 1.7 MB an hour),
so a long mono-as-stereo recording never costs a second copy of its audio.

A channel is *active* in a frame when webrtcvad hears speech in it (above the speech detector's
energy floor) and the other channel is not ``margin_db`` louder: the other party's voice leaking
into a line (echo, side-tone) is far quieter than that party's own channel, while a real overlap
is loud in both. ``split`` smooths each channel's active frames like the speech detector does and
makes them the turns of S1 (left, first channel) and S2 (right).

``auto`` splits only when the channels clearly carry different parties: most of the speech is
active in one channel alone, each channel has speech of its own, and the channels are not copies
of each other (pooled correlation over speech frames). Mono recorded as stereo, at any gain, is
active in both channels at once (or, at a large gain difference, in one channel only) and fully
correlated: it is mixed and the diarizer clusters voices as for any mono file. So is a stereo
microphone on a meeting table, where every voice reaches both channels at similar levels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import webrtcvad

from transcriber.audio import SAMPLE_RATE
from transcriber.transcript import SpeakerTurn
from transcriber.vad import FRAME, FRAME_MS, VadOptions, speech_spans

log = logging.getLogger(__name__)

CHANNEL_MODES = ("auto", "split", "mix")
_BLOCK = SAMPLE_RATE  # analyse about a second at a time (decoder frames can be shorter than 30 ms)


@dataclass(frozen=True)
class ChannelOptions:
    margin_db: float = 10.0  # a channel this much quieter than the other only carries its leak
    min_own_share: float = 0.7  # auto: share of the speech active in one channel alone
    min_side_share: float = 0.1  # auto: each channel's share of that one-channel speech
    min_side_seconds: float = 1.0  # auto: and at least this much of it
    max_correlation: float = 0.9  # auto: more correlated channels are copies of one signal


@dataclass(frozen=True)
class ChannelActivity:
    """What the analyser found: per-frame activity of each channel and how alike the channels are."""

    active: np.ndarray  # (2, frames) bool
    correlation: float  # normalised, at lag 0, pooled over frames where either channel is voiced

    @property
    def own_seconds(self) -> tuple[float, float]:
        left, right = self.active
        seconds = FRAME_MS / 1000
        return float(np.sum(left & ~right)) * seconds, float(np.sum(right & ~left)) * seconds

    @property
    def own_share(self) -> float:
        """The share of speech frames active in exactly one channel."""
        speech = int(np.sum(self.active.any(axis=0)))
        return float(np.sum(self.active[0] ^ self.active[1])) / speech if speech else 0.0

    def differ(self, options: ChannelOptions | None = None) -> bool:
        """Whether the two channels carry two different parties (``auto`` splits then)."""
        options = options or ChannelOptions()
        left, right = self.own_seconds
        least = max(options.min_side_seconds, options.min_side_share * (left + right))
        return (
            self.own_share >= options.min_own_share
            and min(left, right) >= least
            and abs(self.correlation) <= options.max_correlation  # an inverted copy is a copy too
        )

    def turns(self, vad: VadOptions | None = None) -> list[SpeakerTurn]:
        """Each channel's speech as turns: S1 the left (first) channel, S2 the right one."""
        vad = vad or VadOptions()
        turns = [
            SpeakerTurn(start=round(span.start, 3), end=round(span.end, 3), speaker=f"S{channel + 1}")
            for channel in (0, 1)
            for span in speech_spans(self.active[channel], vad)
        ]
        return sorted(turns, key=lambda t: (t.start, t.speaker))


class ChannelAnalyzer:
    """Fed (2, n) float32 blocks at 16 kHz by :func:`transcriber.audio.decode`; keeps frame facts only."""

    def __init__(self, vad: VadOptions | None = None, options: ChannelOptions | None = None) -> None:
        self._vad_options = vad or VadOptions()
        self._options = options or ChannelOptions()
        self._vad = [webrtcvad.Vad(self._vad_options.aggressiveness) for _ in range(2)]
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._energy: list[np.ndarray] = []  # (2, f) mean square per frame
        self._voiced: list[np.ndarray] = []  # (2, f)
        self._dot: list[np.ndarray] = []  # (f,) mean of left × right per frame

    def __call__(self, block: np.ndarray) -> None:
        if block.ndim != 2 or block.shape[0] != 2:
            raise ValueError(f"expected (2, n) samples, got {block.shape}")
        self._pending.append(np.array(block, dtype=np.float32))
        self._pending_samples += block.shape[1]
        if self._pending_samples >= _BLOCK:
            self._analyse(final=False)

    def _analyse(self, final: bool) -> None:
        if not self._pending:
            return
        samples = np.concatenate(self._pending, axis=1)
        frames = samples.shape[1] // FRAME
        rest = samples[:, frames * FRAME :]
        self._pending = [rest] if rest.shape[1] and not final else []
        self._pending_samples = rest.shape[1] if self._pending else 0
        if frames == 0:
            return
        framed = samples[:, : frames * FRAME].reshape(2, frames, FRAME)
        energy = np.square(framed).mean(axis=2)
        floor = 10 ** (self._vad_options.floor_db / 10)  # on the mean square
        voiced = np.zeros((2, frames), dtype=bool)
        step = FRAME * 2
        for channel in (0, 1):
            pcm = (np.clip(framed[channel], -1.0, 1.0) * 32767).astype("<i2").tobytes()
            vad = self._vad[channel]
            for i in np.flatnonzero(energy[channel] >= floor):
                voiced[channel, i] = vad.is_speech(pcm[i * step : (i + 1) * step], SAMPLE_RATE)
        self._energy.append(energy.astype(np.float32))
        self._voiced.append(voiced)
        self._dot.append((np.einsum("ij,ij->i", framed[0], framed[1]) / FRAME).astype(np.float32))

    def activity(self) -> ChannelActivity | None:
        """The result once decoding is over; None when nothing was fed (the recording is not stereo)."""
        self._analyse(final=True)
        if not self._energy:
            return None
        energy = np.concatenate(self._energy, axis=1)
        voiced = np.concatenate(self._voiced, axis=1)
        dot = np.concatenate(self._dot)
        # A channel is heard in a frame unless the other one is margin_db louder (leak, echo).
        ratio = 10 ** (self._options.margin_db / 10)
        active = voiced & (energy * ratio >= energy[::-1])
        speech = voiced.any(axis=0)
        power = energy[:, speech].astype(np.float64).sum(axis=1)
        pooled = float(dot[speech].astype(np.float64).sum())
        correlation = pooled / float(np.sqrt(power[0] * power[1])) if power.all() else 0.0
        return ChannelActivity(active=active, correlation=correlation)


def check_mode(mode: str) -> str:
    if mode not in CHANNEL_MODES:
        raise ValueError(f"channels must be one of {', '.join(CHANNEL_MODES)}")
    return mode


def channel_turns(
    activity: ChannelActivity | None,
    mode: str,
    two_speakers_possible: bool = True,
    vad: VadOptions | None = None,
    options: ChannelOptions | None = None,
) -> list[SpeakerTurn] | None:
    """The speaker turns by channel, or None when the recording is to be mixed and diarized."""
    if check_mode(mode) == "mix":
        return None
    if activity is None:
        if mode == "split":
            log.warning("--channels split: the recording is not stereo; mixing")
        return None
    left, right = activity.own_seconds
    log.info(
        "channels: %.0f %% of speech in one channel only (left %.1f s, right %.1f s), correlation %.2f",
        100 * activity.own_share,
        left,
        right,
        activity.correlation,
    )
    if mode == "auto" and not (two_speakers_possible and activity.differ(options)):
        return None
    return activity.turns(vad)


def silence_outside(audio: np.ndarray, turns: list[SpeakerTurn], pad: float) -> np.ndarray:
    """Zero ``audio`` in place outside ``turns`` (one party's, widened by ``pad`` seconds): what is
    left of a channel is its own party's voice, not the other party's leak between its turns."""
    cursor = 0
    for turn in sorted(turns, key=lambda t: t.start):
        start = max(0, int((turn.start - pad) * SAMPLE_RATE))
        if start > cursor:
            audio[cursor:start] = 0.0
        cursor = max(cursor, int((turn.end + pad) * SAMPLE_RATE))
    audio[cursor:] = 0.0
    return audio
