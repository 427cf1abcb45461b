"""Shared fixtures: real Japanese speech clips, re-encoded on the fly into every format we accept."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

FIXTURES = Path(__file__).parent / "fixtures"
SINGLE = (
    FIXTURES / "ja_single.flac"
)  # 「それでは定刻になりましたので、会議を開会いたします。本日の議題は、来年度の予算についてです。」
DIALOGUE = FIXTURES / "ja_dialogue.flac"  # two voices: a citizen's call about 粗大ごみ


# CI sets this (.ci/run): a service the tests need (PostgreSQL, Redis, Chromium) that is not there
# fails the run instead of skipping its tests. Without it the tests are skipped, and the end of the
# run says loudly which services were missing.
REQUIRE_SERVICES = "KIROKU_REQUIRE_SERVICES"
_missing_services: set[str] = set()


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES, "").strip() not in ("", "0")


def missing_service(reason: str) -> None:
    """A test cannot run because ``reason`` (a service is not there): fail under CI, else skip."""
    if services_required():
        pytest.fail(f"{reason}; {REQUIRE_SERVICES} is set, so this fails instead of being skipped", pytrace=False)
    _missing_services.add(reason)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _missing_services:
        return
    terminalreporter.section("SERVICES MISSING: tests skipped", sep="!", red=True, bold=True)
    skipped = terminalreporter.stats.get("skipped", [])
    for reason in _missing_services:
        count = sum(1 for report in skipped if reason in str(report.longrepr))
        terminalreporter.write_line(f"{count} test(s) skipped: {reason}", red=True, bold=True)
    terminalreporter.write_line(
        f"These tests did not run. Start the services (or set {REQUIRE_SERVICES}=1 to make this a failure).",
        yellow=True,
    )


def load_pcm(path: Path = SINGLE) -> np.ndarray:
    """The fixture as 16 kHz mono float32, read with PyAV directly (independent of kiroku's decoder)."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    pcm: np.ndarray = np.concatenate(frames)
    return (pcm.astype(np.float32) / 32768.0) if pcm.dtype == np.int16 else pcm.astype(np.float32)


@dataclass(frozen=True)
class Encoding:
    name: str
    container: str
    suffix: str
    codec: str
    rate: int
    channels: int = 1
    video: bool = False


ENCODINGS = [
    Encoding("wav-pcm16-16k", "wav", ".wav", "pcm_s16le", 16000),
    Encoding("wav-mulaw-8k", "wav", ".wav", "pcm_mulaw", 8000),
    Encoding("wav-alaw-8k", "wav", ".wav", "pcm_alaw", 8000),
    Encoding("wav-stereo-48k", "wav", ".wav", "pcm_s24le", 48000, channels=2),
    Encoding("flac-44k", "flac", ".flac", "flac", 44100),
    Encoding("mp3-stereo-44k", "mp3", ".mp3", "libmp3lame", 44100, channels=2),
    Encoding("m4a-aac-22k", "ipod", ".m4a", "aac", 22050),
    Encoding("aac-adts", "adts", ".aac", "aac", 32000),
    Encoding("ogg-opus-48k", "ogg", ".ogg", "libopus", 48000),
    Encoding("ogg-vorbis", "ogg", ".oga", "vorbis", 44100, channels=2),
    Encoding("webm-opus", "webm", ".webm", "libopus", 48000),
    Encoding("wma", "asf", ".wma", "wmav2", 44100, channels=2),
    Encoding("mp4-video", "mp4", ".mp4", "aac", 48000, channels=2, video=True),
    Encoding("mov-video", "mov", ".mov", "aac", 44100, video=True),
]


def _resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return audio
    positions = np.arange(int(len(audio) * dst / src)) * src / dst
    resampled: np.ndarray = np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)
    return resampled


def encode(audio: np.ndarray, target: Path, enc: Encoding, rate: int = 16000) -> Path:
    """Write ``audio`` (mono float32 at ``rate``) in the given container and codec."""
    samples = _resample(audio, rate, enc.rate)
    layout = "stereo" if enc.channels == 2 else "mono"
    with av.open(str(target), "w", format=enc.container) as container:
        stream = cast(AudioStream, container.add_stream(enc.codec, rate=enc.rate, layout=layout))
        if enc.codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        if enc.codec == "wmav2":
            stream.bit_rate = 128000
        video: VideoStream | None = None
        if enc.video:
            video = container.add_stream("mpeg4", rate=5)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        fmt = str(stream.codec_context.format.name)
        planes = np.repeat(samples[None, :], enc.channels, axis=0)
        chunk = 1024 if enc.codec in {"aac", "libmp3lame", "vorbis", "wmav2"} else 960 if "opus" in enc.codec else 4096
        if enc.codec == "libmp3lame":
            chunk = 1152
        for offset in range(0, samples.shape[0], chunk):
            part = planes[:, offset : offset + chunk]
            frame = _frame(part, fmt, layout, enc.rate)
            frame.pts = offset
            frame.time_base = Fraction(1, enc.rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if video is not None:
            seconds = int(len(samples) / enc.rate) + 1
            for index in range(seconds * 5):
                image = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index % 255, np.uint8), format="rgb24")
                image.pts = index
                for packet in video.encode(image.reformat(format="yuv420p")):
                    container.mux(packet)
            for packet in video.encode(None):
                container.mux(packet)
    return target


def _frame(part: np.ndarray, fmt: str, layout: str, rate: int) -> av.AudioFrame:
    planar = fmt.endswith("p")
    base = fmt.rstrip("p")
    if base == "s16":
        data = (np.clip(part, -1, 1) * 32767).astype(np.int16)
    elif base == "s32":
        data = (np.clip(part, -1, 1) * 2147483647).astype(np.int32)
    elif base == "flt":
        data = part.astype(np.float32)
    elif base == "dbl":
        data = part.astype(np.float64)
    elif base == "u8":
        data = ((np.clip(part, -1, 1) * 127) + 128).astype(np.uint8)
    else:
        raise ValueError(f"sample format {fmt}")
    if not planar:
        data = data.T.reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    return load_pcm(SINGLE)


@pytest.fixture(scope="session")
def pipeline() -> Iterator[object]:
    from transcriber.pipeline import Pipeline

    yield Pipeline()


def run_kiroku(*args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point as a user would, in a child process."""
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "kiroku", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env=env,
        check=False,
    )
