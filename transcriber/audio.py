"""Decoding any common recording to 16 kHz mono float32 with PyAV (FFmpeg inside its wheel).

The whole recording is held once, in a buffer sized from the container's duration, so a
3-hour meeting needs about 700 MB and never a second full copy. A caller that needs the two
channels of a stereo recording (phone calls: one party per channel) passes a sink that sees
each decoded block of both channels; only the mix is kept.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcriber.errors import (
    MAX_HOURS,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    InputNotReadable,
    NotAudio,
    UnsupportedCodec,
)
from transcriber.progress import ProgressFn

SAMPLE_RATE = 16000
log = logging.getLogger(__name__)

# Receives each decoded block of a two-channel recording as (2, n) float32 samples at 16 kHz.
ChannelSink = Callable[[np.ndarray], None]
# FFmpeg's stereo-to-mono downmix, (L + R) × √½, applied the same way, so the mix is the same either way.
_DOWNMIX = np.float32(np.sqrt(0.5))

# A file whose decoded length falls this far short of what its header declares is truncated.
_TRUNCATION_TOLERANCE = 0.9
MAX_SECONDS = MAX_HOURS * 3600.0
# Sample rates of real recordings (telephone 8 kHz … studio 192 kHz, with room to spare). Outside
# them a header is forged: 1 Hz turns 32 KB into 2 GB of 16 kHz samples, 2 GHz exhausts the resampler.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 384_000
# Even digital silence takes some bytes a second (FLAC: about 190 at 16 kHz): memory is reserved
# up front only for as much audio as the file's size makes believable, whatever its header says.
_MIN_BYTES_PER_SECOND = 16


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    sample_rate: int
    channels: int
    codec: str
    container: str


# Demuxers that read other files named inside the input (playlists, concat lists, manifests): a
# recording is one file, and an upload must not make the server read anything else.
_INDIRECT_FORMATS = {"hls", "applehttp", "concat", "dash", "imf", "image2", "sdp", "rtsp", "rtp", "sap", "tee"}


def _open(path: Path) -> av.container.InputContainer:
    try:
        if path.is_dir():
            raise InputNotReadable(f"{path.name} はディレクトリです / is a directory")
        if path.stat().st_size == 0:
            raise EmptyAudio(path.name)
        container = av.open(str(path), metadata_errors="ignore")
        if set(container.format.name.split(",")) & _INDIRECT_FORMATS:
            container.close()
            raise NotAudio(f"{path.name}: {container.format.name}")
        return container
    except FileNotFoundError as exc:
        raise InputNotReadable(f"{path.name}: ファイルがありません / no such file") from exc
    except PermissionError as exc:
        raise InputNotReadable(f"{path.name}: 権限がありません / permission denied") from exc
    except av.error.InvalidDataError as exc:
        raise NotAudio(path.name) from exc
    except av.error.FFmpegError as exc:
        if exc.errno == errno.EACCES:
            raise InputNotReadable(f"{path.name}: 権限がありません / permission denied") from exc
        raise NotAudio(f"{path.name} ({exc})") from exc


def _audio_stream(container: av.container.InputContainer, name: str) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise NotAudio(f"{name}: 音声トラックがありません / no audio track")
    stream = container.streams.audio[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise UnsupportedCodec(name)
    return stream


# Elementary streams without an index: FFmpeg only estimates their duration from the bit rate.
_ESTIMATED_DURATION_FORMATS = {"aac", "mp3", "ac3", "eac3", "amr", "adts"}


def _stated_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    """The duration the file's header states (None where FFmpeg would only estimate it)."""
    if set(container.format.name.split(",")) & _ESTIMATED_DURATION_FORMATS:
        return None
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _wav_shortfall(path: Path) -> float:
    """For RIFF/WAVE: the share of the data chunk's stated bytes missing from the file (0 if whole).

    FFmpeg silently clamps a WAV's length to the file size, so a recorder that died mid-write
    would otherwise look like a shorter, healthy recording.
    """
    with path.open("rb") as handle:
        header = handle.read(4096)
    if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return 0.0
    offset = 12
    while offset + 8 <= len(header):
        chunk, size = header[offset : offset + 4], int.from_bytes(header[offset + 4 : offset + 8], "little")
        if chunk == b"data":
            if size in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                return 0.0
            available = path.stat().st_size - (offset + 8)
            return max(0.0, 1.0 - available / size)
        offset += 8 + size + (size & 1)
    return 0.0


def _declared_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:  # estimated from the bit rate: good enough to size a buffer
        return container.duration / av.time_base
    return 0.0


