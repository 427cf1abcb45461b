"""Decoding every accepted format, and the distinct errors for every kind of bad input."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ENCODINGS, SINGLE, Encoding, encode
from transcriber.audio import SAMPLE_RATE, decode, probe
from transcriber.errors import CorruptAudio, EmptyAudio, InputNotReadable, NotAudio, UnsupportedCodec


def _envelope(audio: np.ndarray, hop: int = 1600) -> np.ndarray:
    frames = len(audio) // hop
    envelope: np.ndarray = np.sqrt(np.square(audio[: frames * hop].reshape(frames, hop)).mean(axis=1))
    return envelope


@pytest.mark.parametrize("enc", ENCODINGS, ids=lambda e: e.name)
def test_every_format_decodes_to_the_same_speech(enc: Encoding, speech: np.ndarray, tmp_path: Path) -> None:
    source = encode(speech, tmp_path / f"clip{enc.suffix}", enc)
    audio = decode(source)
    assert audio.dtype == np.float32
    # Same length within codec padding (AAC/Opus/MP3 add up to ~80 ms of priming).
    assert abs(len(audio) / SAMPLE_RATE - len(speech) / SAMPLE_RATE) < 0.15
    # Same loudness contour: speech where the original has speech, silence where it is silent.
    a, b = _envelope(speech), _envelope(audio)
    n = min(len(a), len(b))
    best = max(np.corrcoef(a[: n - 4], b[shift : n - 4 + shift])[0, 1] for shift in range(5))
    assert best > 0.8


def test_probe_reports_telephone_audio(speech: np.ndarray, tmp_path: Path) -> None:
    source = encode(speech, tmp_path / "call.wav", Encoding("mulaw", "wav", ".wav", "pcm_mulaw", 8000))
    info = probe(source)
    assert (info.sample_rate, info.channels, info.codec) == (8000, 1, "pcm_mulaw")
    assert info.duration == pytest.approx(len(speech) / SAMPLE_RATE, abs=0.05)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    notes = tmp_path / "議事メモ.mp3"
    notes.write_text("これは音声ではなくテキストです。" * 50, encoding="utf-8")
    with pytest.raises(NotAudio) as caught:
        decode(notes)
    assert "音声ファイルではありません" in caught.value.message


def test_video_without_sound_is_not_audio(tmp_path: Path) -> None:
    import av

    target = tmp_path / "silent.mp4"
    with av.open(str(target), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24").reformat(
                format="yuv420p"
            )
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(NotAudio, match="音声トラックがありません"):
        probe(target)


def test_zero_length_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(EmptyAudio):
        decode(empty)


def test_wav_with_no_samples(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0)
    target = tmp_path / "nothing.wav"
    target.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    with pytest.raises(EmptyAudio):
        decode(target)


@pytest.mark.parametrize("suffix,enc", [(".wav", ENCODINGS[0]), (".flac", ENCODINGS[4]), (".m4a", ENCODINGS[6])])
def test_truncated_file_is_reported_corrupt(suffix: str, enc: Encoding, speech: np.ndarray, tmp_path: Path) -> None:
    whole = encode(np.tile(speech, 2), tmp_path / f"whole{suffix}", enc)
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises((CorruptAudio, NotAudio)):
        decode(cut)


def test_garbage_after_a_valid_header_is_corrupt(speech: np.ndarray, tmp_path: Path) -> None:
    whole = encode(speech, tmp_path / "whole.flac", ENCODINGS[4])
    data = bytearray(whole.read_bytes())
    rng = np.random.default_rng(7)
    data[200:] = rng.integers(0, 256, len(data) - 200, dtype=np.uint8).tobytes()
    broken = tmp_path / "broken.flac"
    broken.write_bytes(bytes(data))
    with pytest.raises((CorruptAudio, NotAudio)):
        decode(broken)


def test_unknown_codec_in_wav_is_unsupported(tmp_path: Path) -> None:
    # A RIFF/WAVE header whose format tag (0x7A7A) no decoder knows.
    payload = b"\x00\x01" * 16000
    fmt = struct.pack("<HHIIHH", 0x7A7A, 1, 16000, 32000, 2, 16)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    target = tmp_path / "odd.wav"
    target.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    with pytest.raises(UnsupportedCodec):
        decode(target)


def test_missing_file_and_directory_are_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputNotReadable):
        decode(tmp_path / "nowhere.wav")
    with pytest.raises(InputNotReadable):
        decode(tmp_path)


def test_fixture_is_real_speech() -> None:
    audio = decode(SINGLE)
    assert 8.0 < len(audio) / SAMPLE_RATE < 11.0
    assert float(np.abs(audio).max()) > 0.2
