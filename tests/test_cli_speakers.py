"""Speakers in the transcript: found by the diarizer, hinted by the user, re-assigned later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DIALOGUE, run_kiroku

pytest.importorskip("pyannote.audio", reason="speaker diarization needs the [diarization] extra")
pytestmark = pytest.mark.slow


def _load(path: Path) -> dict:  # type: ignore[type-arg]
    data: dict = json.loads(path.read_text(encoding="utf-8"))  # type: ignore[type-arg]
    return data


def _words(data: dict) -> list[tuple[float, str]]:  # type: ignore[type-arg]
    return [(w["start"], w["text"]) for s in data["segments"] for w in s["words"]]


def test_a_two_voice_call_gets_two_speakers_by_first_appearance(tmp_path: Path) -> None:
    out = tmp_path / "call.json"
    result = run_kiroku("transcribe", str(DIALOGUE), "-q", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = _load(out)
    assert [s["id"] for s in data["speakers"]] == ["S1", "S2"]
    by_text = {s["text"]: s["speaker"] for s in data["segments"]}
    caller = [speaker for text, speaker in by_text.items() if "ごみ" in text]
    clerk = [speaker for text, speaker in by_text.items() if "大阪市" in text]
    assert caller == ["S2"] and clerk == ["S1"]
    assert data["turns"] and {t["speaker"] for t in data["turns"]} == {"S1", "S2"}


def test_rttm_output_and_the_exact_count_hint(tmp_path: Path) -> None:
    out = tmp_path / "call.rttm"
    result = run_kiroku("transcribe", str(DIALOGUE), "-q", "--speakers", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines and all(line.startswith("SPEAKER ja_dialogue 1 ") for line in lines)
    assert {line.split()[7] for line in lines} == {"S1"}


def test_relabel_assigns_speakers_without_transcribing_again(tmp_path: Path) -> None:
    out = tmp_path / "call.json"
    first = run_kiroku("transcribe", str(DIALOGUE), "-q", "--diarization", "off", "-o", str(out))
    assert first.returncode == 0, first.stderr
    before = _load(out)
    assert {s["speaker"] for s in before["segments"]} == {"S1"}
    again = run_kiroku("relabel", str(out), "--audio", str(DIALOGUE), "--speakers", "2")
    assert again.returncode == 0, again.stderr
    after = _load(out)
    assert {s["speaker"] for s in after["segments"]} == {"S1", "S2"}
    # Same words, same timings: only the speakers changed.
    assert _words(after) == _words(before)