def _check_limits(stream: av.audio.stream.AudioStream, declared: float, name: str) -> None:
    """Refuse, from the header alone, what no real recording looks like (and what would exhaust memory)."""
    rate = stream.codec_context.sample_rate or 0
    if rate and not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise UnsupportedCodec(f"{name}: サンプリング周波数 {rate} Hz / sample rate {rate} Hz")
    if declared > MAX_SECONDS:
        raise AudioTooLong(f"{name}: {declared / 3600:.1f} 時間 / hours")


def probe(path: str | Path) -> AudioInfo:
    """Read the header only: raises the same errors as :func:`decode` for unusable files."""
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path.name)
        declared = _declared_duration(container, stream)
        _check_limits(stream, declared, path.name)
        return AudioInfo(
            duration=declared,
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
            codec=stream.codec_context.name,
            container=container.format.name,
        )


class _Buffer:
    """A float32 buffer preallocated from the declared length that grows only if the header lied."""

    def __init__(self, expected_samples: int) -> None:
        self._data = np.empty(max(expected_samples, SAMPLE_RATE), dtype=np.float32)
        self.size = 0

    def append(self, samples: np.ndarray) -> None:
        end = self.size + len(samples)
        if end > len(self._data):
            self._data = np.resize(self._data, max(end, int(len(self._data) * 1.5)))
        self._data[self.size : end] = samples
        self.size = end

    def view(self) -> np.ndarray:
        return self._data[: self.size]


def decode(
    path: str | Path,
    progress: ProgressFn | None = None,
    channels: ChannelSink | None = None,
    channel: int | None = None,
) -> np.ndarray:
    """Decode the first audio track to 16 kHz mono float32 in [-1, 1].

    For a two-channel track (other tracks are decoded as usual): ``channels`` is also handed both
    channels block by block, and ``channel`` (0 left, 1 right) returns that channel instead of the mix.
    """
    if channel not in (None, 0, 1):
        raise ValueError(f"channel must be 0 or 1, got {channel}")
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path.name)
        declared = _declared_duration(container, stream)
        _check_limits(stream, declared, path.name)
        stated = _stated_duration(container, stream)
        believable = min(declared, path.stat().st_size / _MIN_BYTES_PER_SECOND)
        buffer = _Buffer(int(believable * SAMPLE_RATE * 1.01) + SAMPLE_RATE)
        most = int(MAX_SECONDS * SAMPLE_RATE)
        stereo = stream.codec_context.channels == 2 and (channels is not None or channel is not None)
        resampler = av.AudioResampler(
            format="fltp" if stereo else "flt", layout="stereo" if stereo else "mono", rate=SAMPLE_RATE
        )

        def keep(out: av.AudioFrame) -> None:
            if not stereo:
                buffer.append(out.to_ndarray().reshape(-1))
                return
            both = out.to_ndarray()
            if channels is not None:
                channels(both)
            buffer.append(both[channel] if channel is not None else both[0] * _DOWNMIX + both[1] * _DOWNMIX)

        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock across timestamp gaps
                for out in resampler.resample(frame):
                    keep(out)
                if buffer.size > most:  # the header said less (or nothing): stop before memory runs out
                    raise AudioTooLong(f"{path.name}: > {MAX_HOURS} 時間 / hours")
                if progress and declared > 0:
                    progress(min(buffer.size / SAMPLE_RATE / declared, 1.0))
            for out in resampler.resample(None):
                keep(out)
        except av.error.DecoderNotFoundError as exc:
            raise UnsupportedCodec(f"{path.name} ({stream.codec_context.name})") from exc
        except (av.error.InvalidDataError, av.error.FFmpegError) as exc:
            if buffer.size == 0:
                raise CorruptAudio(f"{path.name} ({exc})") from exc
            # The file's name and FFmpeg's message (which holds the whole path) only at DEBUG.
            log.warning("decoding stopped early after %.1f s of audio", buffer.size / SAMPLE_RATE)
            log.debug("decoding %s stopped early: %s", path.name, exc)
            raise CorruptAudio(f"{path.name}: {buffer.size / SAMPLE_RATE:.1f} 秒で読み込みが止まりました") from exc
    missing = _wav_shortfall(path)
    if missing > 1 - _TRUNCATION_TOLERANCE:
        raise CorruptAudio(
            f"{path.name}: 録音データの {missing:.0%} が欠けています ({missing:.0%} of the data is missing)"
        )
    audio = buffer.view()
    if audio.size == 0:
        if declared > 0:  # the header promised sound but none could be decoded
            raise CorruptAudio(path.name)
        raise EmptyAudio(path.name)
    decoded = audio.size / SAMPLE_RATE
    if stated is not None and stated > 2.0 and decoded < stated * _TRUNCATION_TOLERANCE:
        raise CorruptAudio(
            f"{path.name}: {stated:.1f} 秒のはずが {decoded:.1f} 秒しか読めません "
            f"(expected {stated:.1f} s, decoded {decoded:.1f} s)"
        )
    return audio
