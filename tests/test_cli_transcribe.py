"""`kiroku transcribe` as a clerk or administrator runs it: real model, real audio, real exit codes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ENCODINGS, SINGLE, Encoding, encode, run_kiroku
from transcriber.transcript import Transcript

pytestmark = pytest.mark.slow


def _assert_one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kiroku: ")


def test_json_transcript_with_word_timings(tmp_path: Path) -> None:
    out = tmp_path / "会議.json"
    result = run_kiroku("transcribe", str(SINGLE), "--format", "json", "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(out.read_text(encoding="utf-8"))
    transcript = Transcript.model_validate(data)
    assert data["schema"] == "kiroku.transcript/1" and transcript.language == "ja"
    assert transcript.duration == pytest.approx(9.45, abs=0.1)
    text = transcript.text
    for expected in ("会議", "開会", "議題", "予算"):
        assert expected in text
    assert " " not in text  # no spurious spaces in Japanese
    assert "。" in text  # punctuation kept
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) > 10
    assert all(0 <= w.confidence <= 1 for w in words if w.confidence is not None)
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for segment in transcript.segments:
        assert segment.words[0].start >= segment.start - 0.01 and segment.words[-1].end <= segment.end + 0.01
        assert "".join(w.text for w in segment.words) == segment.text
    # 「開会」 is spoken around 2.5–3.5 s into the clip; its words must be timed there.
    kai = next(w for w in words if "開" in w.text)
    assert 1.5 < kai.start < 4.5


@pytest.mark.parametrize("suffix", [".srt", ".vtt", ".txt"])
def test_format_follows_the_output_extension(suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"minutes{suffix}"
    result = run_kiroku("transcribe", str(SINGLE), "-o", str(out), "-q")
    assert result.returncode == 0, result.stderr
    body = out.read_text(encoding="utf-8")
    assert "開会" in body
    if suffix == ".srt":
        assert body.startswith("1\n00:00:0")
    elif suffix == ".vtt":
        assert body.startswith("WEBVTT")
    else:
        assert body.startswith("[00:00:0")


def test_progress_bar_on_stderr_and_text_on_stdout() -> None:
    result = run_kiroku("transcribe", str(SINGLE))
    assert result.returncode == 0
    assert "開会" in result.stdout
    assert "文字起こし" in result.stderr and "100%" in result.stderr


@pytest.mark.parametrize(
    "enc",
    [e for e in ENCODINGS if e.name in {"mp3-stereo-44k", "m4a-aac-22k", "wav-mulaw-8k", "mp4-video"}],
    ids=lambda e: e.name,
)
def test_common_recording_formats_transcribe(enc: Encoding, speech: np.ndarray, tmp_path: Path) -> None:
    source = encode(speech, tmp_path / f"録音{enc.suffix}", enc)
    result = run_kiroku("transcribe", str(source), "-q")
    assert result.returncode == 0, result.stderr
    assert "開会" in result.stdout or "会議" in result.stdout


def _wav(path: Path, samples: np.ndarray, tag: int = 1) -> Path:
    pcm = (samples * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", tag, 1, 16000, 32000, 2, 16)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    return path


def _bad_inputs(tmp: Path, speech: np.ndarray) -> dict[str, tuple[Path, int]]:
    text = tmp / "メモ.wav"
    text.write_text("音声ではありません\n" * 100, encoding="utf-8")
    whole = _wav(tmp / "whole.wav", np.tile(speech, 2))
    truncated = tmp / "truncated.wav"
    truncated.write_bytes(whole.read_bytes()[:50_000])
    empty = tmp / "empty.m4a"
    empty.touch()
    return {
        "not-audio": (text, 4),
        "truncated": (truncated, 5),
        "unsupported-codec": (_wav(tmp / "odd.wav", speech[:16000], tag=0x7A7A), 6),
        "zero-length": (empty, 7),
        "missing": (tmp / "どこにもない.wav", 3),
    }


@pytest.mark.parametrize("case", ["not-audio", "truncated", "unsupported-codec", "zero-length", "missing"])
def test_bad_input_gets_one_line_and_a_distinct_exit_code(case: str, speech: np.ndarray, tmp_path: Path) -> None:
    source, code = _bad_inputs(tmp_path, speech)[case]
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    result = run_kiroku("transcribe", str(source), "-o", str(out), "-q")
    assert result.returncode == code
    _assert_one_line_error(result.stderr)
    assert list(out.parent.iterdir()) == []  # no partial output


def test_unwritable_output_fails_before_work(tmp_path: Path) -> None:
    result = run_kiroku("transcribe", str(SINGLE), "-o", str(tmp_path / "no-such-folder" / "x.json"), "-q")
    assert result.returncode == 8
    _assert_one_line_error(result.stderr)
    assert "出力ファイルを書き込めません" in result.stderr


def test_no_speech_succeeds_with_an_empty_transcript_and_a_warning(tmp_path: Path) -> None:
    silence = _wav(tmp_path / "silence.wav", np.zeros(16000 * 15, np.float32))
    out = tmp_path / "silence.json"
    result = run_kiroku("transcribe", str(silence), "-o", str(out), "-q")
    assert result.returncode == 0
    assert "発話が検出されませんでした" in result.stderr
    data = json.loads(out.read_text())
    assert data["segments"] == [] and data["duration"] == pytest.approx(15.0)


def test_missing_model_is_a_clear_message(tmp_path: Path) -> None:
    result = run_kiroku("transcribe", str(SINGLE), "-q", "--model", str(tmp_path / "large-v3"))
    assert result.returncode == 9
    _assert_one_line_error(result.stderr)
    assert "kiroku models install" in result.stderr


def test_language_auto_detects_japanese(tmp_path: Path) -> None:
    out = tmp_path / "auto.json"
    result = run_kiroku("transcribe", str(SINGLE), "--language", "auto", "-o", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["language"] == "ja"


def test_help_is_available_everywhere() -> None:
    for args in (["--help"], ["transcribe", "--help"], ["models", "--help"], ["models", "install", "--help"]):
        result = run_kiroku(*args)
        assert result.returncode == 0 and "Usage" in result.stdout
