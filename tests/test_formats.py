"""Exports a clerk opens elsewhere: SRT and WebVTT players, plain text, the JSON schema."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from transcriber.formats import render
from transcriber.transcript import Segment, Speaker, Transcript, Word


@pytest.fixture()
def transcript() -> Transcript:
    return Transcript(
        duration=3725.5,
        speakers=[Speaker(id="S1", name="議長"), Speaker(id="S2")],
        segments=[
            Segment(
                start=0.0,
                end=2.5,
                speaker="S1",
                text="開会いたします。",
                words=[Word(start=0.0, end=1.0, text="開会", confidence=0.9)],
            ),
            Segment(start=3723.25, end=3725.004, speaker="S2", text="はい。"),
        ],
    )


def test_json_follows_the_schema(transcript: Transcript) -> None:
    data = json.loads(render(transcript, "json"))
    assert data["schema"] == "kiroku.transcript/1"
    assert data["segments"][0]["words"][0] == {"start": 0.0, "end": 1.0, "text": "開会", "confidence": 0.9}
    assert Transcript.model_validate(data) == transcript


def test_srt_numbering_and_hour_timestamps(transcript: Transcript) -> None:
    srt = render(transcript, "srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\n議長: 開会いたします。\n")
    assert "2\n01:02:03,250 --> 01:02:05,004\nS2: はい。\n" in srt


def test_vtt_has_header_and_voice_tags(transcript: Transcript) -> None:
    vtt = render(transcript, "vtt")
    assert vtt.startswith("WEBVTT\n")
    assert "01:02:03.250 --> 01:02:05.004\n<v S2>はい。" in vtt


def test_txt_lines_carry_time_and_speaker(transcript: Transcript) -> None:
    assert render(transcript, "txt").splitlines() == ["[00:00:00] 議長: 開会いたします。", "[01:02:03] S2: はい。"]


def test_a_segment_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Segment(start=5.0, end=4.0, text="x")


def test_rttm_lines_for_diarization_tools(transcript: Transcript) -> None:
    from transcriber.formats import to_rttm

    lines = to_rttm(transcript, "区政 会議").splitlines()
    assert lines[0] == "SPEAKER 区政_会議 1 0.000 2.500 <NA> <NA> S1 <NA> <NA>"
    assert lines[1].split()[3:5] == ["3723.250", "1.754"]
